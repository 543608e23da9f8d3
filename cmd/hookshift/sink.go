package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// cmdSink runs a local destination that prints each request it receives and
// answers 200: the far end of the README tour and of local load runs.
const sinkUsage = `usage: hookshift sink [--addr HOST:PORT] [--quiet]

A local destination: prints each request it receives as one JSON line
(method, path, Idempotency-Key, body) and answers 200.
`

func cmdSink(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newCmdFlags("sink", sinkUsage, stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "listen address, `HOST:PORT`")
	quiet := fs.Bool("quiet", false, "do not print requests")
	pos, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError("sink takes no arguments (got %q)", pos)
	}
	// Listen first: "listening" is printed only once it is true.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "hookshift sink:", err)
		return 1
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if !*quiet {
			line, _ := json.Marshal(map[string]any{"method": r.Method, "path": r.URL.Path,
				"idempotency_key": r.Header.Get("Idempotency-Key"), "body": json.RawMessage(validJSON(body))})
			fmt.Fprintf(stdout, "%s\n", line)
		}
		w.WriteHeader(http.StatusOK)
	})}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Fprintf(stderr, "hookshift sink listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
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
