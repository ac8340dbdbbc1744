package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/pgstore"
	"github.com/paydoctor/bot/internal/store/pgtest"
	"github.com/paydoctor/bot/internal/store/storetest"
)

func open(t testing.TB, dsn string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreSuite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, now func() time.Time) func() conversation.Store {
		dsn := pgtest.FreshSchema(t)
		return func() conversation.Store {
			s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

// TestOpen_ConcurrentReplicasMigrateOnce starts three replicas at once on an empty schema: all
// open, exactly one applies the migrations, and schema_migrations lists each once. (The
// migration files are not idempotent, CREATE TABLE without IF NOT EXISTS, so a second run
// would also have failed its Open.)
func TestOpen_ConcurrentReplicasMigrateOnce(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	const replicas = 3
	stores := make([]*pgstore.Store, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = pgstore.Open(context.Background(), dsn, pgstore.Options{})
		})
	}
	close(start)
	wg.Wait()
	want := migrationVersions(t)
	applied := 0
	for i := range replicas {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		defer stores[i].Close()
		if m := pgstore.Migrated(stores[i]); len(m) > 0 {
			applied++
			if !slices.Equal(m, want) {
				t.Errorf("replica %d applied %v, want %v", i, m, want)
			}
		}
	}
	if applied != 1 {
		t.Errorf("%d replicas applied migrations, want exactly 1", applied)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || !slices.Equal(versions, want) {
		t.Errorf("schema_migrations = %v, %v; want %v", versions, err, want)
	}
	// A later start finds nothing to do.
	if m := pgstore.Migrated(open(t, dsn)); len(m) != 0 {
		t.Errorf("reopening applied %v again", m)
	}
}

// migrationVersions are the numbers of the files in migrations/, in order.
func migrationVersions(t *testing.T) []int {
	t.Helper()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s: %v", f.Name(), err)
		}
		versions = append(versions, n)
	}
	if len(versions) < 5 {
		t.Fatalf("migrations/ holds %v", versions)
	}
	return versions
}

