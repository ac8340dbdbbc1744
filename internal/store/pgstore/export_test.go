package pgstore

// Migrated returns the migrations s's Open applied; the others were there already.
func Migrated(s *Store) []int { return s.migrated }

// LockKey is the advisory lock key of a role of s, for tests that end the session holding it.
func LockKey(s *Store, name string) int64 { return s.lockKey(name) }
