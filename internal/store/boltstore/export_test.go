package boltstore

// EncodeDialog is the record Commit writes for a dialog, for tests that fill a file directly.
var EncodeDialog = appendDialogRecord

// PageSize is the page size of a new file.
const PageSize = pageSize

// CommitEachAlone makes s commit every write in a transaction of its own, for comparison in
// benchmarks.
func CommitEachAlone(s *Store) {
	s.writer.mu.Lock()
	defer s.writer.mu.Unlock()
	s.writer.maxGroup = 1
}