// TestCommit_TwoReplicasSerialize increments one person's dialog 50 times from two stores,
// as two replicas would: no increment is lost, and the replies queue in the order the
// increments were made.
func TestCommit_TwoReplicasSerialize(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	replicas := []*pgstore.Store{open(t, dsn), open(t, dsn)}
	key := conversation.Key{Platform: "telegram", Chat: "-100", User: "42"}
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := replicas[i%2].Commit(context.Background(), conversation.Turn{Key: key, InboundID: fmt.Sprint(i)},
				func(d *conversation.Dialog) (conversation.Result, error) {
					d.Current++
					return conversation.Result{Reply: conversation.Reply{Text: fmt.Sprint(d.Current)}}, nil
				})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var got conversation.Dialog
	_, err := replicas[0].Commit(context.Background(), conversation.Turn{Key: key}, func(d *conversation.Dialog) (conversation.Result, error) {
		got = *d
		return conversation.Result{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Current != n {
		t.Errorf("%d increments across two replicas left %d", n, got.Current)
	}
	pending, err := replicas[1].Pending(context.Background(), "telegram", 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != n { // the read's empty reply queues nothing
		t.Fatalf("%d replies pending, want %d", len(pending), n)
	}
	for i, d := range pending[:n] {
		if d.Reply.Text != fmt.Sprint(i+1) {
			t.Fatalf("reply %d is %q: replies of one person out of order", i, d.Reply.Text)
		}
	}
}

// TestCommit_DuplicateAcrossReplicas sends one update to two replicas at once, as a Slack
// retry landing elsewhere would: one handles it, the other is refused, one reply is queued.
func TestCommit_DuplicateAcrossReplicas(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	replicas := []*pgstore.Store{open(t, dsn), open(t, dsn)}
	ctx := context.Background()
	const rounds = 20
	for round := range rounds {
		key := conversation.Key{Platform: "slack", Chat: "T/C", User: fmt.Sprint("U", round%3)}
		var ok, dup atomic.Int32
		var wg sync.WaitGroup
		for _, s := range replicas {
			wg.Go(func() {
				_, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: fmt.Sprint("Ev", round)},
					func(d *conversation.Dialog) (conversation.Result, error) {
						d.Current++
						return conversation.Result{Reply: conversation.Reply{Text: "hi"}}, nil
					})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, conversation.ErrDuplicate):
					dup.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || dup.Load() != 1 {
			t.Fatalf("round %d: %d handled, %d refused; want 1 and 1", round, ok.Load(), dup.Load())
		}
	}
	pending, err := replicas[0].Pending(ctx, "slack", 100)
	if err != nil || len(pending) != rounds {
		t.Errorf("%d replies pending (err %v), want %d", len(pending), err, rounds)
	}
}

func TestOpen_Unreachable(t *testing.T) {
	t.Parallel()
	const password = "s3cret-pw"
	for _, dsn := range []string{
		"postgres://bot:" + password + "@127.0.0.1:1/test?connect_timeout=5",
		"host=127.0.0.1 port=1 user=bot password=" + password + " dbname=test connect_timeout=5",
	} {
		_, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
		if !errors.Is(err, pgstore.ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
		if err != nil && strings.Contains(err.Error(), password) {
			t.Errorf("the error shows the password: %v", err)
		}
		if err != nil && !strings.Contains(err.Error(), "127.0.0.1:1/test") {
			t.Errorf("the error does not say which database: %v", err)
		}
	}
}

func TestOpen_BadDSNHidesPassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://bot:s3cret-pw@127.0.0.1:notaport/test",
		"host=127.0.0.1 password = s3cret-pw port=x",
		"postgres://bot:s3cret-pw@[::1/test",
	} {
		_, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
		if err == nil {
			t.Errorf("%q opened", dsn)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// TestCommit_ConnectionLost kills the store's connections from the server side: the next
// commit fails with ErrUnavailable or succeeds on a fresh connection, and the store recovers
// by itself.
func TestCommit_ConnectionLost(t *testing.T) {
	t.Parallel()
	app := "pgstore_test_" + strings.ToLower(rand.Text()[:8])
	dsn := pgtest.WithParam(pgtest.FreshSchema(t), "application_name", app)
	s := open(t, dsn)
	ctx := context.Background()
	key := conversation.Key{Platform: "telegram", Chat: "1", User: "1"}
	step := func(d *conversation.Dialog) (conversation.Result, error) {
		d.Current++
		return conversation.Result{Reply: conversation.Reply{Text: "once"}}, nil
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: key}, step); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, pgtest.DSN(t), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
	_, err := s.Commit(ctx, conversation.Turn{Key: key}, step)
	if err != nil && !errors.Is(err, pgstore.ErrUnavailable) {
		t.Errorf("commit on a killed connection: %v, want ErrUnavailable", err)
	}
	t.Logf("first commit after the kill: %v", err)
	for range 10 {
		if _, err = s.Commit(ctx, conversation.Turn{Key: key}, step); err == nil {
			break
		}
	}
	if err != nil {
		t.Errorf("the store did not recover: %v", err)
	}
}

// TestCommit_FailuresRollBack checks that a refused duplicate and a failed step roll back
// before Commit returns, so the connection goes back to the pool idle and is reused. (Left
// inside a transaction, the pool would close it, and a new one would take its place.)
func TestCommit_FailuresRollBack(t *testing.T) {
	t.Parallel()
	app := "pgstore_test_" + strings.ToLower(rand.Text()[:8])
	dsn := pgtest.WithParam(pgtest.FreshSchema(t), "application_name", app)
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	backends := func() (pids []int32) {
		t.Helper()
		rows, _ := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'`, app)
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	key := conversation.Key{Platform: "telegram", Chat: "1", User: "1"}
	inc := func(d *conversation.Dialog) (conversation.Result, error) {
		d.Current++
		return conversation.Result{Reply: conversation.Reply{Text: "once"}}, nil
	}
	failing := func(d *conversation.Dialog) (conversation.Result, error) {
		return conversation.Result{}, errors.New("no")
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "1"}, inc); err != nil {
		t.Fatal(err)
	}
	first := backends()
	if len(first) != 1 {
		t.Fatalf("idle connections of the store: %v, want one", first)
	}
	for range 5 {
		if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "1"}, inc); !errors.Is(err, conversation.ErrDuplicate) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "2"}, failing); err == nil {
			t.Fatal("a failing step committed")
		}
	}
	if after := backends(); len(after) != 1 || after[0] != first[0] {
		t.Errorf("idle connections of the store after failed commits: %v, want the same one as before, %v", after, first)
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "2"}, inc); err != nil {
		t.Errorf("after the failures: %v", err)
	}
}

