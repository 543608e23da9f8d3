package integrations_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/transformer"
)

// Every catalog entry is complete and every template compiles.
func TestCatalogEntries(t *testing.T) {
	names := integrations.Names()
	for _, want := range []string{"datafast", "discord", "http", "segment", "slack"} {
		if !slices.Contains(names, want) {
			t.Errorf("catalog lacks %q (has %v)", want, names)
		}
	}
	for _, spec := range integrations.Catalog() {
		t.Run(spec.Name, func(t *testing.T) {
			if spec.Name == "" || spec.Title == "" || spec.Description == "" {
				t.Errorf("name %q, title %q, description %q", spec.Name, spec.Title, spec.Description)
			}
			if !slices.Contains([]string{"bearer", "basic", "url", "body", "none"}, spec.Auth) {
				t.Errorf("auth = %q", spec.Auth)
			}
			if len(spec.Fields) == 0 {
				t.Error("no config fields")
			}
			if len(spec.Templates) == 0 {
				t.Error("no templates")
			}
			switch spec.Auth {
			case "url":
				if spec.URLField == "" || !spec.SecretFields()[spec.URLField] {
					t.Errorf("url auth needs a secret URLField, got %q", spec.URLField)
				}
			case "bearer", "basic":
				if spec.Authorize == nil || (spec.DefaultURL == "" && spec.Endpoint == nil) {
					t.Error("needs Authorize and a DefaultURL or an Endpoint")
				}
			}
			for _, f := range spec.Fields {
				if f.Name == "" || f.Label == "" {
					t.Errorf("field %+v", f)
				}
			}
			seen := map[string]bool{}
			for _, tpl := range spec.Templates {
				if tpl.Name == "" || tpl.Description == "" || seen[tpl.Name] {
					t.Errorf("template %q: empty name or description, or a duplicate", tpl.Name)
				}
				seen[tpl.Name] = true
				if err := engine.Check(tpl.Code); err != nil {
					t.Errorf("template %s does not compile: %v", tpl.Name, err)
				}
			}
			if got, ok := integrations.Lookup(spec.Name); !ok || got.Name != spec.Name {
				t.Error("Lookup fails")
			}
		})
	}
}

// Every template, on every sample event of every source, either produces a
// request or cancels: never a script error. A merchant who points a
// template at the wrong event types gets skips, not failed deliveries.
func TestEveryTemplateRunsOnEverySample(t *testing.T) {
	for _, dir := range []string{"dodo", "stripe", "cryptomus"} {
		files := fixtures(t, dir)
		for _, spec := range integrations.Catalog() {
			for _, tpl := range spec.Templates {
				for _, f := range files {
					res, err := runTemplate(t, spec.Name, tpl.Name, dir, fixture(t, dir, f))
					if err != nil {
						var se *transformer.Error
						errors.As(err, &se)
						t.Errorf("%s/%s on %s/%s: %v (logs %q)", spec.Name, tpl.Name, dir, f, err, se.Logs)
						continue
					}
					if !res.Cancel && len(res.Payload) == 0 {
						t.Errorf("%s/%s on %s/%s: neither a payload nor a cancel", spec.Name, tpl.Name, dir, f)
					}
				}
			}
		}
	}
}

// Every named default template exists, so a destination created with only
// its required config gets a working transform.
func TestDefaultTemplatesExist(t *testing.T) {
	for _, spec := range integrations.Catalog() {
		if spec.DefaultTemplate == "" {
			continue
		}
		if _, ok := spec.Template(spec.DefaultTemplate); !ok {
			t.Errorf("%s: default template %q is not in its templates", spec.Name, spec.DefaultTemplate)
		}
	}
}
