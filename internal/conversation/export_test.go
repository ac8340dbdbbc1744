package conversation

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
