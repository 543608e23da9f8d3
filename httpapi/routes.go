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
	mux.HandleFunc("GET /v1/events/{id}", s.tenantOrRoot(s.getEvent))
	mux.HandleFunc("POST /v1/events/{id}/replay", s.tenantOrRoot(s.replayEvent))
	mux.HandleFunc("POST /v1/destinations/{id}/replay", s.tenantOnly(s.replayDestination))
	mux.HandleFunc("GET /v1/destinations/{id}/failures", s.tenantOnly(s.destinationFailures))
	s.consoleRoutes(mux)
	s.alertRoutes(mux)
}

// listIntegrations is the catalog; it holds no secrets and needs no token.
func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"data": integrations.Catalog()})
}
