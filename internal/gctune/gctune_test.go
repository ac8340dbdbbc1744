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
	if got != (Settings{Percent: Percent, Limit: Limit}) || debug.SetGCPercent(-1) != Percent || debug.SetMemoryLimit(-1) != Limit {
		t.Errorf("without GOGC or GOMEMLIMIT: %+v, want the package's settings in effect", got)
	}

	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		env = map[string]string{name: "set by the operator"}
		got := Apply(getenv)
		if got != (Settings{Percent: 150, Limit: 1 << 30, FromEnv: true}) || debug.SetGCPercent(-1) != 150 {
			t.Errorf("with %s set: %+v, want the runtime's settings left as they were", name, got)
		}
		debug.SetGCPercent(150)
	}
}
