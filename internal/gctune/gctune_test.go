package gctune

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	got := Apply(getenv)
	if got != Percent || debug.SetGCPercent(-1) != Percent || debug.SetMemoryLimit(-1) != Limit {
		t.Errorf("without GOGC or GOMEMLIMIT: Apply = %d, want the package's settings in effect", got)
	}

	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		debug.SetGCPercent(150)
		debug.SetMemoryLimit(1 << 30)
		env = map[string]string{name: "set by the operator"}
		got := Apply(getenv)
		if got != 150 || debug.SetGCPercent(-1) != 150 || debug.SetMemoryLimit(-1) != 1<<30 {
			t.Errorf("with %s set: Apply = %d, want the runtime's settings left as they were", name, got)
		}
	}
}
