// Command hookshift receives signed payment webhooks, stores them durably in
// Redis-backed queues, runs each merchant's transform and delivers the result.
//
//	hookshift serve [--roles receiver,worker,api]
//	hookshift send --url URL --secret SECRET [--kind standard-webhooks] FILE
//	hookshift transform test --code FILE --event FILE [--url URL] [--env k=v]
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `hookshift: webhook transformation and integration worker

Usage:
  hookshift serve [flags]            run receiver, workers and admin API (see --help)
  hookshift send [flags] FILE        sign FILE with a source's secret and post it
  hookshift load [flags]             post signed events at a rate or concurrency; throughput and latency
  hookshift transform test [flags]   run a transform script offline, no server or Redis
  hookshift sink [--addr A]          a local destination that prints what it receives
  hookshift events search|show       find events; show one with its deliveries and attempts
  hookshift replay [flags] EVENT_ID  deliver events again (one, --since on a destination, --from-file)
  hookshift dlq list|replay          list or re-run dead letters (/v1/dlq); root token

Environment: HOOKSHIFT_ADDR, HOOKSHIFT_REDIS_URL, HOOKSHIFT_ADMIN_TOKEN,
HOOKSHIFT_SECRET_KEY, HOOKSHIFT_EGRESS_ALLOW (flags of the same name in kebab case override them).
events, replay and dlq: HOOKSHIFT_API (default http://localhost:8080), HOOKSHIFT_TOKEN.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] != "serve" {
		// Everything but serve prints text from elsewhere (API answers,
		// responses, script errors): no escape sequence reaches the terminal.
		stdout, stderr = newTermSafe(stdout), newTermSafe(stderr)
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "send":
		return cmdSend(ctx, args[1:], stdout, stderr)
	case "load":
		return cmdLoad(ctx, args[1:], stdout, stderr)
	case "transform":
		if len(args) < 2 || args[1] != "test" {
			fmt.Fprintln(stderr, "usage: hookshift transform test --code FILE --event FILE [--url URL] [--env k=v]")
			return 2
		}
		return cmdTransformTest(ctx, args[2:], stdout, stderr)
	case "sink":
		return cmdSink(ctx, args[1:], stdout, stderr)
	case "events":
		return cmdEvents(ctx, args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(ctx, args[1:], stdout, stderr)
	case "dlq":
		return cmdDLQ(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hookshift: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
