package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hookshift/hookshift/store"
)

// The operational event types (API.md "Alerts"): what hookshift tells a
// tenant about its own destinations.
const (
	AlertDisabled      = "hookshift.destination.disabled"
	AlertDeadLettered  = "hookshift.delivery.dead_lettered"
	AlertCircuitOpened = "hookshift.destination.circuit_opened"
	AlertRecovered     = "hookshift.destination.recovered"
)

// AlertTypes are the operational event types a tenant may subscribe to.
func AlertTypes() []string {
	return []string{AlertDisabled, AlertDeadLettered, AlertCircuitOpened, AlertRecovered}
}

// IsOperational reports whether an event type is one of hookshift's own
// operational events (templates render these).
func IsOperational(eventType string) bool { return strings.HasPrefix(eventType, "hookshift.") }

// IsOperationalEvent reports whether ev is an operational event hookshift
// raised (it has no source: no platform posted it). Its delivery raises no
// alert, so a failing alert destination cannot feed alerts back into itself.
func IsOperationalEvent(ev store.Event) bool { return ev.SourceID == "" && IsOperational(ev.Type) }

// alertReplayTargets are ReplayTargets for an operational event: the named
// destination if it is the tenant's and not the one the event is about, or
// the alert destinations as they are now.
func alertReplayTargets(ctx context.Context, st *store.Store, ev store.Event, destID string) ([]store.Destination, error) {
	var body struct {
		Data struct {
			DestinationID string `json:"destination_id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(ev.Payload, &body)
	subject := body.Data.DestinationID
	if destID != "" {
		d, err := st.GetDestination(ctx, ev.TenantID, destID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && d.ID == subject) {
			return nil, ErrNotOnSource
		}
		if err != nil {
			return nil, err
		}
		return []store.Destination{d}, nil
	}
	cfg, err := st.GetAlerts(ctx, ev.TenantID)
	if err != nil {
		return nil, err
	}
	dests, err := st.ListDestinations(ctx, ev.TenantID, "")
	if err != nil {
		return nil, err
	}
	return AlertTargets(cfg, dests, ev.Type, subject), nil
}

// AlertError is a PUT /v1/alerts that cannot be stored: the field and what
// was wrong with it.
type AlertError struct {
	Field   string
	Message string
}

func (e *AlertError) Error() string { return e.Field + ": " + e.Message }

// ValidateAlerts checks a tenant's alert settings against its destinations
// (every id must be one of them) and the known types. The first problem is
// returned, naming the bad value and, for a type, the allowed ones. Duplicates
// are dropped; the cleaned settings are returned.
func ValidateAlerts(in store.Alerts, tenantDests []store.Destination) (store.Alerts, error) {
	out := store.Alerts{DestinationIDs: []string{}, Types: []string{}}
	for i, id := range in.DestinationIDs {
		if !slices.ContainsFunc(tenantDests, func(d store.Destination) bool { return d.ID == id }) {
			return store.Alerts{}, &AlertError{Field: "destination_ids",
				Message: fmt.Sprintf("item %d: no destination %q in this tenant; expected the id of one of your destinations (GET /v1/destinations)", i, id)}
		}
		if !slices.Contains(out.DestinationIDs, id) {
			out.DestinationIDs = append(out.DestinationIDs, id)
		}
	}
	for i, t := range in.Types {
		if !slices.Contains(AlertTypes(), t) {
			return store.Alerts{}, &AlertError{Field: "types",
				Message: fmt.Sprintf("item %d: unknown alert type %q; expected one of %s", i, t, strings.Join(AlertTypes(), ", "))}
		}
		if !slices.Contains(out.Types, t) {
			out.Types = append(out.Types, t)
		}
	}
	return out, nil
}

// AlertTargets are the destinations an operational event of this type about
// the destination subjectID goes to: the tenant's chosen alert destinations,
// if the tenant chose the type, that are enabled, whatever their event-type
// filter, and never the destination the event is about.
func AlertTargets(a store.Alerts, tenantDests []store.Destination, eventType, subjectID string) []store.Destination {
	if !slices.Contains(a.Types, eventType) {
		return nil
	}
	var out []store.Destination
	for _, d := range tenantDests {
		if d.Disabled || d.ID == subjectID || !slices.Contains(a.DestinationIDs, d.ID) {
			continue
		}
		out = append(out, d)
	}
	return out
}
