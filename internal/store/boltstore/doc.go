// Package boltstore is the embedded conversation.Store: one bbolt file, nothing to install.
//
// The file holds these buckets: dialogs (key "platform:chat:user" to a dialog record, see
// dialogrecord.go), inbound (the platform update ids already handled, with when they were
// seen), outbox (replies committed and not yet delivered, keyed by a big-endian sequence
// number, so that iteration is commit order; outbox.go), events (what statistics are made
// of, in commit order) and meta (Ping's key).
//
// Every write goes through one goroutine (writer.go) that runs all the writes waiting for it
// in one bbolt transaction, committed with fsync, and answers them once it is durable:
// concurrent messages share a commit, and a lone message is committed at once. Commit runs
// the engine's step before that, on the dialog as it was read; the transaction checks that
// the stored dialog is still that one, and otherwise Commit starts over.
//
// Caveats:
//   - bbolt takes an exclusive lock on the file, so only one process can open it; a second
//     one gets conversation.ErrLocked after Options.LockTimeout. Claim's holds live in
//     memory, which is enough for the one process that can send.
//   - A commit that fails (a full disk, an I/O error) fails the writes of its group, and
//     nothing else: the next group tries again, and nothing is retried inside the store.
//   - bbolt never shrinks the file; the pages of deleted records are reused.
//   - Expire scans every dialog; it runs in the background, deleting in small transactions.
//   - A file written by the journal version of this package is brought up to date once,
//     at Open, and its journal files are deleted (legacyjournal.go).
package boltstore
