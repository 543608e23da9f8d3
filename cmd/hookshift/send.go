package main

import (
	"bytes"
	"context"
	"encoding/json"
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
const sendUsage = `usage: hookshift send --url URL --secret SECRET [--kind KIND] [--id ID] [--config JSON] FILE

Signs FILE (a JSON event) with the source's secret as the platform does and
posts it to the source's ingest URL. Prints the webhook id, then the answer.
Send the same --id twice: the second answer says "duplicate":true.
`

func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newCmdFlags("send", sendUsage, stdout, stderr)
	url := fs.String("url", "", "the source's ingest URL, e.g. http://localhost:8080/v1/webhooks/src_...")
	secret := fs.String("secret", "", "the source's signing secret")
	kind := fs.String("kind", "standard-webhooks", "the source's kind")
	config := fs.String("config", "", "the source's config as JSON, if any")
	id := fs.String("id", "", "webhook id (default: a new random id, printed)")
	pos, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	switch {
	case *url == "":
		return fs.usageError("--url is required: the source's ingest URL")
	case *secret == "":
		return fs.usageError("--secret is required: the source's signing secret")
	case len(pos) == 0:
		return fs.usageError("FILE is required: the JSON event to sign and post")
	case len(pos) > 1:
		return fs.usageError("one FILE, got %d arguments %q", len(pos), pos)
	}
	body, err := os.ReadFile(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "hookshift send:", err)
		return 1
	}
	k, ok := inbound.Lookup(*kind)
	if !ok {
		return fs.usageError("--kind %q: unknown; one of %v", *kind, inbound.Kinds())
	}
	if *id == "" {
		*id = store.NewID("msg")
	}
	// The id is what a repeat needs (--id), so say it before sending.
	fmt.Fprintf(stderr, "webhook id %s\n", *id)
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
