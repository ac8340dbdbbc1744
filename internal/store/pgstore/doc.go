// Package pgstore is the conversation.Store on PostgreSQL, for deployments that run several
// replicas of the bot on one database. bbolt (package boltstore) stays the default for one
// machine.
//
// The schema's tables: dialogs (one row per platform, chat and user, holding the versioned
// record of conversation.MarshalDialog and its last_active time), inbound (the platform
// update ids already handled, with when they were seen), outbox (replies committed but not
// yet delivered, with a bigserial id and the time until which a sender holds them), events,
// and ping (one row, which Ping rewrites). Numbered migrations are embedded
// (migrations/NNNN_name.sql) and applied by Open in one transaction under an advisory lock
// keyed by the schema, and recorded in schema_migrations, so replicas may start together.
//
// Commit is one read-committed transaction: insert the inbound id (ON CONFLICT DO NOTHING:
// no row means a duplicate, refused before step runs; a concurrent duplicate waits for the
// first transaction and is refused once it commits), lock the dialog row with SELECT ... FOR
// UPDATE (inserting it first if missing), run step, update the dialog, insert the outbox row.
// So one person's messages are handled one at a time even when they reach different
// processes. It takes two round trips: one batch (begin, inbound id, lock) before step and
// one (update, outbox insert, commit) after.
//
// Caveats:
//   - Outbox ids come from a sequence, so they increase in the order rows were inserted.
//     For one person that is commit order (the row lock orders the inserts); across people,
//     a transaction that took a smaller id may commit after one that took a larger id, so
//     Claim with after set to the largest id seen may pass over another person's reply that
//     committed late: a sender must also claim from 0 now and then. Until it does, Claim
//     holds back that chat's later replies too, so a chat's replies are claimed oldest first. Pending starts from the oldest row left.
//   - Timestamps are stored with microsecond precision; Commit truncates its clock to that,
//     so Delivery.Created equals what Pending returns later.
//   - Errors never contain the DSN. Those caused by an unreachable database or a broken
//     connection wrap ErrUnavailable; a Commit that failed that way may or may not have been
//     committed, and its redelivery is refused with conversation.ErrDuplicate if it was.
//   - A schema migrated by a newer bot (a version in schema_migrations this one does not
//     know) makes Open fail with conversation.ErrUnknownVersion: upgrade every replica.
package pgstore
