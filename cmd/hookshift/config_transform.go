package main

import (
	"flag"

	"github.com/hookshift/hookshift/transformer"
)

// transformLimits are the sandbox's size, depth and memory limits, each a
// serve flag (and so a HOOKSHIFT_ variable) with the engine's default.
type transformLimits struct {
	MaxSourceLen   int
	MaxInputBytes  int
	MaxOutputBytes int
	MaxLogBytes    int
	MaxCallStack   int
	MaxHeapGrowth  int64
	MaxStringLen   int
	MaxArrayLen    int
}

// registerTransformLimits adds the sandbox limit flags to fs.
func registerTransformLimits(fs *flag.FlagSet, l *transformLimits) {
	for _, f := range []struct {
		p          *int
		name, help string
		def        int
	}{
		{&l.MaxSourceLen, "transform-max-source-chars", "characters of a transform script", transformer.DefaultMaxSourceLen},
		{&l.MaxInputBytes, "transform-max-input-bytes", "bytes of the event a transform is given", transformer.DefaultMaxInputBytes},
		{&l.MaxOutputBytes, "transform-max-output-bytes", "bytes of the payload a transform returns", transformer.DefaultMaxOutputBytes},
		{&l.MaxLogBytes, "transform-max-log-bytes", "bytes of console output kept per run (the rest is cut, and says so)", transformer.DefaultMaxLogBytes},
		{&l.MaxCallStack, "transform-max-call-stack", "nested calls in one run", transformer.DefaultMaxCallStack},
		{&l.MaxStringLen, "transform-max-string-len", "UTF-16 units of a string one built-in call may build (repeat, join, JSON.stringify, ...)", transformer.DefaultMaxStringLen},
		{&l.MaxArrayLen, "transform-max-array-len", "elements one built-in call may walk, copy or spread", transformer.DefaultMaxArrayLen},
	} {
		fs.IntVar(f.p, f.name, f.def, "most "+f.help)
	}
	fs.Int64Var(&l.MaxHeapGrowth, "transform-max-heap-growth", transformer.DefaultMaxHeapGrowth,
		"bytes of heap one run may grow; the run that allocates is charged, a run stopped by another's growth is retried")
}

// transformerOptions is the engine's configuration for serve.
func transformerOptions(cfg config) transformer.Options {
	l := cfg.TransformLimits
	return transformer.Options{
		Timeout: cfg.TransformTime, MaxTenantRuns: cfg.TransformTenantRuns, PreviewConcurrency: cfg.TransformPreviewRuns,
		MaxSourceLen: l.MaxSourceLen, MaxInputBytes: l.MaxInputBytes, MaxOutputBytes: l.MaxOutputBytes,
		MaxLogBytes: l.MaxLogBytes, MaxCallStack: l.MaxCallStack, MaxHeapGrowth: l.MaxHeapGrowth,
		MaxStringLen: l.MaxStringLen, MaxArrayLen: l.MaxArrayLen,
	}
}
