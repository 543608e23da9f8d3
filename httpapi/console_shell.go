package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// shell serves the console's built front-end: its files, and index.html for
// every other path under /console/ (the single-page app routes by
// location.pathname). Every file is read, hashed and gzipped once, when the
// routes are built; the assets are embedded and never change while we run.
type shell struct {
	files     map[string]*asset
	index     []byte // index.html, with nonce placeholders
	ancestors string // CSP frame-ancestors value
}

type asset struct {
	body, gz  []byte // gz is nil when compressing does not pay
	ctype     string
	etag      string
	immutable bool
}

// cspNoncePlaceholder is replaced in index.html by each response's nonce,
// which CodeMirror's one injected <style> element carries.
const cspNoncePlaceholder = "__CSP_NONCE__"

// hashedName matches file names that carry a content hash ("app-3FQX2ZLB.js",
// "index.Bx12_a9c.css"): at least 8 hash characters with an upper-case
// letter or digit, so "codemirror-language.js" is not taken for one.
var hashedName = regexp.MustCompile(`[.-]([A-Za-z0-9_]*[A-Z0-9][A-Za-z0-9_]*)\.[A-Za-z0-9]+$`)

func isHashed(name string) bool {
	m := hashedName.FindStringSubmatch(name)
	return m != nil && len(m[1]) >= 8
}

// minGzip is the size below which a gzip header costs more than it saves.
const minGzip = 512

func newShell(fsys fs.FS, ancestors []string) (*shell, error) {
	sh := &shell{files: map[string]*asset{}, ancestors: "'none'"}
	if len(ancestors) > 0 {
		sh.ancestors = strings.Join(ancestors, " ")
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read console asset %s: %w", p, err)
		}
		if p == "index.html" {
			sh.index = b
			return nil
		}
		a := &asset{body: b, ctype: contentType(p), immutable: isHashed(path.Base(p))}
		sum := sha256.Sum256(b)
		a.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
		if compressible(a.ctype) && len(b) >= minGzip {
			a.gz = gzipBytes(b)
		}
		sh.files[p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sh.index == nil {
		return nil, fmt.Errorf("console assets have no index.html at their root")
	}
	return sh, nil
}

func contentType(p string) string {
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg") || strings.Contains(ctype, "wasm")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reads Accept-Encoding well enough for browsers: gzip listed
// and not refused with q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// assetExt are extensions the front-end's files have; a missing one is a
// 404, not the index page (a stale bundle name must not load HTML as script).
var assetExt = map[string]bool{".js": true, ".mjs": true, ".css": true, ".map": true, ".json": true, ".png": true,
	".svg": true, ".ico": true, ".woff": true, ".woff2": true, ".txt": true, ".wasm": true, ".webp": true}

func (sh *shell) csp(nonce string) string {
	style := "'self'"
	if nonce != "" {
		style += " 'nonce-" + nonce + "'"
	}
	return "default-src 'self'; script-src 'self'; style-src " + style + "; img-src 'self' data:; connect-src 'self'; " +
		"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors " + sh.ancestors
}

func (sh *shell) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if sh.ancestors == "'none'" {
		h.Set("X-Frame-Options", "DENY") // for browsers without CSP frame-ancestors
	}
	p := strings.TrimPrefix(r.URL.Path, "/console/")
	if a, ok := sh.files[p]; ok {
		h.Set("Content-Security-Policy", sh.csp(""))
		sh.serveAsset(w, r, a)
		return
	}
	if assetExt[path.Ext(p)] {
		h.Set("Content-Security-Policy", sh.csp(""))
		writeError(w, http.StatusNotFound, "not_found", "no console file "+p)
		return
	}
	sh.serveIndex(w, r)
}

func (sh *shell) serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if a.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}

// serveIndex answers the app's page with a fresh CSP nonce. It is never
// cached, so a new bundle is picked up on the next load.
func (sh *shell) serveIndex(w http.ResponseWriter, r *http.Request) {
	nb := make([]byte, 18)
	if _, err := rand.Read(nb); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	nonce := base64.StdEncoding.EncodeToString(nb)
	h := w.Header()
	h.Set("Content-Security-Policy", sh.csp(nonce))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("Vary", "Accept-Encoding")
	body := bytes.ReplaceAll(sh.index, []byte(cspNoncePlaceholder), []byte(nonce))
	if len(body) >= minGzip && acceptsGzip(r) {
		if gz := gzipBytes(body); gz != nil {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}
