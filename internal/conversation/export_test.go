package conversation

import "slices"

// Held reports how many replies the running Outbox o holds in memory.
func Held(o *Outbox) int {
	r := o.running.Load()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}

// People reports how many people g holds a pace for.
func People(g *FloodGuard) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.people)
}

// SetConfidence makes e go to a destination of probability sure when the next is apart
// behind, and ask about two or three of at least plausible each when they reach ask together.
func SetConfidence(e *Engine, sure, apart, ask, plausible float64) {
	e.confidence = confidence{sure: sure, apart: apart, ask: ask, plausible: plausible, offTopic: defaultConfidence.offTopic}
}

// Commands lists the commands the engine answers.
func Commands() []string { return append(slices.Clone(restartCommands), otherCommands...) }
