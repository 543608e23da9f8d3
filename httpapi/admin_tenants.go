package httpapi

import "net/http"

// createTenant makes a tenant and shows its token, once. The handlers in this
// file are the operator's (root token): create and list tenants, rotate and
// revoke their tokens.
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
