// Package gctune sets the Go garbage collector for the bot's workload.
//
// The bot keeps little in memory (a few megabytes: the knowledge base, the dialogs of active
// conversations) and allocates a lot per message (decoding updates, rendering, bbolt's
// nodes), so with the runtime's default (GOGC=100) its small heap is collected dozens of
// times a second under load: a fifth of the CPU of a message in BenchmarkThroughput.
// Collecting when the heap has grown to five times what is live instead, under a soft
// memory limit well inside the bot's memory budget, cuts that to a few percent and keeps the
// peak RSS bounded all the same (docs/performance.md has both figures).
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

// Settings is what Apply left in effect.
type Settings struct {
	Percent int   // -1: collection off, as GOGC=off
	Limit   int64 // bytes
	// FromEnv reports that the operator's GOGC or GOMEMLIMIT was left in effect.
	FromEnv bool
}

// Apply sets Percent and Limit, unless the operator set GOGC or GOMEMLIMIT: the runtime read
// those at start, and they win.
func Apply(getenv func(string) string) Settings {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		percent := debug.SetGCPercent(-1)
		debug.SetGCPercent(percent)
		return Settings{Percent: percent, Limit: debug.SetMemoryLimit(-1), FromEnv: true}
	}
	debug.SetGCPercent(Percent)
	debug.SetMemoryLimit(Limit)
	return Settings{Percent: Percent, Limit: Limit}
}
