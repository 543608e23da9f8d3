package rules

import (
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
// operational events. Such an event's delivery raises no alert, so a failing
// alert destination cannot feed alerts back into itself.
func IsOperational(eventType string) bool { return strings.HasPrefix(eventType, "hookshift.") }

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
