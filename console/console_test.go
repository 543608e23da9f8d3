package console

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// The embedded bundle is complete and self-contained: index.html carries the
// CSP nonce placeholder the server fills, every file it links is embedded,
// and neither the page nor the stylesheet loads anything from elsewhere.
func TestEmbeddedBundle(t *testing.T) {
	fsys := FS()
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		t.Fatalf("index.html: %v", err)
	}
	page := string(index)
	if !strings.Contains(page, `<meta name="csp-nonce" content="__CSP_NONCE__">`) {
		t.Error("index.html lacks the csp-nonce meta the server fills in (CodeMirror's <style> needs it)")
	}
	if strings.Contains(page, "<style") || regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(page) || strings.Contains(page, " style=") {
		t.Error("index.html has inline script or style; the CSP refuses them")
	}
	refs := regexp.MustCompile(`(?:src|href)="(/console/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html links %d console files, want the script and the stylesheet", len(refs))
	}
	for _, m := range refs {
		name := strings.TrimPrefix(m[1], "/console/")
		if strings.HasSuffix(name, "/") || !strings.Contains(name, ".") {
			continue // a page link, not a file
		}
		if _, err := fs.Stat(fsys, name); err != nil {
			t.Errorf("index.html links %s, which is not embedded: %v", m[1], err)
		}
	}
	css, err := fs.ReadFile(fsys, "app.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{page, string(css)} {
		if m := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*`).FindString(text); m != "" {
			t.Errorf("the console refers to another origin: %s", m)
		}
		if strings.Contains(text, "@import") || strings.Contains(text, "@font-face") {
			t.Error("the console imports a stylesheet or a web font")
		}
	}
}
