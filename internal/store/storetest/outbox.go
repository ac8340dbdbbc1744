package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

// The outbox as senders use it: Claim, Unclaim, MarkDelivered, and Ping.

// commitReplies commits one message for each of n people of platform and returns the ids of
// their replies, in commit order.
func commitReplies(t *testing.T, s conversation.Store, platform string, n int) []uint64 {
	t.Helper()
	var ids []uint64
	for i := range n {
		k := conversation.Key{Platform: platform, Chat: fmt.Sprint("c", i), User: fmt.Sprint("u", i)}
		d, err := s.Commit(context.Background(), conversation.Turn{Key: k, InboundID: fmt.Sprint(platform, "-", i)}, set("en", fmt.Sprint("q", i), time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

func deliveryIDs(ds []conversation.Delivery) []uint64 {
	var ids []uint64
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func claim(t *testing.T, s conversation.Store, after uint64, limit int) []uint64 {
	t.Helper()
	got, err := s.Claim(context.Background(), "telegram", after, limit)
	if err != nil {
		t.Fatalf("Claim(after %d, limit %d): %v", after, limit, err)
	}
	return deliveryIDs(got)
}

func testPing(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := openStore()
	ctx := context.Background()
	for range 3 {
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}
	commitReplies(t, s, "telegram", 1)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after a commit: %v", err)
	}
	s.Close()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping succeeded on a closed store")
	}
}

// The reply Commit returns waits for a sender like any other: nobody holds it.
func testCommitUnheld(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	d, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "1", Route: []byte("r")}, set("en", "q", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "telegram", 0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim right after Commit = %+v, %v; want the reply", got, err)
	}
	if got[0].ID != d.ID || got[0].Key != key || string(got[0].Route) != "r" || got[0].Reply.Text != "asked q" || !got[0].Created.Equal(d.Created) {
		t.Errorf("claimed %+v, committed %+v", got[0], d)
	}
}

func testClaim(t *testing.T, openStore func() conversation.Store, c *clock) {
	ctx := context.Background()
	s := openStore()
	ids := commitReplies(t, s, "telegram", 3)
	if got, err := s.Claim(ctx, "telegram", 0, 0); err != nil || len(got) != 0 {
		t.Errorf("Claim with limit 0 = %v, %v; want nothing", got, err)
	}
	if got := claim(t, s, 0, 2); !slices.Equal(got, ids[:2]) {
		t.Fatalf("Claim(2) = %v, want the two oldest %v", got, ids[:2])
	}
	if got := claim(t, s, 0, 10); !slices.Equal(got, ids[2:]) {
		t.Fatalf("a second Claim = %v, want only the one the first did not hold, %v", got, ids[2:])
	}
	if got := claim(t, s, 0, 10); len(got) != 0 {
		t.Fatalf("a third Claim = %v, want nothing: all are held", got)
	}
	// Unclaim gives holds up at once; ids held by nobody, or never issued, are ignored.
	if err := s.Unclaim(ctx, ids[0], ids[2], ids[2]+1000); err != nil {
		t.Fatal(err)
	}
	if err := s.Unclaim(ctx); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, 0, 10); !slices.Equal(got, []uint64{ids[0], ids[2]}) {
		t.Fatalf("Claim after Unclaim = %v, want the two given up, %v", got, []uint64{ids[0], ids[2]})
	}
	// A sender that died without sending: once its lease ran out the replies are anyone's.
	c.Add(time.Hour)
	if got := claim(t, s, 0, 10); !slices.Equal(got, ids) {
		t.Fatalf("Claim after the leases ran out = %v, want all of %v", got, ids)
	}
	if err := s.MarkDelivered(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	if got := claim(t, s, 0, 10); !slices.Equal(got, ids[1:]) {
		t.Errorf("Claim after a delivery = %v, want the undelivered %v", got, ids[1:])
	}
	s.Close()
	s = open(t, openStore)
	if pending, err := s.Pending(ctx, "telegram", 10); err != nil || len(pending) != 2 {
		t.Errorf("Pending after a restart = %d, %v; want 2", len(pending), err)
	}
}

// Claim's after is a cursor: only replies with a larger id, still oldest first, and only of
// the platform asked for.
func testClaimAfter(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	var ids []uint64
	for i := range 6 {
		k := conversation.Key{Platform: "telegram", Chat: fmt.Sprint(i), User: "u"}
		d, err := s.Commit(context.Background(), conversation.Turn{Key: k}, set("en", "q", time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
		if i%2 == 0 { // a reply of another platform between the telegram ones
			slack := conversation.Key{Platform: "slack", Chat: "C", User: fmt.Sprint(i)}
			if _, err := s.Commit(context.Background(), conversation.Turn{Key: slack}, set("en", "q", time.Now())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := claim(t, s, 0, 2); !slices.Equal(got, ids[:2]) {
		t.Fatalf("Claim(after 0, 2) = %v, want %v", got, ids[:2])
	}
	if got := claim(t, s, ids[3], 10); !slices.Equal(got, ids[4:]) {
		t.Fatalf("Claim(after %d) = %v, want %v", ids[3], got, ids[4:])
	}
	if got := claim(t, s, ids[1], 10); !slices.Equal(got, ids[2:4]) {
		t.Fatalf("Claim(after %d) = %v, want the unheld ones after it, %v", ids[1], got, ids[2:4])
	}
	if got := claim(t, s, ids[5], 10); len(got) != 0 {
		t.Errorf("Claim after the newest = %v, want nothing", got)
	}
	slack, err := s.Claim(context.Background(), "slack", 0, 10)
	if err != nil || len(slack) != 3 {
		t.Errorf("Claim(slack) = %d replies, %v; want 3", len(slack), err)
	}
}

func testMarkDeliveredSeveral(t *testing.T, openStore func() conversation.Store, _ *clock) {
	ctx := context.Background()
	s := openStore()
	ids := commitReplies(t, s, "telegram", 5)
	if got := claim(t, s, 0, 10); !slices.Equal(got, ids) {
		t.Fatalf("Claim = %v, want %v", got, ids)
	}
	if err := s.MarkDelivered(ctx, ids[0], ids[2], ids[4], ids[4]+1000); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx, ids[0], ids[2]); err != nil {
		t.Errorf("marking delivered replies again must be harmless: %v", err)
	}
	pending, err := s.Pending(ctx, "telegram", 10)
	if err != nil || !slices.Equal(deliveryIDs(pending), []uint64{ids[1], ids[3]}) {
		t.Errorf("Pending after MarkDelivered = %v, %v; want %v", deliveryIDs(pending), err, []uint64{ids[1], ids[3]})
	}
	if got := claim(t, s, 0, 10); len(got) != 0 {
		t.Errorf("Claim = %v: the undelivered replies are still held, the delivered gone", got)
	}
	s.Close()
	s = open(t, openStore)
	if pending, err := s.Pending(ctx, "telegram", 10); err != nil || !slices.Equal(deliveryIDs(pending), []uint64{ids[1], ids[3]}) {
		t.Errorf("Pending after a restart = %v, %v; want %v", deliveryIDs(pending), err, []uint64{ids[1], ids[3]})
	}
}

// Several senders claim and deliver while people write: every reply is claimed exactly once,
// and never after it was marked delivered.
func testSenders(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const committers, perCommitter = 4, 30
	var (
		mu        sync.Mutex
		claimed   = map[uint64]int{}
		delivered = map[uint64]bool{}
	)
	var people sync.WaitGroup
	for c := range committers {
		people.Go(func() {
			k := conversation.Key{Platform: "telegram", Chat: fmt.Sprint(c), User: fmt.Sprint(c)}
			for i := range perCommitter {
				if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: fmt.Sprint(c, "-", i)}, set("en", "q", time.Now())); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var senders sync.WaitGroup
	for range 3 {
		senders.Go(func() {
			for ctx.Err() == nil {
				got, err := s.Claim(ctx, "telegram", 0, 7)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				done := len(delivered) == committers*perCommitter
				for _, d := range got {
					claimed[d.ID]++
					if delivered[d.ID] {
						t.Errorf("reply %d claimed after it was marked delivered", d.ID)
					}
				}
				mu.Unlock()
				if done {
					return
				}
				if err := s.MarkDelivered(ctx, deliveryIDs(got)...); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range got {
					delivered[d.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	people.Wait()
	senders.Wait()
	if len(claimed) != committers*perCommitter {
		t.Errorf("%d replies claimed, want %d", len(claimed), committers*perCommitter)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("reply %d claimed %d times", id, n)
		}
	}
}
