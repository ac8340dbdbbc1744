package boltstore

// EncodeDialog is the record Commit writes for a dialog, for tests that fill a file directly.
var EncodeDialog = appendDialogRecord

// PageSize is the page size of a new file.
const PageSize = pageSize

// JournalTail returns the journal file being written and where its next record goes. Call
// it only while no write is on its way.
func JournalTail(s *Store) (path string, end int64) {
	return s.writes.files[s.writes.gen%2].Name(), s.writes.end
}
