package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/httpapi"
)

// browser is a cookie-keeping client of the console, as a browser is: it
// does not follow redirects, so a test sees each one.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (s *stack) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, base: s.api.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request with the browser's cookies; header pairs follow body.
func (b *browser) do(method, path string, body any, header ...string) (*http.Response, map[string]any) {
	b.t.Helper()
	var r io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(v)
	default:
		j, _ := json.Marshal(v)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.base+path, r)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

// change sends a change with the session's CSRF token, as the console does.
func (b *browser) change(method, path string, body any) (*http.Response, map[string]any) {
	b.t.Helper()
	return b.do(method, path, body, "X-CSRF-Token", b.csrf)
}

// signIn exchanges a tenant token for a session and learns its CSRF token.
func (b *browser) signIn(token string) map[string]any {
	b.t.Helper()
	resp, out := b.do("POST", "/console/auth/token", map[string]any{"token": token})
	if resp.StatusCode != 200 {
		b.t.Fatalf("sign in: %d %v", resp.StatusCode, out)
	}
	b.csrf = out["csrf_token"].(string)
	return out
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func sessionCookieOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "hookshift_session" {
			return c
		}
	}
	t.Fatalf("no hookshift_session cookie in %v", resp.Header.Values("Set-Cookie"))
	return nil
}

// The whole portal-link story: a platform's backend asks for a link, the
// merchant's browser opens it and is signed in with the link gone from the
// URL, and nobody can use the link again.
func TestPortalLinkSignsInOnce(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	srcID, _ := s.source(tok)

	out := s.mustCall(201, "POST", "/v1/portal-links", tok, nil)
	path := out["path"].(string)
	if !strings.HasPrefix(path, "/console/auth?link=") || out["url"] != s.api.URL+path {
		t.Fatalf("link: %v", out)
	}
	exp, err := time.Parse(time.RFC3339, out["expires_at"].(string))
	if err != nil || exp.Sub(s.clock.Now()) < 14*time.Minute || exp.Sub(s.clock.Now()) > 15*time.Minute {
		t.Fatalf("expires_at %v: want 15 minutes from now (%v)", out["expires_at"], err)
	}
	link := strings.TrimPrefix(path, "/console/auth?link=")
	keys, _ := s.rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		v, _ := s.rdb.Get(ctx, k).Result()
		if strings.Contains(k, link) || strings.Contains(v, link) {
			t.Fatalf("the link is stored in clear under %s", k)
		}
	}

	b := s.browser()
	if resp, _ := b.do("HEAD", path, nil); resp.StatusCode != 200 || len(resp.Cookies()) != 0 {
		t.Fatalf("HEAD of a link (a link checker's probe): %d %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ := b.do("GET", path, nil)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("open link: %d to %q, want 302 to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := sessionCookieOf(t, resp)
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != int((12*time.Hour).Seconds()) {
		t.Fatalf("cookie: %+v", c)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the link's answer may be cached or leak as a referrer: %v", resp.Header)
	}
	resp, sess := b.do("GET", "/console/api/session", nil)
	if resp.StatusCode != 200 || sess["tenant_name"] != "acme" || sess["csrf_token"] == "" || sess["tenant_id"] == "" {
		t.Fatalf("session: %d %v", resp.StatusCode, sess)
	}
	resp, list := b.do("GET", "/v1/sources", nil)
	if resp.StatusCode != 200 || len(list["data"].([]any)) != 1 || list["data"].([]any)[0].(map[string]any)["id"] != srcID {
		t.Fatalf("the session does not see the tenant's sources: %d %v", resp.StatusCode, list)
	}

	// The second use, by anyone, fails: in a browser back to sign-in with the
	// reason, for a JSON client with 401; and it starts no session.
	b2 := s.browser()
	resp, _ = b2.do("GET", path, nil)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/console/signin?error=link_invalid" {
		t.Fatalf("reused link: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == "hookshift_session" && c.Value != "" {
			t.Fatal("a reused link set a session cookie")
		}
	}
	resp, out = b2.do("GET", path, nil, "Accept", "application/json")
	if resp.StatusCode != 401 || errCode(out) != "portal_link_invalid" {
		t.Fatalf("reused link (JSON): %d %v", resp.StatusCode, out)
	}
	if resp, _ := b2.do("GET", "/v1/sources", nil); resp.StatusCode != 401 {
		t.Fatalf("a reused link's browser reads the API: %d", resp.StatusCode)
	}
	if resp, out := b2.do("GET", "/console/auth", nil, "Accept", "application/json"); resp.StatusCode != 400 || errCode(out) != "invalid_link" {
		t.Fatalf("no link: %d %v", resp.StatusCode, out)
	}
}

