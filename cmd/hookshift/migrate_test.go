package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/store"
)

// hookshift migrate --from an old Redis copies its layout-1 keys to the Redis
// of HOOKSHIFT_REDIS_URL; run again, it copies nothing.
func TestMigrateCommand(t *testing.T) {
	old, dst := redistest.Start(t), redistest.Start(t)
	ctx := context.Background()
	// A tenant record as the previous version wrote it.
	oc := old.Client()
	if err := oc.Set(ctx, "hookshift:tenant:ten_1", `{"id":"ten_1","name":"acme","created_at":"2026-01-01T00:00:00Z"}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	oc.SAdd(ctx, "hookshift:tenants", "ten_1")
	t.Setenv("HOOKSHIFT_REDIS_URL", dst.URL())
	for i, want := range []string{"copied 1 keys", "copied 0 keys to the new layout, 1 were already there"} {
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"migrate", "--from", old.URL()}, &out, &errOut); code != 0 || !strings.Contains(out.String(), want) {
			t.Fatalf("run %d: exit %d, out %q, err %q; want %q", i, code, out.String(), errOut.String(), want)
		}
	}
	ts, err := store.New(dst.Client(), nil, store.Options{}).ListTenants(ctx)
	if err != nil || len(ts) != 1 || ts[0].Name != "acme" {
		t.Fatalf("tenants after migrate: %+v %v", ts, err)
	}
	var errOut bytes.Buffer
	t.Setenv("HOOKSHIFT_REDIS_URL", "")
	if code := run(ctx, []string{"migrate"}, &bytes.Buffer{}, &errOut); code != 2 || !strings.Contains(errOut.String(), "HOOKSHIFT_REDIS_URL is not set") {
		t.Fatalf("without a URL: exit %d, %q", code, errOut.String())
	}
}
