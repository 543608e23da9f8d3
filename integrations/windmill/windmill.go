// Package windmill is the Windmill destination: each event runs a Windmill
// script or flow asynchronously through its webhook endpoint,
// POST {base}/api/w/{workspace}/jobs/run/{p|f}/{path}, with a Bearer token;
// the JSON body is the run's arguments.
package windmill

import (
	_ "embed"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultBaseURL is Windmill Cloud.
const DefaultBaseURL = "https://app.windmill.dev"

var (
	//go:embed templates/dodo.js
	dodoJS string
	//go:embed templates/stripe.js
	stripeJS string
)

// Spec is the Windmill integration.
var Spec = outbound.Spec{
	Name:            "windmill",
	DefaultTemplate: "default",
	Title:           "Windmill",
	Description:     "Run a Windmill script or flow for each payment event, with the event as its arguments.",
	Auth:            "bearer",
	Fields: []outbound.Field{
		{Name: "token", Label: "Token", Secret: true, Required: true, Description: "A token from Account settings → Tokens, allowed to run the script or flow."},
		{Name: "workspace", Label: "Workspace ID", Required: true, Description: "The workspace id as in its URLs, e.g. acme."},
		{Name: "path", Label: "Script or flow path", Required: true, Description: "Its path in the workspace, starting with u/, f/ or g/: f/billing/on_payment."},
		{Name: "kind", Label: "Kind", Description: "script (default) or flow."},
		{Name: "base_url", Label: "Instance URL", Description: "https://app.windmill.dev (default), or your self-hosted instance's URL."},
	},
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: runs with arguments type, data (the Dodo object), timestamp, amount (major units), currency, customer_id, customer_email and event_key (stable across retries).", Code: dodoJS},
		{Name: "stripe", Description: "Stripe: runs with arguments type, data (data.object), created, amount (major units), currency, customer_id and event_key (the Stripe event id).", Code: stripeJS},
	},
	Authorize: func(cfg map[string]string, h http.Header) {
		if t := cfg["token"]; t != "" {
			h.Set("Authorization", "Bearer "+t)
		}
	},
	Validate: validate,
	Endpoint: endpoint,
	// Windmill's errors are plain-text bodies ("Not found: script not found
	// at name f/x", "Unauthorized"), kept as they are.
}

var (
	workspaceForm = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)
	pathForm      = regexp.MustCompile(`^[ufg]/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)
)

func validate(cfg map[string]string) error {
	if strings.ContainsAny(cfg["token"], " \t\r\n") {
		return errors.New("token: expected a Windmill token without spaces")
	}
	if !workspaceForm.MatchString(cfg["workspace"]) {
		return errors.New("workspace: expected the workspace id (letters, digits, - and _), as in /w/<id>/ URLs")
	}
	if !pathForm.MatchString(cfg["path"]) || strings.Contains(cfg["path"], "..") {
		return errors.New("path: expected a script or flow path such as f/billing/on_payment or u/alice/notify")
	}
	if _, err := outbound.Choice(cfg, "kind", "script", "script", "flow"); err != nil {
		return err
	}
	if b := cfg["base_url"]; b != "" {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return errors.New("base_url: expected the instance's scheme and host, like https://windmill.example.com")
		}
	}
	return nil
}

func endpoint(cfg map[string]string) string {
	base := strings.TrimSuffix(cfg["base_url"], "/")
	if base == "" {
		base = DefaultBaseURL
	}
	run := "p" // a script by path
	if cfg["kind"] == "flow" {
		run = "f"
	}
	return base + "/api/w/" + cfg["workspace"] + "/jobs/run/" + run + "/" + cfg["path"]
}
