package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
)

type sourceView struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	IngestPath string          `json:"ingest_path"`
	Secret     string          `json:"secret"`
	Config     json.RawMessage `json:"config,omitempty"`
	// PreviousSecretExpiresAt is set while a rotated-out secret is still accepted.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// maskSecret keeps a recognisable prefix (whsec_) and hides the rest.
func maskSecret(sec string) string {
	if i := strings.IndexByte(sec, '_'); i > 0 && i < 10 {
		return sec[:i+1] + "****"
	}
	return "****"
}

func (s *Server) viewSource(src store.Source, reveal bool) sourceView {
	v := sourceView{ID: src.ID, Name: src.Name, Kind: src.Kind, IngestPath: "/v1/webhooks/" + src.ID,
		Config: src.Config, CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt}
	now := s.now()
	for _, sec := range src.Secrets {
		if sec.ExpiresAt.IsZero() {
			v.Secret = maskSecret(sec.Value)
			if reveal {
				v.Secret = sec.Value
			}
		} else if now.Before(sec.ExpiresAt) {
			t := sec.ExpiresAt
			v.PreviousSecretExpiresAt = &t
		}
	}
	return v
}

type sourceInput struct {
	Name   *string         `json:"name"`
	Kind   *string         `json:"kind"`
	Secret *string         `json:"secret"`
	Config json.RawMessage `json:"config"`
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	var in sourceInput
	if !decode(w, r, &in) {
		return
	}
	if in.Kind == nil || *in.Kind == "" {
		writeFieldError(w, invalid("kind", "is required; one of %s", strings.Join(inbound.Kinds(), ", ")))
		return
	}
	kind, ok := inbound.Lookup(*in.Kind)
	if !ok {
		writeFieldError(w, invalid("kind", "%q is not supported; one of %s", *in.Kind, strings.Join(inbound.Kinds(), ", ")))
		return
	}
	lim := s.Limits.WithDefaults()
	if err := lim.Name(in.Name, true); err != nil {
		writeRuleError(w, err)
		return
	}
	if err := lim.SourceConfig(in.Config); err != nil {
		writeRuleError(w, err)
		return
	}
	if _, err := kind.New(in.Config); err != nil {
		writeFieldError(w, invalid("config", "%v", err))
		return
	}
	secret := ""
	if in.Secret != nil {
		secret = *in.Secret
	}
	secret, ferr := newSourceSecret(kind, secret)
	if ferr == nil {
		ferr = checkSecret(kind, in.Config, secret, s.now())
	}
	if ferr != nil {
		writeFieldError(w, ferr)
		return
	}
	now := s.now().UTC()
	src := store.Source{ID: store.NewID("src"), TenantID: t.ID, Name: *in.Name, Kind: kind.Name, Config: in.Config,
		Secrets: []store.Secret{{Value: secret, CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateSource(r.Context(), src, lim.MaxSources); err != nil {
		if errors.Is(err, store.ErrLimit) {
			writeRuleError(w, rules.TooMany("sources", lim.MaxSources))
			return
		}
		storeError(w, err, "source")
		return
	}
	writeJSON(w, http.StatusCreated, s.viewSource(src, true))
}

// newSourceSecret returns the given secret, or a generated one where the
// kind can make its own.
func newSourceSecret(kind inbound.Kind, given string) (string, *fieldError) {
	if given != "" {
		if len(given) > 512 {
			return "", invalid("secret", "is longer than 512 characters")
		}
		return given, nil
	}
	if kind.NewSecret == nil {
		return "", invalid("secret", "is required for kind %s: paste the signing secret from the provider's dashboard", kind.Name)
	}
	sec, err := kind.NewSecret()
	if err != nil {
		return "", invalid("secret", "could not be generated: %v", err)
	}
	return sec, nil
}

// checkSecret proves a secret usable before it is saved: a request signed with
// it must verify (else 400: a standard-webhooks secret that is not whsec_
// base64 would otherwise be accepted here and fail every webhook later), and
// it must carry at least inbound.MinKeyBytes of key material (else 422).
func checkSecret(kind inbound.Kind, config json.RawMessage, secret string, now time.Time) *fieldError {
	probe := []byte(`{"id":"probe","type":"probe","uuid":"probe","status":"probe"}`)
	h, body, err := kind.Sign(config, secret, "probe", probe, now)
	if err == nil {
		var v inbound.Verifier
		if v, err = kind.New(config); err == nil {
			_, err = v.Verify(inbound.Request{Header: h, Body: body}, []string{secret}, now)
		}
	}
	if err != nil {
		return invalid("secret", "cannot be used to verify %s webhooks: %v", kind.Name, err)
	}
	if err := kind.CheckKey(config, secret); err != nil {
		return &fieldError{status: http.StatusUnprocessableEntity, field: "secret", msg: err.Error()}
	}
	return nil
}

// checkConfigKeepsKey refuses (422) a new config under which the source's
// current secret would carry less than inbound.MinKeyBytes of key material,
// e.g. a standard-webhooks secret_encoding switched from "raw" to "base64".
func checkConfigKeepsKey(kind inbound.Kind, config json.RawMessage, src store.Source) *fieldError {
	for _, sec := range src.Secrets {
		if !sec.ExpiresAt.IsZero() {
			continue
		}
		if err := kind.CheckKey(config, sec.Value); err != nil {
			return &fieldError{status: http.StatusUnprocessableEntity, field: "config",
				msg: "the source's current secret would not be usable under this config: " + err.Error() + "; rotate the secret first"}
		}
	}
	return nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	srcs, err := s.Store.ListSources(r.Context(), t.ID)
	if err != nil {
		storeError(w, err, "sources")
		return
	}
	out := make([]sourceView, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, s.viewSource(src, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	src, err := s.Store.GetSource(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "source")
		return
	}
	writeJSON(w, http.StatusOK, s.viewSource(src, false))
}

func (s *Server) patchSource(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	src, err := s.Store.GetSource(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "source")
		return
	}
	var in sourceInput
	if !decode(w, r, &in) {
		return
	}
	if in.Kind != nil && *in.Kind != src.Kind {
		writeFieldError(w, invalid("kind", "cannot be changed; create a new source instead"))
		return
	}
	if in.Secret != nil {
		writeFieldError(w, invalid("secret", "cannot be set by PATCH; use POST /v1/sources/{id}/rotate-secret"))
		return
	}
	lim := s.Limits.WithDefaults()
	if err := lim.Name(in.Name, false); err != nil {
		writeRuleError(w, err)
		return
	}
	if in.Name != nil {
		src.Name = *in.Name
	}
	if err := lim.SourceConfig(in.Config); err != nil {
		writeRuleError(w, err)
		return
	}
	if in.Config != nil {
		kind, _ := inbound.Lookup(src.Kind)
		if _, err := kind.New(in.Config); err != nil {
			writeFieldError(w, invalid("config", "%v", err))
			return
		}
		if ferr := checkConfigKeepsKey(kind, in.Config, src); ferr != nil {
			writeFieldError(w, ferr)
			return
		}
		src.Config = in.Config
	}
	src.UpdatedAt = s.now().UTC()
	if err := s.Store.SaveSource(r.Context(), src); err != nil {
		storeError(w, err, "source")
		return
	}
	s.sourceCache().forget(src.ID) // after the save: a webhook in between cannot re-cache the old one
	writeJSON(w, http.StatusOK, s.viewSource(src, false))
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	if err := s.Store.DeleteSource(r.Context(), t.ID, r.PathValue("id")); err != nil {
		storeError(w, err, "source")
		return
	}
	s.sourceCache().forget(r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

// rotateSecret makes a new current secret; the old one stays valid for the
// rotation grace (24h) so the platform can switch over without losing events.
// At most MaxLiveSecrets may be live at once: beyond that the rotation is
// refused with 409 too_many_secrets, naming the limit and when the oldest
// rotated-out secret expires. Expired secrets are pruned.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	src, err := s.Store.GetSource(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "source")
		return
	}
	var in struct {
		Secret string `json:"secret"`
	}
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return
	}
	kind, _ := inbound.Lookup(src.Kind)
	secret, ferr := newSourceSecret(kind, in.Secret)
	if ferr == nil {
		ferr = checkSecret(kind, src.Config, secret, s.now())
	}
	if ferr != nil {
		writeFieldError(w, ferr)
		return
	}
	src, err = s.Store.RotateSourceSecret(r.Context(), t.ID, src.ID,
		store.Rotation{Secret: secret, Grace: s.RotationGrace, MaxLive: s.maxLiveSecrets()})
	var limit *store.SecretLimitError
	if errors.As(err, &limit) {
		writeError(w, http.StatusConflict, "too_many_secrets", limit.Error())
		return
	}
	if err != nil {
		storeError(w, err, "source")
		return
	}
	s.sourceCache().forget(src.ID)
	writeJSON(w, http.StatusOK, s.viewSource(src, true))
}
