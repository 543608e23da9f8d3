package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookshift/hookshift/store"
)

// Portal links: how a payment platform puts the console in its own
// dashboard. Its backend asks for a link (POST /v1/portal-links) and sends
// the merchant's browser there; the link works once, expires soon, and is
// exchanged for a session cookie and taken out of the URL by a redirect, so
// it never lingers in history, logs or a Referer.

// Bounds of a portal link's lifetime.
const (
	minLinkTTL = time.Minute
	maxLinkTTL = 24 * time.Hour
)

// portalAuthPath is the path a portal link opens.
const portalAuthPath = "/console/auth"

// createPortalLink mints a link for the calling tenant, or for any tenant
// when the root token names one. It takes a bearer token only: a console
// session cannot mint more sessions.
func (s *Server) createPortalLink(w http.ResponseWriter, r *http.Request) {
	tok := bearer(r)
	if tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookshift"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing Authorization: Bearer <tenant token> (or the root token with tenant_id)")
		return
	}
	root := s.isRoot(tok)
	var t store.Tenant
	if !root {
		var err error
		if t, err = s.Store.TenantByToken(r.Context(), tok); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				writeError(w, http.StatusUnauthorized, "unauthorized", "unknown token")
			} else {
				writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
			}
			return
		}
	}
	var in struct {
		TenantID   string `json:"tenant_id"`
		TTLSeconds *int   `json:"ttl_seconds"`
	}
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return
	}
	switch {
	case root && in.TenantID == "":
		writeFieldError(w, invalid("tenant_id", "is required with the root token: the tenant the link signs in"))
		return
	case root:
		var err error
		if t, err = s.Store.GetTenant(r.Context(), in.TenantID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				writeFieldError(w, &fieldError{status: http.StatusNotFound, field: "tenant_id", msg: "no tenant " + quote(in.TenantID)})
			} else {
				storeError(w, err, "tenant")
			}
			return
		}
	case in.TenantID != "" && in.TenantID != t.ID:
		writeFieldError(w, invalid("tenant_id", "is only for the root token; a tenant token makes links for its own tenant"))
		return
	}
	ttl := s.Console.linkTTL()
	if in.TTLSeconds != nil {
		ttl = time.Duration(*in.TTLSeconds) * time.Second
		if ttl < minLinkTTL || ttl > maxLinkTTL {
			writeFieldError(w, &fieldError{status: http.StatusUnprocessableEntity, field: "ttl_seconds",
				msg: "must be from 60 to 86400 seconds (1 minute to 24 hours)"})
			return
		}
	}
	link, expires, err := s.Store.CreatePortalLink(r.Context(), t, ttl)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return
	}
	path := portalAuthPath + "?link=" + link
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"url": s.publicBase(r) + path, "path": path, "expires_at": expires})
}

func quote(s string) string { return `"` + s + `"` }

// publicBase is the scheme and host links point at: the configured public
// URL, or the one the caller reached.
func (s *Server) publicBase(r *http.Request) string {
	if s.Console.PublicURL != "" {
		return strings.TrimRight(s.Console.PublicURL, "/")
	}
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// openPortalLink exchanges a link for a session and redirects to the
// console without it. A failed link sends the browser to the sign-in page
// with the reason (or answers JSON 401 to a client that asks for JSON).
func (s *Server) openPortalLink(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	fail := func(status int, code, msg string) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			writeError(w, status, code, msg)
			return
		}
		http.Redirect(w, r, "/console/signin?error=link_invalid", http.StatusFound)
	}
	if r.Method == http.MethodHead {
		// Link checkers (mail and chat previews) probe with HEAD; only a
		// browser's GET may spend the link.
		w.WriteHeader(http.StatusOK)
		return
	}
	link := r.URL.Query().Get("link")
	if link == "" || len(link) > 200 {
		fail(http.StatusBadRequest, "invalid_link", "the URL has no portal link (?link=...); ask for a new one")
		return
	}
	t, err := s.Store.ClaimPortalLink(r.Context(), link)
	if errors.Is(err, store.ErrNotFound) {
		fail(http.StatusUnauthorized, "portal_link_invalid", "this portal link was already used, has expired or does not exist; ask for a new one")
		return
	}
	if err != nil {
		fail(http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return
	}
	if _, ok := s.startSession(w, r, t); !ok {
		return
	}
	http.Redirect(w, r, "/console/", http.StatusFound)
}
