package httpapi

import (
	"net/http"

	"github.com/hookshift/hookshift/integrations"
)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/tenants", s.rootOnly(s.createTenant))
	mux.HandleFunc("GET /v1/tenants", s.rootOnly(s.listTenants))
	mux.HandleFunc("POST /v1/tenants/{id}/rotate-token", s.rootOnly(s.rotateTenantToken))
	mux.HandleFunc("DELETE /v1/tenants/{id}/token", s.rootOnly(s.revokeTenantToken))

	mux.HandleFunc("POST /v1/sources", s.tenantOnly(s.createSource))
	mux.HandleFunc("GET /v1/sources", s.tenantOnly(s.listSources))
	mux.HandleFunc("GET /v1/sources/{id}", s.tenantOnly(s.getSource))
	mux.HandleFunc("PATCH /v1/sources/{id}", s.tenantOnly(s.patchSource))
	mux.HandleFunc("DELETE /v1/sources/{id}", s.tenantOnly(s.deleteSource))
	mux.HandleFunc("POST /v1/sources/{id}/rotate-secret", s.tenantOnly(s.rotateSecret))

	mux.HandleFunc("POST /v1/destinations", s.tenantOnly(s.createDestination))
	mux.HandleFunc("GET /v1/destinations", s.tenantOnly(s.listDestinations))
	mux.HandleFunc("GET /v1/destinations/{id}", s.tenantOnly(s.getDestination))
	mux.HandleFunc("PATCH /v1/destinations/{id}", s.tenantOnly(s.patchDestination))
	mux.HandleFunc("DELETE /v1/destinations/{id}", s.tenantOnly(s.deleteDestination))
	mux.HandleFunc("POST /v1/destinations/{id}/test", s.tenantOnly(s.testDestination))

	mux.HandleFunc("GET /v1/integrations", s.listIntegrations)
	mux.HandleFunc("POST /v1/transforms/test", s.tenantOnly(s.testTransform))

	mux.HandleFunc("GET /v1/events", s.tenantOnly(s.listEvents))
	mux.HandleFunc("GET /v1/events/{id}", s.tenantOnly(s.getEvent))
	mux.HandleFunc("POST /v1/events/{id}/replay", s.tenantOnly(s.replayEvent))
	mux.HandleFunc("POST /v1/destinations/{id}/replay", s.tenantOnly(s.replayDestination))
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if !decode(w, r, &in) {
		return
	}
	if err := s.Limits.WithDefaults().Name(&in.Name, true); err != nil {
		writeRuleError(w, err)
		return
	}
	t, token, err := s.Store.CreateTenant(r.Context(), in.Name)
	if err != nil {
		storeError(w, err, "tenant")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "token": token, "created_at": t.CreatedAt})
}

// listTenants is the operator's list of tenants, without tokens.
func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Store.ListTenants(r.Context())
	if err != nil {
		storeError(w, err, "tenants")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": ts})
}

// rotateTenantToken gives a tenant a new token, shown once; the old one
// stops working at once (a leaked token, a merchant's staff change).
func (s *Server) rotateTenantToken(w http.ResponseWriter, r *http.Request) {
	token, err := s.Store.RotateTenantToken(r.Context(), r.PathValue("id"))
	if err != nil {
		storeError(w, err, "tenant")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "token": token})
}

// revokeTenantToken leaves a tenant without a working token until the next
// rotation. Its webhooks keep flowing; only its admin API access stops.
func (s *Server) revokeTenantToken(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.RevokeTenantToken(r.Context(), r.PathValue("id")); err != nil {
		storeError(w, err, "tenant")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listIntegrations is the catalog; it holds no secrets and needs no token.
func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"data": integrations.Catalog()})
}
