package main

import (
	"context"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/telegram"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// TestSIGKILL_MidBurst runs the real binary against the fake Bot API, kills it with SIGKILL
// while a burst from many people is being answered (updates still arriving, replies half
// sent), restarts it on the same database file, and counts: every person is answered for
// every update, in order, none lost, and at most the answers in flight at the kill (sent, not
// yet marked delivered) are sent twice.
func TestSIGKILL_MidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary; skipped with -short")
	}
	const people = 60
	binary := buildBinary(t)
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fake := telegramtest.NewServer(t)
	db := filepath.Join(t.TempDir(), "bot.db")
	env := append(os.Environ(),
		"TELEGRAM_BOT_TOKEN="+telegramtest.Token,
		"TELEGRAM_API_ENDPOINT="+fake.Endpoint(),
		"BOT_DB="+db,
		"BOT_HTTP_ADDR=127.0.0.1:0",
		"BOT_LANG=en",
	)

	users := make([]telegramtest.User, people)
	for i := range users {
		users[i] = telegramtest.User{ID: int64(9000 + i), FirstName: fmt.Sprintf("P%d", i), Lang: "en"}
	}
	// The burst: everyone's /start at once, then their presses on the first answer of the
	// greeting as a stream, so that the kill lands while replies committed earlier wait in
	// the outbox (sends are paced at Telegram's 30 a second) and presses are still coming in
	// and being committed.
	press := k.Version + "|" + conversation.AnswerButton("what_happened", "declined")
	for _, u := range users {
		fake.AddUpdate(telegramtest.PrivateText(u, "/start"))
	}
	var feed sync.WaitGroup
	feed.Go(func() {
		for _, u := range users {
			fake.AddUpdate(telegramtest.Callback(u, telegramtest.PrivateChat(u), 1, press))
			time.Sleep(30 * time.Millisecond)
		}
	})

	first := launch(t, binary, env)
	// Kill once some, but far from all, replies went out.
	fake.WaitMessages(t, people*3/4, 20*time.Second)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.wait(5 * time.Second)
	sentAtKill := len(fake.Messages())
	feed.Wait()
	t.Logf("killed after %d of %d replies sent; %d updates not confirmed", sentAtKill, 2*people, fake.Unconfirmed())
	if sentAtKill >= 2*people {
		t.Fatalf("every reply was sent before the kill: the test did not kill mid-burst")
	}
	if n := pendingReplies(t, db); n < 2 {
		t.Fatalf("%d replies in the outbox at the kill: the test did not kill mid-burst", n)
	} else {
		t.Logf("%d replies committed but not yet sent at the kill", n)
	}

	second := launch(t, binary, env)
	waitEach(t, fake, users, 2, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // anything sent twice shows up by now
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.wait(10 * time.Second); err != nil {
		t.Fatalf("the restarted bot did not stop cleanly on SIGTERM: %v\n%s", err, second.logs())
	}

	greeting := k.Text("en", kb.MsgGreeting, nil)
	doubled := 0
	for _, u := range users {
		var texts []string
		for _, m := range fake.MessagesTo(u.ID) {
			texts = append(texts, html.UnescapeString(m.Text))
		}
		// Collapse a reply sent twice in a row: that is the one in flight at the kill.
		var answers []string
		for i, s := range texts {
			if i > 0 && s == texts[i-1] {
				doubled++
				continue
			}
			answers = append(answers, s)
		}
		if len(answers) != 2 {
			t.Errorf("%s got %d distinct answers, want 2 (greeting, then the answer to the press):\n%s", u.FirstName, len(answers), strings.Join(texts, "\n---\n"))
			continue
		}
		if !strings.Contains(answers[0], greeting) || strings.Contains(answers[1], greeting) {
			t.Errorf("%s: answers out of order or wrong:\n%s", u.FirstName, strings.Join(answers, "\n---\n"))
		}
	}
	if doubled > maxInFlightAtKill {
		t.Errorf("%d answers sent twice, want at most %d (the replies in flight at the kill)", doubled, maxInFlightAtKill)
	}
	t.Logf("%d messages in all, %d sent twice", len(fake.Messages()), doubled)

	// And nothing is left behind in the outbox.
	if n := pendingReplies(t, db); n != 0 {
		t.Errorf("%d replies still in the outbox after a clean stop", n)
	}
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", first.logs(), second.logs())
	}
}

