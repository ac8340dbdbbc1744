package pgstore

// Migrated returns the migrations s's Open applied; the others were there already.
func Migrated(s *Store) []int { return s.migrated }
