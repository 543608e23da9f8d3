package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// cmdSink runs a local destination that prints each request it receives and
// answers 200: the far end of the README tour and of local load runs.
func cmdSink(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "listen address")
	quiet := fs.Bool("quiet", false, "do not print requests")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if !*quiet {
			line, _ := json.Marshal(map[string]any{"method": r.Method, "path": r.URL.Path,
				"idempotency_key": r.Header.Get("Idempotency-Key"), "body": json.RawMessage(validJSON(body))})
			fmt.Fprintf(stdout, "%s\n", line)
		}
		w.WriteHeader(http.StatusOK)
	})}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Fprintf(stderr, "hookshift sink listening on http://%s\n", *addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(stderr, "hookshift sink:", err)
		return 1
	}
	return 0
}

func validJSON(b []byte) []byte {
	if json.Valid(b) {
		return b
	}
	q, _ := json.Marshal(string(b))
	return q
}
