package httpapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookshift/hookshift/store"
)

// Console sessions. A browser signs in with a portal link or a pasted tenant
// token and gets an HttpOnly cookie naming a session kept (hashed) in Redis.
// The cookie then authenticates the tenant's /v1 API in place of a bearer
// token (tenantOnly), under two CSRF guards: a change needs the session's
// CSRF token in a header, which another site's page cannot read, and a
// request another site started is refused outright.

const (
	sessionCookie = "hookshift_session"
	csrfHeader    = "X-CSRF-Token"
)

// sessionView is what the console's script learns about its session.
type sessionView struct {
	TenantID   string    `json:"tenant_id"`
	TenantName string    `json:"tenant_name"`
	CSRFToken  string    `json:"csrf_token"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// hasSessionCookie reports whether the request carries a console session
// cookie; tenantOnly then authenticates it with withSession.
func hasSessionCookie(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	return err == nil && c.Value != ""
}

// isHTTPS reports whether the browser reached us over HTTPS, directly or
// through a TLS-terminating proxy; the cookie is then Secure.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// sessionCookieFor is the session cookie's shape for this request:
// SameSite=Lax, Secure over HTTPS. When the operator lets other sites frame
// the console (FrameAncestors), a Lax cookie would be neither set nor sent
// inside their frame, so over HTTPS it is SameSite=None and Partitioned
// (kept apart per embedding site); the CSRF header and the cross-site
// refusals still guard every request.
func (s *Server) sessionCookieFor(r *http.Request, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode}
	if c.Secure && len(s.Console.FrameAncestors) > 0 {
		c.SameSite, c.Partitioned = http.SameSiteNoneMode, true
	}
	return c
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, ttl time.Duration) {
	http.SetCookie(w, s.sessionCookieFor(r, token, int(ttl.Seconds())))
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.sessionCookieFor(r, "", -1))
}

// crossSite reports a request that another site's page started: an Origin
// other than our own host, or the browser's own Sec-Fetch-Site verdict.
// Requests without either header (curl, older browsers' GETs) pass; they
// still need the CSRF token to change anything.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default: // cross-site, same-site (a sibling subdomain is another origin)
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// session resolves the request's session cookie, writing 401 when there is
// none that is live.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (string, store.Session, store.Tenant, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		writeError(w, http.StatusUnauthorized, "not_signed_in", "sign in to the console (a portal link or a tenant token)")
		return "", store.Session{}, store.Tenant{}, false
	}
	sess, t, err := s.Store.SessionTenant(r.Context(), c.Value)
	if errors.Is(err, store.ErrNotFound) {
		s.clearSessionCookie(w, r)
		writeError(w, http.StatusUnauthorized, "session_expired", "the console session expired or was signed out; sign in again")
		return "", store.Session{}, store.Tenant{}, false
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return "", store.Session{}, store.Tenant{}, false
	}
	return c.Value, sess, t, true
}

// checkCSRF refuses a cross-site request, and a change without the
// session's CSRF token (compared in constant time).
func checkCSRF(w http.ResponseWriter, r *http.Request, sess store.Session) bool {
	if crossSite(r) {
		writeError(w, http.StatusForbidden, "cross_site_request", "the console API refuses requests started by another site")
		return false
	}
	if safeMethod(r.Method) {
		return true
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
		writeError(w, http.StatusForbidden, "csrf_token_invalid", "a change made with the console session needs the header "+csrfHeader+" set to csrf_token from GET /console/api/session")
		return false
	}
	return true
}

// withSession runs a tenant handler for a cookie-authenticated request.
func (s *Server) withSession(w http.ResponseWriter, r *http.Request, h tenantHandler) {
	_, sess, t, ok := s.session(w, r)
	if !ok || !checkCSRF(w, r, sess) {
		return
	}
	h(w, r, t)
}

// startSession creates a session for t and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, t store.Tenant) (store.Session, bool) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		_ = s.Store.DeleteSession(r.Context(), c.Value) // the browser's previous session ends here, not at its TTL
	}
	ttl := s.Console.sessionTTL()
	token, sess, err := s.Store.CreateSession(r.Context(), t, ttl)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return store.Session{}, false
	}
	s.setSessionCookie(w, r, token, ttl)
	return sess, true
}

// signInWithToken exchanges a tenant token pasted on the sign-in page for a
// session.
func (s *Server) signInWithToken(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		writeError(w, http.StatusForbidden, "cross_site_request", "sign-in refuses requests started by another site")
		return
	}
	var in struct {
		Token string `json:"token"`
	}
	if !decode(w, r, &in) {
		return
	}
	in.Token = strings.TrimSpace(in.Token)
	if in.Token == "" {
		writeFieldError(w, invalid("token", "is required: the tenant token from POST /v1/tenants"))
		return
	}
	if s.isRoot(in.Token) {
		writeError(w, http.StatusForbidden, "tenant_token_required", "the console signs in a tenant; the root token is not one")
		return
	}
	t, err := s.Store.TenantByToken(r.Context(), in.Token)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "invalid_token", "no tenant has this token")
		return
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return
	}
	sess, ok := s.startSession(w, r, t)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, sessionView{TenantID: t.ID, TenantName: t.Name, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt})
}

// getSession tells the console who is signed in and its CSRF token.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	_, sess, t, ok := s.session(w, r)
	if !ok || !checkCSRF(w, r, sess) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, sessionView{TenantID: t.ID, TenantName: t.Name, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt})
}

// logout revokes the session in Redis and clears the cookie. Without a live
// session there is nothing to revoke: the cookie is cleared all the same.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		sess, err := s.Store.GetSession(r.Context(), c.Value)
		switch {
		case err == nil:
			if !checkCSRF(w, r, sess) {
				return
			}
			if err := s.Store.DeleteSession(r.Context(), c.Value); err != nil {
				writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
				return
			}
		case !errors.Is(err, store.ErrNotFound):
			writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
			return
		}
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}