// pendingReplies opens the database of a stopped bot and counts the Telegram replies waiting
// in its outbox.
func pendingReplies(t *testing.T, db string) int {
	t.Helper()
	store, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pending, err := store.Pending(t.Context(), telegram.Platform, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(pending)
}

// process is a running bot binary.
type process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  strings.Builder
	done chan error
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.Write(b)
}

func (p *process) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

func (p *process) wait(timeout time.Duration) error {
	select {
	case err := <-p.done:
		return err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("still running after %s", timeout)
	}
}

// After a crash with more than 1,000 replies waiting, the restarted bot takes updates again
// within 3 s, and sends each person's replies in commit order: those that were waiting
// first, then the answers to what they wrote after the restart.
func TestRestart_BacklogDoesNotHoldUpUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	const people, waiting = 400, 3
	binary := buildBinary(t)
	db := filepath.Join(t.TempDir(), "bot.db")
	users := make([]telegramtest.User, people)
	for i := range users {
		users[i] = telegramtest.User{ID: int64(20000 + i), FirstName: fmt.Sprintf("P%d", i), Lang: "en"}
	}
	// What a kill leaves: 1,200 replies committed and none sent.
	prefillOutbox(t, db, users, waiting)
	fake := telegramtest.NewServer(t)
	fresh := users[:50]
	for _, u := range fresh {
		fake.AddUpdate(telegramtest.PrivateText(u, "/help"))
	}
	start := time.Now()
	p := launch(t, binary, append(os.Environ(),
		"TELEGRAM_BOT_TOKEN="+telegramtest.Token,
		"TELEGRAM_API_ENDPOINT="+fake.Endpoint(),
		"BOT_DB="+db,
		"BOT_HTTP_ADDR=127.0.0.1:0",
		"BOT_LANG=en",
	))
	for fake.Unconfirmed() > 0 {
		if time.Since(start) > 3*time.Second {
			t.Fatalf("updates not taken 3 s after the start, with %d replies waiting\n%s", people*waiting, p.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("updates taken %s after the start, with %d replies waiting", time.Since(start).Round(time.Millisecond), people*waiting)
	time.Sleep(6 * time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(10 * time.Second); err != nil {
		t.Fatalf("the bot did not stop on SIGTERM: %v", err)
	}
	sent := 0
	for i, u := range users {
		want := []string{"waiting 0", "waiting 1", "waiting 2"}
		if i < len(fresh) {
			want = append(want, "/solutions")
		}
		got := fake.MessagesTo(u.ID)
		sent += len(got)
		if len(got) > len(want) {
			t.Errorf("%s got %d messages, want at most %d", u.FirstName, len(got), len(want))
			continue
		}
		for j, m := range got {
			if !strings.Contains(html.UnescapeString(m.Text), want[j]) {
				t.Errorf("%s's message %d is %q, want %q: out of commit order", u.FirstName, j, m.Text, want[j])
				break
			}
		}
	}
	t.Logf("%d messages sent in the first seconds, in commit order per person", sent)
	if sent < 100 {
		t.Errorf("only %d messages sent", sent)
	}
}

// prefillOutbox commits perUser replies to each of users into the outbox of the bbolt file
// db, "waiting 0", "waiting 1", ... in that order per person, and sends none: what a bot
// killed with a backlog leaves.
func prefillOutbox(tb testing.TB, db string, users []telegramtest.User, perUser int) {
	tb.Helper()
	store, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for seq := range perUser {
		var commits sync.WaitGroup
		const chunk = 50 // people committed one after the other by one goroutine
		for from := 0; from < len(users); from += chunk {
			commits.Go(func() {
				for _, u := range users[from:min(len(users), from+chunk)] {
					id := fmt.Sprint(u.ID)
					turn := conversation.Turn{Key: conversation.Key{Platform: telegram.Platform, Chat: id, User: id}, InboundID: fmt.Sprint(seq, "-", id), Route: []byte(`{"c":` + id + `}`)}
					_, err := store.Commit(ctx, turn, func(*conversation.Dialog) (conversation.Result, error) {
						return conversation.Result{Reply: conversation.Reply{Text: fmt.Sprint("waiting ", seq)}}, nil
					})
					if err != nil {
						tb.Error(err)
						return
					}
				}
			})
		}
		commits.Wait()
	}
	if err := store.Close(); err != nil {
		tb.Fatal(err)
	}
}
