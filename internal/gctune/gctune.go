// Package gctune sets the Go garbage collector for the bot's workload.
//
// The bot keeps little in memory (a few megabytes: the knowledge base, the dialogs of active
// conversations) and allocates a lot per message (decoding updates, rendering, bbolt's
// nodes), so with the runtime's default (GOGC=100) its small heap is collected dozens of
// times a second under load: about a sixth of the CPU in BenchmarkThroughput's profile
// (background marking and assists). Collecting when the heap has grown to five times what
// is live instead, under a soft memory limit well inside the bot's memory budget, cuts that
// to under a tenth and keeps the peak RSS bounded all the same (docs/performance.md).
package gctune

import (
	"runtime/debug"
)

const (
	// Percent is the collector's target: collect when the heap has grown by this percentage
	// of what was live after the last collection.
	Percent = 400
	// Limit is the soft memory limit: the collector works harder as the Go runtime's memory
	// nears it, whatever Percent says.
	Limit = 48 << 20
)

// Apply sets Percent and Limit, unless the operator set GOGC or GOMEMLIMIT: the runtime read
// those at start, and they win. It returns the collector's target in effect (-1: off).
func Apply(getenv func(string) string) (percent int) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		percent = debug.SetGCPercent(-1)
		debug.SetGCPercent(percent)
		return percent
	}
	debug.SetGCPercent(Percent)
	debug.SetMemoryLimit(Limit)
	return Percent
}
