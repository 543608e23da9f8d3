package store

import (
	"encoding/json"
	"time"
)

// Tenant is a merchant; every source, destination and event belongs to one.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// TokenRevoked is set once the operator revoked the tenant's token and
	// has not rotated a new one: no token works for the tenant.
	TokenRevoked bool `json:"token_revoked,omitempty"`
	// SignInEpoch counts the tenant's token changes (create, rotate,
	// revoke). A console session or portal link remembers the epoch it was
	// made in and is refused once the token changes: rotating a leaked token
	// must end what was signed in with it. Not shown; stored in the record.
	SignInEpoch int64 `json:"-"`
}

// Secret is one signing secret of a source. Value is plaintext in memory only;
// at rest it is sealed. A zero ExpiresAt means the secret is current.
type Secret struct {
	Value     string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Source is an inbound endpoint: one payment platform account posting to
// /v1/webhooks/{id}, verified with the scheme named by Kind.
type Source struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"tenant_id"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Config    json.RawMessage `json:"config,omitempty"`
	Secrets   []Secret        `json:"secrets"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ActiveSecrets returns the plaintext secrets valid at now: the current one and
// any rotated-out one still inside its grace window.
func (s *Source) ActiveSecrets(now time.Time) []string {
	out := make([]string, 0, len(s.Secrets))
	for _, sec := range s.Secrets {
		if sec.ExpiresAt.IsZero() || now.Before(sec.ExpiresAt) {
			out = append(out, sec.Value)
		}
	}
	return out
}

// Transform is a destination's merchant script.
type Transform struct {
	Code      string    `json:"code"`
	Enabled   bool      `json:"enabled"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Destination is where a source's events are forwarded, through an
// integration from the catalog and an optional transform.
type Destination struct {
	ID                 string            `json:"id"`
	TenantID           string            `json:"tenant_id"`
	SourceID           string            `json:"source_id"`
	Name               string            `json:"name"`
	Integration        string            `json:"integration"`
	URL                string            `json:"-"`                    // sealed at rest: a Slack or Discord URL is a credential
	Config             map[string]string `json:"-"`                    // sealed at rest
	Headers            map[string]string `json:"-"`                    // sealed at rest: often carries credentials
	Env                map[string]string `json:"-"`                    // sealed at rest: scripts keep keys here
	SecretEnv          []string          `json:"secret_env,omitempty"` // env names whose values the API masks
	EventTypes         []string          `json:"event_types"`
	Transform          *Transform        `json:"transform,omitempty"`
	RateLimitPerSecond float64           `json:"rate_limit_per_second,omitempty"`
	Disabled           bool              `json:"disabled"`
	DisabledReason     string            `json:"disabled_reason,omitempty"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
}

// Event is one accepted webhook, stored once with its payload for the event
// retention.
type Event struct {
	ID         string          `json:"id"`
	TenantID   string          `json:"tenant_id"`
	SourceID   string          `json:"source_id"`
	ProviderID string          `json:"provider_id"`
	Type       string          `json:"type"`
	ReceivedAt time.Time       `json:"received_at"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// Delivery statuses, as the API shows them.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusCancelled = "cancelled"
	StatusRetrying  = "retrying"
	StatusFailed    = "failed"
)

// Terminal reports whether a delivery in this status needs no more work.
func Terminal(status string) bool {
	return status == StatusDelivered || status == StatusCancelled || status == StatusFailed
}

// Delivery is the state of one event at one destination.
type Delivery struct {
	DestinationID string    `json:"destination_id"`
	Status        string    `json:"status"`
	AttemptCount  int       `json:"attempt_count"`
	LastError     string    `json:"last_error,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
	Attempts      []Attempt `json:"attempts"`
	// ReplayClaim is the stamp of the destination replay that put the
	// delivery back to pending, until its next attempt: a replay run again
	// after a crash finishes its own claims (ReplayFailed).
	ReplayClaim string `json:"-"`
}

// Attempt records one try at sending a delivery.
type Attempt struct {
	Number     int       `json:"number"`
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`
	StatusCode int       `json:"status_code,omitempty"`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	Line       int       `json:"line,omitempty"`
	Logs       []string  `json:"logs,omitempty"`
	Request    string    `json:"request,omitempty"` // method and URL sent, for the merchant
}