// A link expires with the TTL it was made with.
func TestPortalLinkExpires(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	path := s.mustCall(201, "POST", "/v1/portal-links", tok, map[string]any{"ttl_seconds": 60})["path"].(string)
	keys, _ := s.rdb.Keys(ctx, "hookshift:portal:*").Result()
	if len(keys) != 1 {
		t.Fatalf("portal keys: %v", keys)
	}
	if ttl := s.rdb.TTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("link TTL %v, want 60s", ttl)
	}
	s.rdb.PExpire(ctx, keys[0], time.Millisecond) // as if the minute had passed
	time.Sleep(5 * time.Millisecond)
	resp, out := s.browser().do("GET", path, nil, "Accept", "application/json")
	if resp.StatusCode != 401 || errCode(out) != "portal_link_invalid" {
		t.Fatalf("expired link: %d %v", resp.StatusCode, out)
	}
}

func TestPortalLinkBadInput(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	other := s.tenant("other")
	otherID := s.browser().signIn(other)["tenant_id"].(string)
	for _, c := range []struct {
		name, token string
		body        any
		status      int
		code        string
	}{
		{"ttl too short", tok, map[string]any{"ttl_seconds": 59}, 422, "invalid_ttl_seconds"},
		{"ttl too long", tok, map[string]any{"ttl_seconds": 86401}, 422, "invalid_ttl_seconds"},
		{"ttl not a number", tok, `{"ttl_seconds":"soon"}`, 400, "invalid_ttl_seconds"},
		{"unknown field", tok, `{"tenant":"x"}`, 400, "invalid_json"},
		{"another tenant's id", tok, map[string]any{"tenant_id": otherID}, 400, "invalid_tenant_id"},
		{"root without tenant", rootToken, nil, 400, "invalid_tenant_id"},
		{"root, unknown tenant", rootToken, map[string]any{"tenant_id": "ten_nope"}, 404, "invalid_tenant_id"},
		{"no token", "", nil, 401, "unauthorized"},
		{"unknown token", "hst_nope", nil, 401, "unauthorized"},
	} {
		code, out := s.call("POST", "/v1/portal-links", c.token, c.body)
		if code != c.status || errCode(out) != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, code, out, c.status, c.code)
		}
	}
	if keys, _ := s.rdb.Keys(ctx, "hookshift:portal:*").Result(); len(keys) != 0 {
		t.Fatalf("refused requests stored links: %v", keys)
	}

	// The root token makes a link for the tenant it names.
	path := s.mustCall(201, "POST", "/v1/portal-links", rootToken, map[string]any{"tenant_id": otherID})["path"].(string)
	b := s.browser()
	b.do("GET", path, nil)
	if _, sess := b.do("GET", "/console/api/session", nil); sess["tenant_id"] != otherID {
		t.Fatalf("root's link signed in %v, want %s", sess, otherID)
	}
	// A session cannot mint links: they need a bearer token.
	if resp, out := b.change("POST", "/v1/portal-links", nil); resp.StatusCode != 401 {
		t.Fatalf("a session minted a link: %d %v", resp.StatusCode, out)
	}
}

