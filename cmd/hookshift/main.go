// Command hookshift receives signed payment webhooks, stores them durably in
// Redis-backed queues, runs each merchant's transform and delivers the result.
//
//	hookshift serve [--roles receiver,worker,api]
//	hookshift send --url URL --secret SECRET [--kind standard-webhooks] FILE
//	hookshift transform test --code FILE --event FILE [--url URL] [--env k=v]
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: hookshift COMMAND [flags] [ARGS]

hookshift: webhook transformation and integration worker

Commands:
  serve [flags]                      run receiver, workers and admin API
  send [flags] FILE                  sign FILE with a source's secret and post it
  load [flags]                       post signed events at a rate or concurrency; throughput and latency
  transform test [flags]             run a transform script offline, no server or Redis
  sink [--addr HOST:PORT]            a local destination that prints what it receives
  events search|show                 find events; show one with its deliveries and attempts
  replay [flags] EVENT_ID            deliver events again (one, --since on a destination, --from-file)
  dlq list|replay                    list or re-run dead letters (/v1/dlq); root token
  migrate                            copy data to the current Redis key layout
  version                            print the version and build
  help [COMMAND]                     this text, or a command's flags (same as COMMAND --help)

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
	if len(args) > 0 && args[0] != "serve" {
		// Everything but serve prints text from elsewhere (API answers,
		// responses, script errors): no escape sequence reaches the terminal.
		stdout, stderr = newTermSafe(stdout), newTermSafe(stderr)
	}
	cmd := func(f func(context.Context, []string, io.Writer, io.Writer) int) func([]string) int {
		return func(a []string) int { return f(ctx, a, stdout, stderr) }
	}
	return runGroup("", usage, map[string]func([]string) int{
		"serve":     cmd(cmdServe),
		"send":      cmd(cmdSend),
		"load":      cmd(cmdLoad),
		"transform": cmd(cmdTransform),
		"sink":      cmd(cmdSink),
		"events":    cmd(cmdEvents),
		"replay":    cmd(cmdReplay),
		"dlq":       cmd(cmdDLQ),
		"migrate":   cmd(cmdMigrate),
		"version":   cmd(cmdVersion),
		"--version": cmd(cmdVersion),
		"help": func(a []string) int {
			if len(a) == 0 {
				io.WriteString(stdout, usage)
				return 0
			}
			return run(ctx, append(a, "--help"), stdout, stderr)
		},
	}, args, stdout, stderr)
}
