package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paydoctor/bot/internal/store/pgstore"
	"github.com/paydoctor/bot/internal/store/pgtest"
)

func TestCampaign_OneLeaderAndTakeover(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	first, err := a.Campaign(ctx, "telegram-poller")
	if err != nil {
		t.Fatal(err)
	}
	won := make(chan struct{})
	go func() {
		second, err := b.Campaign(ctx, "telegram-poller")
		if err != nil {
			t.Error(err)
			return
		}
		close(won)
		second.Release()
	}()
	select {
	case <-won:
		t.Fatal("two replicas hold the role at once")
	case <-time.After(2500 * time.Millisecond):
	}
	// Another role is independent.
	other, err := b.Campaign(ctx, "something-else")
	if err != nil {
		t.Fatal(err)
	}
	other.Release()

	first.Release()
	select {
	case <-won:
	case <-time.After(5 * time.Second):
		t.Fatal("the role was not taken over within 5 s of its release")
	}
}

func TestCampaign_LostWhenTheSessionDies(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	s := open(t, dsn)
	ctx := context.Background()
	l, err := s.Campaign(ctx, "poller")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// What a replica's death looks like to the database: its session ends. Only the session
	// holding this role's lock: the database is shared with other tests.
	key := uint64(pgstore.LockKey(s, "poller"))
	tag, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2`,
		int64(key>>32), int64(key&0xffffffff))
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("ending the leader's session: %v, %v rows", err, tag)
	}
	select {
	case <-l.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost did not close after the session holding the lock died")
	}
	// And the role is free for another replica.
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	again, err := open(t, dsn).Campaign(ctx2, "poller")
	if err != nil {
		t.Fatalf("the role was not free after the leader died: %v", err)
	}
	again.Release()
}

// Two deployments in one database, each in its own schema, elect their leaders apart.
func TestCampaign_RolesArePerSchema(t *testing.T) {
	a, b := open(t, pgtest.FreshSchema(t)), open(t, pgtest.FreshSchema(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first, err := a.Campaign(ctx, "telegram-poller")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	second, err := b.Campaign(ctx, "telegram-poller")
	if err != nil {
		t.Fatalf("the other schema's replica could not take its own role: %v", err)
	}
	second.Release()
}
