package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/httpapi"
)

// placeholderAssets stands in for the front-end's bundle.
func placeholderAssets() fstest.MapFS {
	return fstest.MapFS{
		"index.html": {Data: []byte(`<!doctype html><meta name="csp-nonce" content="__CSP_NONCE__"><script type="module" src="/console/app.js"></script>` +
			strings.Repeat("<!-- padding -->", 64))},
		"app.js":             {Data: []byte(strings.Repeat("console.log('hookshift');\n", 200))},
		"app.css":            {Data: []byte("body{margin:0}")},
		"chunk-3FQX2ZLB.js":  {Data: []byte("export const x = 1;")},
		"codemirror-lang.js": {Data: []byte("export const y = 2;")},
	}
}

func shellServer(t *testing.T, opts httpapi.ConsoleOptions) *httptest.Server {
	t.Helper()
	if opts.Assets == nil {
		opts.Assets = placeholderAssets()
	}
	srv := &httpapi.Server{Log: zerolog.Nop(), Console: opts}
	ts := httptest.NewServer(srv.Handler(httpapi.Roles{API: true}))
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "identity") // the transport must not gunzip for us
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Every deep link answers the app's page, with a strict CSP whose style
// nonce is the one written into the page, fresh per response.
func TestConsoleShellDeepLinksAndCSP(t *testing.T) {
	ts := shellServer(t, httpapi.ConsoleOptions{})
	nonces := map[string]bool{}
	for _, p := range []string{"/console/", "/console/sources", "/console/events", "/console/events/evt_abc",
		"/console/destinations/dst_abc", "/console/signin?error=link_invalid"} {
		resp, body := get(t, ts.URL+p)
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`src="/console/app.js"`)) {
			t.Fatalf("%s: %d %.80s", p, resp.StatusCode, body)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		m := regexp.MustCompile(`style-src 'self' 'nonce-([A-Za-z0-9+/=]+)';`).FindStringSubmatch(csp)
		if m == nil || !bytes.Contains(body, []byte(`content="`+m[1]+`"`)) || bytes.Contains(body, []byte("__CSP_NONCE__")) {
			t.Fatalf("%s: nonce of CSP %q not in the page", p, csp)
		}
		nonces[m[1]] = true
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "img-src 'self' data:", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows unsafe sources: %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" ||
			resp.Header.Get("X-Frame-Options") != "DENY" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "no-cache") {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
	}
	if len(nonces) != 6 {
		t.Fatalf("nonces were reused: %v", nonces)
	}
	if resp, _ := get(t, ts.URL+"/console"); resp.StatusCode != 301 || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("/console: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, ts.URL+"/console/old-BUNDLE12.js"); resp.StatusCode != 404 {
		t.Fatalf("a missing script answered %d, not 404", resp.StatusCode)
	}
	if resp, _ := get(t, ts.URL+"/console/api/nope"); resp.StatusCode != 404 {
		t.Fatalf("an unknown console API path answered %d", resp.StatusCode)
	}
}

func TestConsoleAssetsCachingAndGzip(t *testing.T) {
	ts := shellServer(t, httpapi.ConsoleOptions{})
	resp, plain := get(t, ts.URL+"/console/app.js")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("app.js: %d %v", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") == "" {
		t.Fatalf("an unhashed asset must be revalidated: %v", resp.Header)
	}
	resp, gz := get(t, ts.URL+"/console/app.js", "Accept-Encoding", "gzip, br")
	if resp.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(plain) {
		t.Fatalf("app.js not gzipped: %v (%d vs %d bytes)", resp.Header, len(gz), len(plain))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if un, _ := io.ReadAll(zr); !bytes.Equal(un, plain) {
		t.Fatal("gzipped app.js differs from app.js")
	}
	if resp, _ := get(t, ts.URL+"/console/app.js", "Accept-Encoding", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent although refused")
	}
	resp, _ = get(t, ts.URL+"/console/app.js", "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != 304 {
		t.Fatalf("revalidation: %d", resp.StatusCode)
	}
	if resp, _ := get(t, ts.URL+"/console/chunk-3FQX2ZLB.js"); resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("hashed asset: %v", resp.Header.Get("Cache-Control"))
	}
	if resp, _ := get(t, ts.URL+"/console/codemirror-lang.js"); resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("a name that is not a hash was cached for good: %v", resp.Header.Get("Cache-Control"))
	}
	resp, _ = get(t, ts.URL+"/console/", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("index.html not gzipped: %v", resp.Header)
	}
}

func TestConsoleFrameAncestors(t *testing.T) {
	anc, err := httpapi.ParseFrameAncestors("https://dash.example.com, 'self' https://*.psp.example:8443")
	if err != nil {
		t.Fatal(err)
	}
	ts := shellServer(t, httpapi.ConsoleOptions{FrameAncestors: anc})
	resp, _ := get(t, ts.URL+"/console/")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors https://dash.example.com 'self' https://*.psp.example:8443") {
		t.Fatalf("CSP %q", csp)
	}
	if resp.Header.Get("X-Frame-Options") != "" {
		t.Fatal("X-Frame-Options DENY would block the allowed ancestors")
	}
	for _, bad := range []string{"dash.example.com", "https://a.example; script-src *", "'unsafe-inline'", "javascript://x", "https://*", "https://a.*.example", "*"} {
		if _, err := httpapi.ParseFrameAncestors(bad); err == nil {
			t.Errorf("%q accepted as a frame ancestor", bad)
		}
	}
}

// Without assets (a build without the front-end) /console/ is not served,
// and the rest of the API is unaffected.
func TestConsoleWithoutAssets(t *testing.T) {
	srv := &httpapi.Server{Log: zerolog.Nop()}
	ts := httptest.NewServer(srv.Handler(httpapi.Roles{API: true}))
	defer ts.Close()
	if resp, _ := get(t, ts.URL+"/console/"); resp.StatusCode != 404 {
		t.Fatalf("/console/ without assets: %d", resp.StatusCode)
	}
}
