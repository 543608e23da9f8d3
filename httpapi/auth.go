package httpapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/hookshift/hookshift/store"
)

// bearer returns the token of an Authorization: Bearer header, or the
// password of basic auth (so a browser can log in to /monitoring).
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return ""
}

// isRoot compares against the root token in constant time.
func (s *Server) isRoot(token string) bool {
	return s.RootToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.RootToken)) == 1
}

// rootOnly guards operator endpoints. The root token is also taken as a
// basic-auth password (for the asynq UI), which a browser may send on its
// own, so a state-changing request that a browser marks as from another site
// is refused first (sameOriginOnly), as on /monitoring/.
func (s *Server) rootOnly(h http.HandlerFunc) http.HandlerFunc {
	return s.sameOriginOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.isRoot(bearer(r)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookshift"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "this endpoint needs the operator's root token")
			return
		}
		h(w, r)
	})).ServeHTTP
}

// operatorAuth guards the asynq UI: the root token as a bearer header, or as
// the basic-auth password so a browser can log in.
func (s *Server) operatorAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.isRoot(bearer(r)) {
			w.Header().Set("WWW-Authenticate", `Basic realm="hookshift operators", charset="UTF-8"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "the monitoring UI needs the operator's root token (bearer, or as the basic-auth password)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

type tenantHandler func(w http.ResponseWriter, r *http.Request, t store.Tenant)

// tenantOnly resolves a tenant token; every object the handler touches is
// then looked up within that tenant.
func (s *Server) tenantOnly(h tenantHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" && hasSessionCookie(r) { // the console: a session cookie, CSRF-checked (session.go)
			s.withSession(w, r, h)
			return
		}
		if tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookshift"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing Authorization: Bearer <tenant token>")
			return
		}
		if s.isRoot(tok) {
			writeError(w, http.StatusForbidden, "tenant_token_required", "the root token manages tenants; use a tenant's token (from POST /v1/tenants) for its sources, destinations and events")
			return
		}
		t, err := s.Store.TenantByToken(r.Context(), tok)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookshift"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "unknown token")
			return
		}
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
			return
		}
		h(w, r, t)
	}
}

// tenantOrRoot is tenantOnly that also admits the operator's root token, as
// the zero Tenant: a handler then looks objects up across tenants (the store
// skips the ownership check for tenant id ""). For the few endpoints where an
// operator must act on any tenant's object, such as opening or replaying an event.
func (s *Server) tenantOrRoot(h tenantHandler) http.HandlerFunc {
	tenant := s.tenantOnly(h)
	root := s.sameOriginOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, store.Tenant{}) }))
	return func(w http.ResponseWriter, r *http.Request) {
		if s.isRoot(bearer(r)) {
			root.ServeHTTP(w, r) // the root token may come as a browser's basic auth: see rootOnly
			return
		}
		tenant(w, r)
	}
}

// storeError writes the response for a store failure.
func storeError(w http.ResponseWriter, err error, what string) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", what+" not found")
		return
	}
	writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
}