// TestCommit_RetriesSerializationFailure makes the first outbox insert fail as a serialization
// failure (a trigger counting with a sequence, which a rollback does not undo): Commit runs
// the transaction again, step included, and saves it once.
func TestCommit_RetriesSerializationFailure(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	s := open(t, dsn)
	pgtest.Exec(t, dsn, `CREATE SEQUENCE fail_once`)
	pgtest.Exec(t, dsn, `CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('fail_once') = 1 THEN
				RAISE EXCEPTION 'injected' USING ERRCODE = 'serialization_failure';
			END IF;
			RETURN NEW;
		END $$`)
	pgtest.Exec(t, dsn, `CREATE TRIGGER fail_once BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION fail_once()`)
	ctx := context.Background()
	key := conversation.Key{Platform: "telegram", Chat: "1", User: "1"}
	calls := 0
	_, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "1"}, func(d *conversation.Dialog) (conversation.Result, error) {
		calls++
		d.Current++
		return conversation.Result{Reply: conversation.Reply{Text: "once"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("step called %d times, want 2 (the failed attempt and the retry)", calls)
	}
	var got conversation.Dialog
	if _, err := s.Commit(ctx, conversation.Turn{Key: key}, func(d *conversation.Dialog) (conversation.Result, error) {
		got = *d
		return conversation.Result{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	pending, err := s.Pending(ctx, "telegram", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got.Current != 1 || len(pending) != 1 || pending[0].Reply.Text != "once" { // the read queues nothing
		t.Errorf("after the retry: dialog %+v, pending %+v; want one increment and one reply", got, pending)
	}
}

// TestPending_ReturnsWhatCommitReturned: every field of a Delivery survives the outbox, with
// the clock seam stamping Created.
func TestPending_ReturnsWhatCommitReturned(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	at := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var want []conversation.Delivery
	for i, route := range [][]byte{[]byte(`{"chat":-100,"reply_to":7}`), nil} {
		key := conversation.Key{Platform: "slack", Chat: "T1/C1", User: fmt.Sprint("U", i)}
		d, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: fmt.Sprint("Ev", i), Route: route},
			func(d *conversation.Dialog) (conversation.Result, error) {
				return conversation.Result{Reply: conversation.Reply{Text: "选择", Buttons: []conversation.Button{{ID: "a:card:visa", Label: "Visa"}},
					Cause: "bank-verification", Solutions: []string{"payment-timing"}, Lang: "zh-Hans"}}, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	got, err := s.Pending(ctx, "slack", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d pending, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.ID != w.ID || g.Key != w.Key || string(g.Route) != string(w.Route) || !g.Created.Equal(w.Created) ||
			g.Reply.Text != w.Reply.Text || len(g.Reply.Buttons) != 1 || g.Reply.Buttons[0] != w.Reply.Buttons[0] ||
			g.Reply.Cause != w.Reply.Cause || len(g.Reply.Solutions) != 1 || g.Reply.Lang != w.Reply.Lang {
			t.Errorf("pending %d = %+v\nwant %+v", i, g, w)
		}
	}
	if !want[0].Created.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("Created = %v, want the clock's %v to the microsecond", want[0].Created, at)
	}
	if got[1].Route != nil {
		t.Errorf("a nil route came back as %q", got[1].Route)
	}
}

func TestOpen_SchemaFromTheFuture(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	open(t, dsn).Close()
	pgtest.Exec(t, dsn, `INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future')`)
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err == nil {
		s.Close()
	}
	if !errors.Is(err, conversation.ErrUnknownVersion) {
		t.Errorf("err = %v, want ErrUnknownVersion", err)
	}
}

// TestCommit_MigratesVersion1 stores a dialog record in the version-1 encoding
// (testdata/store/dialog-v1.json) and reads it through the store.
func TestCommit_MigratesVersion1(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	s := open(t, dsn)
	key := conversation.Key{Platform: "telegram", Chat: "5", User: "5"}
	putRaw(t, dsn, key, storetest.Version1Record(t))
	storetest.CheckVersion1Migrated(t, s, key)
}

func TestCommit_RecordFromTheFuture(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	s := open(t, dsn)
	key := conversation.Key{Platform: "console", Chat: "a", User: "a"}
	putRaw(t, dsn, key, []byte(`{"v":99,"d":{}}`))
	_, err := s.Commit(context.Background(), conversation.Turn{Key: key}, func(d *conversation.Dialog) (conversation.Result, error) {
		t.Error("step called on an unreadable record")
		return conversation.Result{}, nil
	})
	if !errors.Is(err, conversation.ErrUnknownVersion) {
		t.Errorf("err = %v, want ErrUnknownVersion", err)
	}
}

func putRaw(t *testing.T, dsn string, k conversation.Key, record []byte) {
	pgtest.Exec(t, dsn, `INSERT INTO dialogs (platform, chat, user_id, record, last_active) VALUES ($1, $2, $3, $4, now())`,
		k.Platform, k.Chat, k.User, string(record))
}

// BenchmarkCommit is the store's share of one message: a Commit (inbound id, dialog row lock
// and update, outbox insert) and the MarkDelivered after sending, over 1,000 dialogs round
// robin, from parallel goroutines.
func BenchmarkCommit(b *testing.B) {
	dsn := pgtest.FreshSchema(b)
	par, conns := envInt("BENCH_PAR", 1), envInt("BENCH_CONNS", 0)
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{MaxConns: int32(conns)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetParallelism(par)
	ctx := context.Background()
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			turn := conversation.Turn{
				Key:       conversation.Key{Platform: "bench", Chat: "c", User: fmt.Sprint(i % 1000)},
				InboundID: fmt.Sprint(i),
			}
			d, err := s.Commit(ctx, turn, func(d *conversation.Dialog) (conversation.Result, error) {
				d.Current++
				d.LastActive = time.Now()
				return conversation.Result{Reply: conversation.Reply{Text: "next step", Lang: "en"}}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.MarkDelivered(ctx, d.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// TestPing_FailsWhileWritesFail: Ping is a commit, so it fails while the server answers but
// refuses writes (here: the role's sessions made read-only), as commits do, and recovers
// with them.
func TestPing_FailsWhileWritesFail(t *testing.T) {
	t.Parallel()
	admin := pgtest.DSN(t)
	suffix := strings.ToLower(rand.Text()[:8])
	role, app := "pgstore_ping_"+suffix, "pgstore_test_"+suffix
	pgtest.Exec(t, admin, "CREATE ROLE "+role+" LOGIN SUPERUSER")
	t.Cleanup(func() {
		pgtest.Exec(t, admin, "DROP OWNED BY "+role)
		pgtest.Exec(t, admin, "DROP ROLE "+role)
	})
	dsn := pgtest.WithParam(pgtest.WithParam(pgtest.FreshSchema(t), "user", role), "application_name", app)
	s := open(t, dsn)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// New sessions of the role are read-only; the store's present ones are ended.
	readOnly := func(on bool) {
		if on {
			pgtest.Exec(t, admin, "ALTER ROLE "+role+" SET default_transaction_read_only = on")
		} else {
			pgtest.Exec(t, admin, "ALTER ROLE "+role+" RESET default_transaction_read_only")
		}
		pgtest.Exec(t, admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
	}
	// retry gives a broken connection, dropped from the pool at its first use, a second go.
	retry := func(f func() error) (err error) {
		for range 3 {
			if err = f(); err == nil {
				break
			}
		}
		return err
	}
	readOnly(true)
	key := conversation.Key{Platform: "telegram", Chat: "1", User: "1"}
	commit := func() error {
		_, err := s.Commit(ctx, conversation.Turn{Key: key}, func(d *conversation.Dialog) (conversation.Result, error) {
			d.Current++
			return conversation.Result{Reply: conversation.Reply{Text: "once"}}, nil
		})
		return err
	}
	if err := retry(commit); err == nil {
		t.Fatal("a commit succeeded on read-only sessions")
	}
	if err := retry(func() error { return s.Ping(ctx) }); err == nil {
		t.Error("Ping succeeded while commits fail")
	} else {
		t.Logf("Ping: %v", err)
	}
	readOnly(false)
	if err := retry(func() error { return s.Ping(ctx) }); err != nil {
		t.Errorf("Ping once writes work again: %v", err)
	}
	if err := commit(); err != nil {
		t.Errorf("commit once writes work again: %v", err)
	}
}

// TestClaim_NeverOvertakesALateCommit: outbox ids come from a sequence, so a reply may commit
// after a reply with a larger id, and a sender claiming after the largest id it saw passes
// over it. Claim must then not hand out that person's next reply either, or the two go out
// in the wrong order (as TestPostgres_OutageWhilePeopleWrite once saw); a claim from the start
// takes both, in order.
func TestClaim_NeverOvertakesALateCommit(t *testing.T) {
	t.Parallel()
	dsn := pgtest.FreshSchema(t)
	s := open(t, dsn)
	ctx := context.Background()
	reply := func(key conversation.Key, text string) conversation.Delivery {
		t.Helper()
		d, err := s.Commit(ctx, conversation.Turn{Key: key}, func(*conversation.Dialog) (conversation.Result, error) {
			return conversation.Result{Reply: conversation.Reply{Text: text}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	claimed := func(after uint64) []string {
		t.Helper()
		ds, err := s.Claim(ctx, "telegram", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, d := range ds {
			texts = append(texts, d.Reply.Text)
		}
		return texts
	}
	ann := conversation.Key{Platform: "telegram", Chat: "ann", User: "ann"}
	bo := conversation.Key{Platform: "telegram", Chat: "bo", User: "bo"}
	cy := conversation.Key{Platform: "telegram", Chat: "cy", User: "cy"}

	// Bo's first reply takes its id and commits only after Ann's reply, which took the next.
	late, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close(ctx)
	tx, err := late.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (platform, chat, user_id, reply, created) VALUES ('telegram', 'bo', 'bo', '{"text":"bo 1"}', now())`); err != nil {
		t.Fatal(err)
	}
	annReply := reply(ann, "ann 1")
	if got := claimed(0); !slices.Equal(got, []string{"ann 1"}) {
		t.Fatalf("claimed %q, want Ann's reply only (Bo's is not committed)", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	reply(bo, "bo 2")
	reply(cy, "cy 1")
	if got := claimed(annReply.ID); !slices.Equal(got, []string{"cy 1"}) {
		t.Errorf("claimed %q after Ann's id, want Cy's reply only: Bo's second must wait for his first, passed over below the cursor", got)
	}
	if got := claimed(0); !slices.Equal(got, []string{"bo 1", "bo 2"}) {
		t.Errorf("claimed %q from the start, want Bo's two replies in order", got)
	}
}
