package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/store"
)

// cmdSend signs a JSON file the way a payment platform would and posts it:
// the quickest way to see an event go through a running hookshift.
func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the source's ingest URL, e.g. http://localhost:8080/v1/webhooks/src_...")
	secret := fs.String("secret", "", "the source's signing secret")
	kind := fs.String("kind", "standard-webhooks", "the source's kind")
	config := fs.String("config", "", "the source's config as JSON, if any")
	id := fs.String("id", "", "webhook id (default: a new random id)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" || *secret == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: hookshift send --url URL --secret SECRET [--kind standard-webhooks] [--id ID] FILE")
		return 2
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "hookshift send:", err)
		return 1
	}
	k, ok := inbound.Lookup(*kind)
	if !ok {
		fmt.Fprintf(stderr, "hookshift send: unknown kind %q; one of %v\n", *kind, inbound.Kinds())
		return 2
	}
	if *id == "" {
		*id = store.NewID("msg")
	}
	var cfg json.RawMessage
	if *config != "" {
		cfg = json.RawMessage(*config)
	}
	h, signed, err := k.Sign(cfg, *secret, *id, body, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "hookshift send: sign:", err)
		return 1
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *url, bytes.NewReader(signed))
	if err != nil {
		fmt.Fprintln(stderr, "hookshift send:", err)
		return 2
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "hookshift send:", err)
		return 1
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	fmt.Fprintf(stdout, "%d %s", resp.StatusCode, out)
	if resp.StatusCode >= 300 {
		return 1
	}
	return 0
}
