package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/hookshift/hookshift/queue"
)

// monitoringPublic are the /monitoring/ files a browser fetches without
// credentials (the web app manifest and its icons; a manifest request never
// carries them): they hold nothing but asynqmon's own logo and name.
var monitoringPublic = map[string]bool{
	"/monitoring/manifest.json":              true,
	"/monitoring/favicon.ico":                true,
	"/monitoring/favicon-16x16.png":          true,
	"/monitoring/favicon-32x32.png":          true,
	"/monitoring/apple-touch-icon.png":       true,
	"/monitoring/android-chrome-192x192.png": true,
	"/monitoring/android-chrome-512x512.png": true,
}

// monitoringCSP keeps the UI to its own origin: it loads nothing from
// elsewhere (it works air-gapped) and cannot be framed by another site.
// asynqmon's page needs its inline boot script and the inline styles its
// component library injects.
const monitoringCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// monitoring wraps asynqmon: cross-site state changes are refused, every
// path but the manifest and icons needs the root token, and the HTML is
// served without links to other origins.
func (s *Server) monitoring(ui http.Handler) http.Handler {
	authed := s.operatorAuth(localHTML(ui))
	public := localHTML(ui)
	return s.sameOriginOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && monitoringPublic[r.URL.Path] {
			public.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	}))
}

// sameOriginOnly refuses state-changing requests (any method but GET, HEAD
// and OPTIONS) that a browser marks as coming from another site, by
// Sec-Fetch-Site or, lacking it, by an Origin whose host is not ours: a page
// elsewhere cannot use the operator's cached basic-auth login to pause a
// queue or delete tasks. Requests without either header (curl, the CLI) are
// not from a browser and pass.
func (s *Server) sameOriginOnly(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := s.reqLog(r)
		log.Warn().Str("method", r.Method).Str("path", r.URL.Path).Str("origin", r.Header.Get("Origin")).
			Str("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")).Msg("cross-site request refused")
		writeError(w, http.StatusForbidden, "cross_site_request", "state-changing requests must come from hookshift's own pages (Origin or Sec-Fetch-Site says another site)")
	}))
	return cop.Handler(next)
}

// reExternal matches a tag attribute pointing at another origin: asynqmon's
// index.html links Google Fonts (Roboto, Material Icons), which fails
// air-gapped and tells a third party who opens the UI. The UI draws its
// icons as SVG and falls back to the system sans-serif, so the links are
// dropped rather than the fonts vendored.
var reExternal = regexp.MustCompile(`<link[^>]*\shref="(?:https?:)?//[^"]*"[^>]*>`)

// localHTML serves asynqmon's HTML pages with every link to another origin
// removed, and under monitoringCSP; and its API's answers with every error
// text redacted (queue.RedactText): a task's last error may quote a
// destination's answer, with a customer's email in it. Scripts and images
// pass through untouched.
func localHTML(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", monitoringCSP)
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead || strings.HasPrefix(r.URL.Path, "/monitoring/static/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		ct := rec.header.Get("Content-Type")
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/monitoring/api/"):
			body = redactErrorTexts(body)
		case strings.HasPrefix(ct, "text/html"):
			body = reExternal.ReplaceAll(body, nil)
			rec.header.Set("Content-Type", ct)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
	})
}

// bufferedResponse holds a response so it can be rewritten before sending.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(code int)        { b.status = code }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// redactErrorTexts passes every "error_message" of an asynqmon API answer
// (a task's last error) through queue.RedactText. An answer that is not
// JSON is replaced rather than shown unredacted.
func redactErrorTexts(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"error_message"`)) {
		return body
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []byte(`{"error":"answer hidden: it could not be redacted"}`)
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && k == "error_message" {
					t[k] = queue.RedactText(s)
					continue
				}
				walk(val)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"error":"answer hidden: it could not be redacted"}`)
	}
	return append(out, '\n')
}
