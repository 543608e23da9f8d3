package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookshift/hookshift/integrations/inbound/samples"
	"github.com/hookshift/hookshift/store"
)

// listTransformVersions is a destination's script history, newest first.
func (s *Server) listTransformVersions(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	vs, err := s.Store.TransformVersions(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "destination")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": vs})
}

// rollbackTransform puts an earlier version's code back, as a new version:
// history only grows, so a rollback can itself be rolled back.
func (s *Server) rollbackTransform(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	id := r.PathValue("id")
	if _, err := s.Store.GetDestination(r.Context(), t.ID, id); err != nil {
		storeError(w, err, "destination")
		return
	}
	var in struct {
		Version *int `json:"version"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Version == nil || *in.Version < 1 {
		writeFieldError(w, &fieldError{status: http.StatusUnprocessableEntity, field: "version",
			msg: "is required: the number of a version from GET /v1/destinations/" + id + "/transform/versions"})
		return
	}
	d, n, err := s.Store.RollbackTransform(r.Context(), t.ID, id, *in.Version)
	if errors.Is(err, store.ErrVersionNotFound) {
		writeError(w, http.StatusNotFound, "version_not_found",
			fmt.Sprintf("destination %s has no transform version %d (the last %d versions are kept)", id, *in.Version, store.DefaultTransformVersions))
		return
	}
	if err != nil {
		storeError(w, err, "destination")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": n, "destination": s.withHealth(r.Context(), viewDestination(d))})
}

// listSamples offers sample events of a source kind to test a script with.
func (s *Server) listSamples(w http.ResponseWriter, r *http.Request, _ store.Tenant) {
	kind := r.URL.Query().Get("source_kind")
	ss, ok := samples.For(kind)
	if !ok {
		writeFieldError(w, invalid("source_kind", "must be one of %s", strings.Join(samples.Kinds(), ", ")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": ss})
}