// The session cookie works for the tenant's API, and a change needs the
// session's CSRF token and a same-site request; nothing is changed otherwise.
func TestSessionCSRF(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	b := s.browser()
	b.signIn(tok)
	body := map[string]any{"name": "dodo", "kind": "standard-webhooks"}

	for _, c := range []struct {
		name   string
		header []string
		code   string
	}{
		{"no CSRF token", nil, "csrf_token_invalid"},
		{"forged CSRF token", []string{"X-CSRF-Token", "forged"}, "csrf_token_invalid"},
		{"cross-site origin", []string{"X-CSRF-Token", b.csrf, "Origin", "https://evil.example"}, "cross_site_request"},
		{"null origin", []string{"X-CSRF-Token", b.csrf, "Origin", "null"}, "cross_site_request"},
		{"cross-site fetch", []string{"X-CSRF-Token", b.csrf, "Sec-Fetch-Site", "cross-site"}, "cross_site_request"},
		{"same-site fetch", []string{"X-CSRF-Token", b.csrf, "Sec-Fetch-Site", "same-site"}, "cross_site_request"},
	} {
		resp, out := b.do("POST", "/v1/sources", body, c.header...)
		if resp.StatusCode != 403 || errCode(out) != c.code {
			t.Errorf("%s: %d %v, want 403 %s", c.name, resp.StatusCode, out, c.code)
		}
	}
	if n := len(s.mustCall(200, "GET", "/v1/sources", tok, nil)["data"].([]any)); n != 0 {
		t.Fatalf("refused requests created %d sources", n)
	}
	resp, out := b.do("POST", "/v1/sources", body, "X-CSRF-Token", b.csrf, "Origin", s.api.URL, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != 201 {
		t.Fatalf("same-origin change with the token: %d %v", resp.StatusCode, out)
	}
	if resp, _ := b.do("GET", "/v1/sources", nil, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
		t.Fatalf("a cross-site read with the cookie: %d", resp.StatusCode)
	}

	// Root-only routes never take a session.
	if resp, _ := b.change("POST", "/v1/tenants", map[string]any{"name": "x"}); resp.StatusCode != 401 {
		t.Fatalf("a session created a tenant: %d", resp.StatusCode)
	}
	// A bearer call is unchanged: no CSRF token needed.
	s.mustCall(201, "POST", "/v1/sources", tok, body)

	// Sign-out needs the token too, then the session is gone from Redis.
	if resp, _ := b.do("POST", "/console/api/logout", nil); resp.StatusCode != 403 {
		t.Fatalf("logout without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/v1/sources", nil); resp.StatusCode != 200 {
		t.Fatalf("a refused logout ended the session: %d", resp.StatusCode)
	}
	resp, _ = b.change("POST", "/console/api/logout", nil)
	if resp.StatusCode != 204 || sessionCookieOf(t, resp).MaxAge >= 0 {
		t.Fatalf("logout: %d %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if keys, _ := s.rdb.Keys(ctx, "hookshift:session:*").Result(); len(keys) != 0 {
		t.Fatalf("logout left the session in Redis: %v", keys)
	}
}

// A revoked session's cookie, replayed, reads nothing.
func TestRevokedSessionRefused(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	b := s.browser()
	b.signIn(tok)
	u, _ := http.NewRequest("GET", s.api.URL+"/", nil)
	stolen := b.c.Jar.Cookies(u.URL)
	b.change("POST", "/console/api/logout", nil)
	req, _ := http.NewRequest("GET", s.api.URL+"/v1/sources", nil)
	for _, c := range stolen {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("a revoked session read the API: %d", resp.StatusCode)
	}
}

func TestTokenSignInBadInput(t *testing.T) {
	s := newStack(t)
	s.tenant("acme")
	b := s.browser()
	for _, c := range []struct {
		name   string
		body   any
		header []string
		status int
		code   string
	}{
		{"unknown token", map[string]any{"token": "hst_nope"}, nil, 401, "invalid_token"},
		{"root token", map[string]any{"token": rootToken}, nil, 403, "tenant_token_required"},
		{"empty token", map[string]any{"token": " "}, nil, 400, "invalid_token"},
		{"not JSON", "token=x", nil, 400, "invalid_json"},
		{"cross-site", map[string]any{"token": "x"}, []string{"Origin", "https://evil.example"}, 403, "cross_site_request"},
	} {
		resp, out := b.do("POST", "/console/auth/token", c.body, c.header...)
		if resp.StatusCode != c.status || errCode(out) != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, resp.StatusCode, out, c.status, c.code)
		}
	}
	if keys, _ := s.rdb.Keys(ctx, "hookshift:session:*").Result(); len(keys) != 0 {
		t.Fatalf("refused sign-ins stored sessions: %v", keys)
	}
	if resp, out := b.do("GET", "/console/api/session", nil); resp.StatusCode != 401 || errCode(out) != "not_signed_in" {
		t.Fatalf("session without sign-in: %d %v", resp.StatusCode, out)
	}
}

// A session lives 12 hours; the next request after that is refused.
func TestSessionExpires(t *testing.T) {
	s := newStack(t)
	b := s.browser()
	out := b.signIn(s.tenant("acme"))
	exp, _ := time.Parse(time.RFC3339, out["expires_at"].(string))
	if d := exp.Sub(s.clock.Now()); d < 11*time.Hour || d > 12*time.Hour {
		t.Fatalf("session lasts %v, want 12h", d)
	}
	s.clock.Advance(12*time.Hour + time.Second)
	if resp, out := b.do("GET", "/v1/sources", nil); resp.StatusCode != 401 || errCode(out) != "session_expired" {
		t.Fatalf("after 12h: %d %v", resp.StatusCode, out)
	}
}

// Signing in again in the same browser ends its previous session.
func TestSignInAgainEndsPreviousSession(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	b := s.browser()
	b.signIn(tok)
	b.signIn(tok)
	if keys, _ := s.rdb.Keys(ctx, "hookshift:session:*").Result(); len(keys) != 1 {
		t.Fatalf("%d sessions after signing in twice in one browser, want 1", len(keys))
	}
}

// Behind a TLS-terminating proxy the cookie is Secure; over plain HTTP (a
// local try-out) it cannot be.
func TestSessionCookieSecureOverHTTPS(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	b := s.browser()
	resp, _ := b.do("POST", "/console/auth/token", map[string]any{"token": tok}, "X-Forwarded-Proto", "https")
	if c := sessionCookieOf(t, resp); !c.Secure {
		t.Fatalf("cookie over HTTPS is not Secure: %+v", c)
	}
	resp, _ = b.do("POST", "/console/auth/token", map[string]any{"token": tok})
	if c := sessionCookieOf(t, resp); c.Secure {
		t.Fatalf("cookie over plain HTTP is Secure (the browser would drop it): %+v", c)
	}
}

// When the operator lets another site frame the console, the session cookie
// must work inside that site's frame: SameSite=None, Secure, Partitioned,
// over HTTPS only; otherwise it stays Lax.
func TestSessionCookieWhenFramed(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	ts := s.consoleAPI(httpapi.ConsoleOptions{FrameAncestors: []string{"https://dash.example.com"}})
	b := s.browser()
	b.base = ts.URL
	resp, _ := b.do("POST", "/console/auth/token", map[string]any{"token": tok}, "X-Forwarded-Proto", "https")
	c := sessionCookieOf(t, resp)
	if c.SameSite != http.SameSiteNoneMode || !c.Secure || !c.Partitioned || !c.HttpOnly {
		t.Fatalf("framed console cookie: %+v", c)
	}
	resp, _ = b.do("POST", "/console/auth/token", map[string]any{"token": tok})
	if c := sessionCookieOf(t, resp); c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("plain-HTTP cookie: %+v", c)
	}
	// A change from inside the frame still needs the CSRF token.
	b.signIn(tok)
	if resp, _ := b.do("POST", "/v1/sources", map[string]any{"name": "x", "kind": "stripe"}, "X-Forwarded-Proto", "https"); resp.StatusCode != 403 {
		t.Fatalf("a change without the CSRF token: %d", resp.StatusCode)
	}
}

