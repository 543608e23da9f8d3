package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/transformer"
)

type kvFlag map[string]string

func (k kvFlag) String() string { return fmt.Sprint(map[string]string(k)) }
func (k kvFlag) Set(v string) error {
	key, val, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return fmt.Errorf("%q: expected key=value", v)
	}
	k[key] = val
	return nil
}

const transformUsage = `usage: hookshift transform test --code FILE --event FILE [--url URL] [--env KEY=VALUE]...

Runs a transform script against an event offline, with the engine the
workers use (no server, no Redis), and prints the request it would send.
A script error exits 1 with FILE:LINE:COLUMN.
`

// cmdTransform is the transform group; test is its only command.
func cmdTransform(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runGroup("transform", transformUsage, map[string]func([]string) int{
		"test": func(a []string) int { return cmdTransformTest(ctx, a, stdout, stderr) },
	}, args, stdout, stderr)
}

// cmdTransformTest runs a script against an event file offline, with the
// same engine the workers use, and prints the request it would send.
func cmdTransformTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newCmdFlags("transform test", transformUsage, stdout, stderr)
	code := fs.String("code", "", "the script `FILE` (defines function handler(webhook))")
	event := fs.String("event", "", "the event JSON `FILE`")
	url := fs.String("url", "https://example.com/webhook", "the destination URL the script sees")
	env := kvFlag{}
	fs.Var(env, "env", "a destination variable, `KEY=VALUE` (repeatable)")
	pos, exit, ok := fs.parse(args)
	if !ok {
		return exit
	}
	switch {
	case *code == "":
		return fs.usageError("--code is required: the script file")
	case *event == "":
		return fs.usageError("--event is required: the event JSON file")
	case len(pos) > 0:
		return fs.usageError("transform test takes no arguments (got %q)", pos)
	}
	src, err := os.ReadFile(*code)
	if err != nil {
		fmt.Fprintln(stderr, "hookshift transform test:", err)
		return 2
	}
	payload, err := os.ReadFile(*event)
	if err != nil {
		fmt.Fprintln(stderr, "hookshift transform test:", err)
		return 2
	}
	var env0 struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(payload, &env0); err != nil {
		fmt.Fprintf(stderr, "hookshift transform test: %s is not a JSON object: %v\n", *event, err)
		return 2
	}
	eng := transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()})
	res, err := eng.Run(ctx, transformer.Script{TenantID: "local", Code: string(src)}, transformer.Input{
		Method: "POST", URL: *url, EventType: env0.Type, Payload: payload, Env: env,
	})
	var te *transformer.Error
	if errors.As(err, &te) {
		for _, l := range te.Logs {
			fmt.Fprintln(stderr, "console:", l)
		}
		fmt.Fprintf(stderr, "%s:%d:%d: %s\n", *code, te.Line, te.Column, te.Error())
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "hookshift transform test:", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
	return 0
}
