package boltstore

import (
	"slices"
	"sync"

	"github.com/paydoctor/bot/internal/conversation"
)

// dialogCacheSize bounds the dialogs kept decoded: more than are active at once in a burst.
// An entry is about 600 bytes, up to about 5 KB with a handoff's last message: 1-10 MB.
const dialogCacheSize = 2048

// dialogCache holds the last committed record of recently active dialogs, decoded, so that
// the next message of an active conversation needs neither a read transaction nor a decode.
// It is only a guess: Commit's write transaction still compares the stored record with the
// one the step started from, so a stale entry costs a retry, never a lost update.
type dialogCache struct {
	mu      sync.Mutex
	entries map[string]cachedDialog
}

type cachedDialog struct {
	record []byte
	dialog conversation.Dialog
}

func newDialogCache() *dialogCache {
	return &dialogCache{entries: map[string]cachedDialog{}}
}

// get returns the cached record of key and a copy of its dialog that the caller may change.
func (c *dialogCache) get(key string) ([]byte, conversation.Dialog, bool) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok {
		return nil, conversation.Dialog{}, false
	}
	d := e.dialog
	d.Plan = slices.Clone(d.Plan)
	d.Attempts = slices.Clone(d.Attempts)
	return e.record, d, true
}

// put records that key's stored record is now record, which decodes to d. d must not be
// changed afterwards.
func (c *dialogCache) put(key string, record []byte, d conversation.Dialog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= dialogCacheSize {
		for k := range c.entries { // Go's map order is random: this evicts an arbitrary entry
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = cachedDialog{record: record, dialog: d}
}

func (c *dialogCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// clear forgets everything, after dialogs were changed other than by Commit.
func (c *dialogCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
