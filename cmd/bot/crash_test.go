package main

import (
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
// every update, in order, none lost, and at most one answer (the one in flight at the kill)
// is sent twice.
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
	if doubled > 1 {
		t.Errorf("%d answers sent twice, want at most one (the reply in flight at the kill)", doubled)
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
