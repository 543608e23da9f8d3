// Package integrations is the catalog of destination integrations. Each
// integration is a package of its own that fills in an outbound.Spec; adding
// one is that package, its tests and one line in Catalog.
package integrations

import (
	"sort"

	"github.com/hookshift/hookshift/integrations/close"
	"github.com/hookshift/hookshift/integrations/customerio"
	"github.com/hookshift/hookshift/integrations/datafast"
	"github.com/hookshift/hookshift/integrations/discord"
	"github.com/hookshift/hookshift/integrations/generic"
	"github.com/hookshift/hookshift/integrations/hubspot"
	"github.com/hookshift/hookshift/integrations/inngest"
	"github.com/hookshift/hookshift/integrations/loops"
	"github.com/hookshift/hookshift/integrations/mixpanel"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/integrations/posthog"
	"github.com/hookshift/hookshift/integrations/resend"
	"github.com/hookshift/hookshift/integrations/segment"
	"github.com/hookshift/hookshift/integrations/sendgrid"
	"github.com/hookshift/hookshift/integrations/slack"
	"github.com/hookshift/hookshift/integrations/teams"
	"github.com/hookshift/hookshift/integrations/windmill"
	"github.com/hookshift/hookshift/integrations/zapier"
)

var catalog = []outbound.Spec{
	close.Spec,
	customerio.Spec,
	datafast.Spec,
	discord.Spec,
	generic.Spec,
	hubspot.Spec,
	inngest.Spec,
	loops.Spec,
	mixpanel.Spec,
	posthog.Spec,
	resend.Spec,
	segment.Spec,
	sendgrid.Spec,
	slack.Spec,
	teams.Spec,
	windmill.Spec,
	zapier.Spec,
}

// Catalog returns every integration, sorted by name.
func Catalog() []outbound.Spec {
	out := append([]outbound.Spec(nil), catalog...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the integration with this name.
func Lookup(name string) (outbound.Spec, bool) {
	for _, s := range catalog {
		if s.Name == name {
			return s, true
		}
	}
	return outbound.Spec{}, false
}

// Names returns the integration names, sorted.
func Names() []string {
	out := make([]string, 0, len(catalog))
	for _, s := range Catalog() {
		out = append(out, s.Name)
	}
	return out
}
