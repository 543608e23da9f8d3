package httpapi

import (
	"errors"
	"net/http"
	"slices"

	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
)

// alertRoutes are GET|PUT /v1/alerts: where the tenant's operational events
// (a destination disabled, a delivery dead-lettered, a circuit opened, a
// destination recovered) go.
func (s *Server) alertRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/alerts", s.tenantOnly(s.getAlerts))
	mux.HandleFunc("PUT /v1/alerts", s.tenantOnly(s.putAlerts))
}

// getAlerts answers the stored settings, less destinations deleted since.
func (s *Server) getAlerts(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	a, err := s.Store.GetAlerts(r.Context(), t.ID)
	if err != nil {
		storeError(w, err, "alerts")
		return
	}
	dests, err := s.Store.ListDestinations(r.Context(), t.ID, "")
	if err != nil {
		storeError(w, err, "destinations")
		return
	}
	a.DestinationIDs = slices.DeleteFunc(a.DestinationIDs, func(id string) bool {
		return !slices.ContainsFunc(dests, func(d store.Destination) bool { return d.ID == id })
	})
	writeJSON(w, http.StatusOK, a)
}

// putAlerts replaces the tenant's alert settings. Every destination id must
// be the tenant's and every type a known one (422 naming the bad value);
// nothing is stored otherwise. It answers with what was stored.
func (s *Server) putAlerts(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	var in store.Alerts
	if !decode(w, r, &in) {
		return
	}
	dests, err := s.Store.ListDestinations(r.Context(), t.ID, "")
	if err != nil {
		storeError(w, err, "destinations")
		return
	}
	a, err := rules.ValidateAlerts(in, dests)
	var ae *rules.AlertError
	if errors.As(err, &ae) {
		writeFieldError(w, &fieldError{status: http.StatusUnprocessableEntity, field: ae.Field, msg: ae.Message})
		return
	}
	if err := s.Store.SaveAlerts(r.Context(), t.ID, a); err != nil {
		storeError(w, err, "alerts")
		return
	}
	writeJSON(w, http.StatusOK, a)
}
