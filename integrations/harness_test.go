package integrations_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/transformer"
)

// engine is one transformer with the catalog's script helpers, as serve
// builds it.
var engine = transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()})

// fixture reads testdata/<dir>/<name>.
func fixture(t testing.TB, dir, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtures lists the sample events of one source.
func fixtures(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s: %v", dir, err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// eventType is the type the inbound side gives an event of this source.
func eventType(t testing.TB, dir string, raw json.RawMessage) string {
	t.Helper()
	var env struct {
		Type   string `json:"type"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	if dir == "cryptomus" {
		return "cryptomus." + env.Status
	}
	return env.Type
}

// template finds a catalog template.
func template(t testing.TB, integration, name string) (outbound.Spec, outbound.Template) {
	t.Helper()
	spec, ok := integrations.Lookup(integration)
	if !ok {
		t.Fatalf("no integration %q", integration)
	}
	for _, tpl := range spec.Templates {
		if tpl.Name == name {
			return spec, tpl
		}
	}
	t.Fatalf("%s has no template %q", integration, name)
	return spec, outbound.Template{}
}

// destURL is the URL a destination of this integration is created with.
func destURL(spec outbound.Spec) string {
	if spec.Endpoint != nil { // a URL built from the config (Inngest's key, Windmill's workspace and path)
		cfg := map[string]string{}
		for _, f := range spec.Fields {
			if f.Required {
				cfg[f.Name] = "test_" + f.Name
			}
		}
		return spec.URLFor(cfg)
	}
	switch spec.Name {
	case "slack":
		return "https://hooks.slack.com/services/T000/B000/XXXX"
	case "discord":
		return "https://discord.com/api/webhooks/123/abc"
	case "http":
		return "https://merchant.example.com/hooks"
	}
	if spec.DefaultURL == "" { // a URL-credential integration (Teams, Zapier...)
		return "https://" + spec.Name + ".example.com/hook"
	}
	return spec.DefaultURL
}

// runTemplate runs one catalog template on a raw event.
func runTemplate(t testing.TB, integration, name, dir string, raw json.RawMessage) (transformer.Result, error) {
	t.Helper()
	spec, tpl := template(t, integration, name)
	return engine.Run(context.Background(), transformer.Script{TenantID: "t_test", Code: tpl.Code}, transformer.Input{
		Method: "POST", URL: destURL(spec), EventType: eventType(t, dir, raw), Payload: raw, Env: scriptEnv(spec),
	})
}

// scriptEnv is the env a template sees on a destination created with its
// required config (Resend's from and to reach it through Spec.ScriptEnv).
func scriptEnv(spec outbound.Spec) map[string]string {
	cfg := map[string]string{}
	for _, f := range spec.Fields {
		cfg[f.Name] = "ops@example.com"
	}
	return spec.ScriptEnvFor(cfg, nil)
}

// mustRun runs a template and fails on a script error.
func mustRun(t testing.TB, integration, name, dir string, raw json.RawMessage) transformer.Result {
	t.Helper()
	res, err := runTemplate(t, integration, name, dir, raw)
	if err != nil {
		var se *transformer.Error
		if errors.As(err, &se) {
			t.Fatalf("%s/%s on %s: %v; logs %q", integration, name, dir, se, se.Logs)
		}
		t.Fatalf("%s/%s: %v", integration, name, err)
	}
	return res
}

// body decodes a result's JSON payload.
func body(t testing.TB, res transformer.Result) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(res.Payload, &m); err != nil {
		t.Fatalf("payload %s: %v", res.Payload, err)
	}
	return m
}

// patch returns raw with fn applied to its decoded form.
func patch(t testing.TB, raw json.RawMessage, fn func(m map[string]any)) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fieldsEqual compares the listed fields of a body; nil in want means the
// field must be absent.
func fieldsEqual(t testing.TB, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, present := got[k]
		if w == nil {
			if present {
				t.Errorf("%s = %v, want absent", k, g)
			}
			continue
		}
		if !present || g != w {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
}