// A leaked tenant token is rotated (or revoked) by the operator: a console
// session signed in with it, and a portal link minted with it, must stop
// working at once too, or the holder keeps the tenant's API for 12 hours
// (and, by minting 24-hour links before the rotation, indefinitely).
func TestTokenRotationEndsSessionsAndLinks(t *testing.T) {
	for _, how := range []string{"rotate", "revoke"} {
		t.Run(how, func(t *testing.T) {
			s := newStack(t)
			created := s.mustCall(201, "POST", "/v1/tenants", rootToken, map[string]any{"name": "acme"})
			id, leaked := created["id"].(string), created["token"].(string)
			b := s.browser()
			b.signIn(leaked)
			if resp, _ := b.do("GET", "/v1/sources", nil); resp.StatusCode != 200 {
				t.Fatalf("session before rotation: %d", resp.StatusCode)
			}
			link := s.mustCall(201, "POST", "/v1/portal-links", leaked, map[string]any{"ttl_seconds": 86400})["path"].(string)

			if how == "rotate" {
				s.mustCall(200, "POST", "/v1/tenants/"+id+"/rotate-token", rootToken, nil)
			} else {
				s.mustCall(204, "DELETE", "/v1/tenants/"+id+"/token", rootToken, nil)
			}
			if resp, out := b.do("GET", "/v1/sources", nil); resp.StatusCode != 401 {
				t.Errorf("a session of the %sd token still reads the API: %d %v", how, resp.StatusCode, out)
			}
			if resp, out := b.change("POST", "/v1/sources", map[string]any{"name": "x", "kind": "standard-webhooks"}); resp.StatusCode != 401 {
				t.Errorf("a session of the %sd token still changes the API: %d %v", how, resp.StatusCode, out)
			}
			l := s.browser()
			if resp, _ := l.do("GET", link, nil, "Accept", "application/json"); resp.StatusCode != 401 {
				t.Errorf("a portal link minted with the %sd token still signs in: %d", how, resp.StatusCode)
			}
		})
	}
}
