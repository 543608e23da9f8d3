package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/store"
)

func TestValidateAlerts(t *testing.T) {
	mine := []store.Destination{{ID: "dst_a"}, {ID: "dst_b"}}
	got, err := ValidateAlerts(store.Alerts{DestinationIDs: []string{"dst_a", "dst_a", "dst_b"},
		Types: []string{AlertDisabled, AlertDisabled, AlertRecovered}}, mine)
	if err != nil || !slices.Equal(got.DestinationIDs, []string{"dst_a", "dst_b"}) || !slices.Equal(got.Types, []string{AlertDisabled, AlertRecovered}) {
		t.Fatalf("valid input: %+v %v, want it with duplicates dropped", got, err)
	}
	if got, err := ValidateAlerts(store.Alerts{}, mine); err != nil || got.DestinationIDs == nil || got.Types == nil {
		t.Fatalf("empty input: %+v %v, want empty lists", got, err)
	}
	for _, c := range []struct {
		in             store.Alerts
		field, mention string
	}{
		{store.Alerts{DestinationIDs: []string{"dst_a", "dst_theirs"}}, "destination_ids", `item 1: no destination "dst_theirs"`},
		{store.Alerts{Types: []string{"payment.succeeded"}}, "types", AlertCircuitOpened},
		{store.Alerts{Types: []string{"hookshift.*"}}, "types", `"hookshift.*"`},
	} {
		_, err := ValidateAlerts(c.in, mine)
		var ae *AlertError
		if !errors.As(err, &ae) || ae.Field != c.field || !strings.Contains(ae.Message, c.mention) {
			t.Errorf("%+v: %v, want an error on %s mentioning %s", c.in, err, c.field, c.mention)
		}
	}
}

// An alert goes to the chosen, enabled destinations of a chosen type,
// whatever their filter, and never to the destination it is about.
func TestAlertTargets(t *testing.T) {
	dests := []store.Destination{
		{ID: "dst_subject"}, {ID: "dst_slack", EventTypes: []string{"payment.succeeded"}},
		{ID: "dst_off", Disabled: true}, {ID: "dst_unchosen"},
	}
	cfg := store.Alerts{DestinationIDs: []string{"dst_subject", "dst_slack", "dst_off"}, Types: []string{AlertDisabled}}
	var ids []string
	for _, d := range AlertTargets(cfg, dests, AlertDisabled, "dst_subject") {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"dst_slack"}) {
		t.Fatalf("targets = %v, want [dst_slack]", ids)
	}
	if got := AlertTargets(cfg, dests, AlertRecovered, "dst_subject"); len(got) != 0 {
		t.Fatalf("a type the tenant did not choose went to %v", got)
	}
	if !IsOperationalEvent(store.Event{Type: AlertDisabled}) || IsOperationalEvent(store.Event{Type: AlertDisabled, SourceID: "src_1"}) {
		t.Fatal("an operational event is hookshift's own: a hookshift.* type and no source")
	}
}
