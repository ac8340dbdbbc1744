package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/store/pgtest"
)

// tgTap stands between one replica and the shared fake Bot API, so that the test can tell
// the replicas' calls apart: it forwards every request to the fake and records, for this
// replica, the getUpdates calls in flight, when each began, and the messages it sent.
type tgTap struct {
	name  string
	srv   *http.Server
	addr  string                 // where the replica reaches it
	proxy *httputil.ReverseProxy // to the fake

	mu       sync.Mutex
	polling  int
	polls    []time.Time // starts of getUpdates calls
	sends    int
	overlaps *[]string // shared: a getUpdates begun while another replica's was in flight
	taps     *[]*tgTap
	shared   *sync.Mutex
}

func (p *tgTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if method == "getUpdates" {
		p.shared.Lock()
		for _, o := range *p.taps {
			if o != p && o.inFlight() > 0 {
				*p.overlaps = append(*p.overlaps, fmt.Sprintf("%s began getUpdates while %s's was in flight", p.name, o.name))
			}
		}
		p.mu.Lock()
		p.polling++
		p.polls = append(p.polls, time.Now())
		p.mu.Unlock()
		p.shared.Unlock()
		defer func() {
			p.mu.Lock()
			p.polling--
			p.mu.Unlock()
		}()
	}
	if method == "sendMessage" {
		p.mu.Lock()
		p.sends++
		p.mu.Unlock()
	}
	p.proxy.ServeHTTP(w, r)
}

func (p *tgTap) inFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.polling
}

// stats returns how many getUpdates calls began, the start of the first one at or after
// since (zero if none), and how many messages this replica sent.
func (p *tgTap) stats(since time.Time) (polls int, first time.Time, sends int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, at := range p.polls {
		if !at.Before(since) && first.IsZero() {
			first = at
		}
	}
	return len(p.polls), first, p.sends
}

// replica is one bot process with its own HTTP address and its own tap on the fake Bot API.
type replica struct {
	name string
	base string // http://127.0.0.1:port
	tap  *tgTap
	proc *process
}

// Three bot processes (the real binary) on one fresh PostgreSQL schema, all pointed at one
// fake Bot API (long polling) and one fake Slack (HTTP mode), each behind a tap that tells
// its calls apart. It shows what issue 9 asks for:
//
//   - exactly one replica polls at a time, and exactly one sends Telegram messages (the
//     Outbox's election, which need not pick the poller);
//   - a burst of 150 people is answered exactly once each, with some sends refused with 429
//     and none made again before retry_after ran out;
//   - a Slack event sent to one replica and its retry sent to another is answered once, and
//     so is an event sent to two replicas at the same moment;
//   - SIGKILL of the polling replica in the middle of a second burst: another replica polls
//     within 10 s, nobody is left unanswered, and at most the sends in flight at the kill
//     (sent, and not yet marked delivered) are sent twice.
func TestReplicas_ThreeOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three replicas on PostgreSQL; skipped with -short")
	}
	dsn := pgtest.FreshSchema(t) // skips with a message when BOT_TEST_POSTGRES_DSN is unset
	start := time.Now()
	binary := buildBinary(t)
	t.Logf("built the binary in %s", time.Since(start).Round(time.Millisecond))

	fake := telegramtest.NewServer(t)
	slack := slacktest.NewServer(t)
	const secret = "replica-secret"
	var (
		shared   sync.Mutex
		overlaps []string
		taps     []*tgTap
	)
	replicas := make([]*replica, 3)
	for i := range replicas {
		name := string(rune('A' + i))
		target, _ := url.Parse(fake.URL)
		tap := &tgTap{name: name, proxy: httputil.NewSingleHostReverseProxy(target), overlaps: &overlaps, taps: &taps, shared: &shared}
		// A call cut short (the replica killed in a long poll) is no error worth a log line.
		tap.proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tap.srv, tap.addr = &http.Server{Handler: tap}, ln.Addr().String()
		go tap.srv.Serve(ln)
		t.Cleanup(func() { tap.srv.Close() })
		taps = append(taps, tap)
		replicas[i] = &replica{name: name, tap: tap, base: "http://" + freeAddr(t)}
	}
	dir := t.TempDir()
	for _, r := range replicas {
		env := append(os.Environ(),
			"BOT_POSTGRES_URL="+dsn,
			"BOT_DB="+filepath.Join(dir, "unused-"+r.name+".db"),
			"BOT_HTTP_ADDR="+strings.TrimPrefix(r.base, "http://"),
			"BOT_ADMIN_ADDR=off",
			"BOT_LANG=en",
			"BOT_LOG_LEVEL=info",
			"TELEGRAM_BOT_TOKEN="+telegramtest.Token,
			"TELEGRAM_API_ENDPOINT=http://"+r.tap.addr+"/bot%s/%s",
			"SLACK_BOT_TOKEN=xoxb-replicas",
			"SLACK_SIGNING_SECRET="+secret,
			"SLACK_API_URL="+slack.URL,
		)
		r.proc = launch(t, binary, env)
	}
	defer func() {
		if t.Failed() {
			for _, r := range replicas {
				t.Logf("replica %s:\n%s", r.name, r.proc.logs())
			}
		}
	}()

	// Sample the fake's own count of getUpdates calls in flight all along, besides the taps'
	// exact record of overlaps.
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	var maxPolling, samples int
	sampling.Go(func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if n := fake.Polling(); n > maxPolling {
				maxPolling = n
			}
			samples++
		}
	})

	// 1. Exactly one replica polls.
	for _, r := range replicas {
		waitServing(t, r.base)
	}
	leader := waitLeader(t, replicas, time.Time{}, 15*time.Second)
	t.Logf("replica %s polls (started %s after the build)", leader.name, time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // the others campaign meanwhile, about once a second
	for _, r := range replicas {
		if polls, _, _ := r.tap.stats(time.Time{}); r != leader && polls > 0 {
			t.Errorf("replica %s called getUpdates %d times, but %s holds the role", r.name, polls, leader.name)
		}
	}
	if !strings.Contains(leader.proc.logs(), `"role":"telegram-poller"`) {
		t.Errorf("the polling replica %s did not log that it was elected", leader.name)
	}

	// 2. A burst of 150 people, some of whose first sends Telegram refuses with 429.
	const people = 150
	burst := makeUsers(10000, people)
	limited := map[int64]bool{}
	for i := 0; i < people; i += 15 {
		fake.RateLimit(burst[i].ID, 1, 1)
		limited[burst[i].ID] = true
	}
	began := time.Now()
	for _, u := range burst {
		fake.AddUpdate(telegramtest.PrivateText(u, "/start"))
	}
	waitEach(t, fake, burst, 1, 20*time.Second)
	t.Logf("burst of %d answered in %s", people, time.Since(began).Round(time.Millisecond))
	time.Sleep(time.Second) // an answer sent twice would show up by now
	if got := countOver(fake, burst, 1); len(got) > 0 {
		t.Errorf("answered more than once: %v", got)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("sends before retry_after ran out: %v", v)
	}
	if n := len(fake.Calls("sendMessage")) - len(fake.Messages()); n < len(limited) {
		t.Errorf("%d sends refused with 429, want at least %d: the rate limits were not hit", n, len(limited))
	}
	sender := onlySender(t, replicas, time.Time{})

	// 3. A Slack event sent to one replica and its retry to another: answered once. Then one
	// sent to two replicas at the same moment: answered once.
	slack.SetLocale("UEN", "en-US")
	postEvent := func(r *replica, body []byte, retry int) int {
		t.Helper()
		req := slacktest.NewRequest(r.base+"/slack/events", secret, time.Now(), body)
		if retry > 0 {
			req.Header.Set("X-Slack-Retry-Num", fmt.Sprint(retry))
			req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	e1 := slacktest.EventBody("E1", slacktest.DM("D1", "UEN", "card_declined", "1700000000.000100"))
	if code := postEvent(replicas[0], e1, 0); code != http.StatusOK {
		t.Errorf("event E1 to replica A: %d", code)
	}
	slack.WaitMessages(1, 5*time.Second)
	if code := postEvent(replicas[1], e1, 1); code != http.StatusOK {
		t.Errorf("retry of E1 to replica B: %d", code)
	}
	e2 := slacktest.EventBody("E2", slacktest.DM("D2", "UEN2", "no SMS code arrived", "1700000000.000200"))
	var both sync.WaitGroup
	for _, r := range replicas[1:] {
		both.Go(func() {
			if code := postEvent(r, e2, 0); code != http.StatusOK {
				t.Errorf("event E2 to replica %s: %d", r.name, code)
			}
		})
	}
	both.Wait()
	slack.WaitMessages(2, 5*time.Second)
	time.Sleep(time.Second)
	if n := slack.Calls("chat.postMessage"); n != 2 {
		t.Errorf("chat.postMessage called %d times, want 2: E1 (and its retry on another replica) once, E2 (sent to two replicas at once) once", n)
	}
	for _, m := range slack.Messages() {
		t.Logf("slack: %s to %s: %.60q", m.Method, m.Channel, m.Text)
	}

	// 4. SIGKILL the polling replica, and then the sending one (the same or another), in the
	// middle of a second burst.
	second := makeUsers(20000, people)
	sentBefore := len(fake.Messages())
	for _, u := range second {
		fake.AddUpdate(telegramtest.PrivateText(u, "/start"))
	}
	fake.WaitMessages(t, sentBefore+people/3, 20*time.Second)
	if err := leader.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = leader.proc.wait(5 * time.Second)
	if sender != leader {
		if err := sender.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = sender.proc.wait(5 * time.Second)
		t.Logf("killed the sender %s too", sender.name)
	}
	sentAtKill := len(fake.Messages()) - sentBefore
	t.Logf("killed %s after %d of %d answers of the second burst were sent", leader.name, sentAtKill, people)
	if sentAtKill >= people {
		t.Fatalf("every answer was sent before the kill: the test did not kill mid-burst")
	}
	var survivors []*replica
	for _, r := range replicas {
		if r != leader && r != sender {
			survivors = append(survivors, r)
		}
	}
	next := waitLeader(t, survivors, killed, 10*time.Second)
	_, first, _ := next.tap.stats(killed)
	takeover := first.Sub(killed)
	t.Logf("replica %s took over: its first getUpdates came %s after the SIGKILL", next.name, takeover.Round(time.Millisecond))
	if takeover > 10*time.Second {
		t.Errorf("takeover took %s, want within 10s", takeover)
	}
	// Replies the killed replica committed but had not sent are sent once their lease (10 s)
	// runs out.
	waitEach(t, fake, second, 1, 25*time.Second)
	t.Logf("everyone of the second burst answered %s after the kill", time.Since(killed).Round(time.Millisecond))
	time.Sleep(time.Second)
	doubled := countOver(fake, second, 1)
	if len(doubled) > maxInFlightAtKill {
		t.Errorf("%d people answered more than once, want at most %d (the sends in flight at the kill): %v", len(doubled), maxInFlightAtKill, doubled)
	}
	t.Logf("%d answers of the second burst sent twice", len(doubled))
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("sends before retry_after ran out: %v", v)
	}
	onlySender(t, survivors, killed)

	close(stopSampling)
	sampling.Wait()
	if maxPolling > 1 {
		t.Errorf("the fake saw %d getUpdates calls in flight at once (in %d samples), want at most 1", maxPolling, samples)
	}
	shared.Lock()
	if len(overlaps) > 0 {
		t.Errorf("getUpdates calls of two replicas overlapped: %v", overlaps)
	}
	shared.Unlock()
	t.Logf("at most %d getUpdates in flight over %d samples of the fake; %d getUpdates calls in all", maxPolling, samples, len(fake.Calls("getUpdates")))

	// The survivors stop cleanly on SIGTERM.
	for _, r := range survivors {
		if err := r.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range survivors {
		if err := r.proc.wait(10 * time.Second); err != nil {
			t.Errorf("replica %s did not stop cleanly on SIGTERM: %v", r.name, err)
		}
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Millisecond))
}

// maxInFlightAtKill bounds the replies a SIGKILL may leave sent but not marked delivered,
// which the next sender sends again: the sends under way, and those sent within the last
// mark delay (100 ms, 3 at Telegram's 30 a second) whose mark was gathering or committing.
const maxInFlightAtKill = 5

// onlySender returns the one replica that sent Telegram messages since since; it fails the
// test if several did.
func onlySender(t *testing.T, replicas []*replica, since time.Time) *replica {
	t.Helper()
	var sender *replica
	for _, r := range replicas {
		if _, _, sends := r.tap.stats(since); sends > 0 {
			if sender != nil {
				t.Errorf("replicas %s and %s both sent Telegram messages", sender.name, r.name)
			}
			sender = r
		}
	}
	if sender == nil {
		t.Fatal("no replica sent Telegram messages")
	}
	return sender
}

// waitLeader waits until exactly one of replicas has begun a getUpdates call at or after
// since, and returns it.
func waitLeader(t *testing.T, replicas []*replica, since time.Time, timeout time.Duration) *replica {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var polling []*replica
		for _, r := range replicas {
			if _, first, _ := r.tap.stats(since); !first.IsZero() {
				polling = append(polling, r)
			}
		}
		switch {
		case len(polling) == 1:
			return polling[0]
		case len(polling) > 1:
			t.Fatalf("%d replicas called getUpdates, want one", len(polling))
		case time.Now().After(deadline):
			t.Fatalf("no replica called getUpdates within %s", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func makeUsers(first int64, n int) []telegramtest.User {
	users := make([]telegramtest.User, n)
	for i := range users {
		users[i] = telegramtest.User{ID: first + int64(i), FirstName: fmt.Sprintf("P%d", first+int64(i)), Lang: "en"}
	}
	return users
}

// waitEach waits until each of users got at least n messages.
func waitEach(t *testing.T, fake *telegramtest.Server, users []telegramtest.User, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		count := map[int64]int{}
		for _, m := range fake.Messages() {
			count[m.ChatID]++
		}
		missing := 0
		for _, u := range users {
			if count[u.ID] < n {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d people still lack an answer", timeout, missing, len(users))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countOver returns the users who got more than n messages, with how many.
func countOver(fake *telegramtest.Server, users []telegramtest.User, n int) map[int64]int {
	count := map[int64]int{}
	for _, m := range fake.Messages() {
		count[m.ChatID]++
	}
	out := map[int64]int{}
	for _, u := range users {
		if count[u.ID] > n {
			out[u.ID] = count[u.ID]
		}
	}
	return out
}

// With a webhook every replica receives updates and the elected one alone sends: an update
// that reaches a replica that is not the sender is answered within about the sender's 250 ms
// outbox interval, not after the 10 s lease its commit put on the reply; and Telegram's
// redelivery of an update to another replica is refused as a duplicate, answered once.
func TestReplicas_WebhookAnyReplicaAnswersPromptly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three replicas on PostgreSQL; skipped with -short")
	}
	dsn := pgtest.FreshSchema(t)
	binary := buildBinary(t)
	fake := telegramtest.NewServer(t)
	const secret = "webhook-secret"
	dir := t.TempDir()
	var bases []string
	var procs []*process
	for i := range 3 {
		addr := freeAddr(t)
		bases = append(bases, "http://"+addr)
		procs = append(procs, launch(t, binary, append(os.Environ(),
			"BOT_POSTGRES_URL="+dsn,
			"BOT_DB="+filepath.Join(dir, fmt.Sprintf("unused-%d.db", i)),
			"BOT_HTTP_ADDR="+addr,
			"BOT_ADMIN_ADDR=off",
			"BOT_LANG=en",
			"TELEGRAM_BOT_TOKEN="+telegramtest.Token,
			"TELEGRAM_API_ENDPOINT="+fake.Endpoint(),
			"TELEGRAM_WEBHOOK_URL=https://bot.example.com"+"/telegram/webhook",
			"TELEGRAM_WEBHOOK_SECRET="+secret,
		)))
	}
	defer func() {
		if t.Failed() {
			for i, p := range procs {
				t.Logf("replica %d:\n%s", i, p.logs())
			}
		}
	}()
	post := func(base string, update map[string]any) int {
		t.Helper()
		b, err := json.Marshal(update)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, base+"/telegram/webhook", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Each replica answers 503 until it serves; then one update per replica.
	users := makeUsers(30000, len(bases))
	for i, base := range bases {
		u := telegramtest.PrivateText(users[i], "/start")
		u["update_id"] = 500 + i
		eventually(t, "replica serves the webhook", func() bool { return post(base, u) == http.StatusOK })
	}
	began := time.Now()
	waitEach(t, fake, users, 1, 15*time.Second)
	took := time.Since(began)
	t.Logf("an update on each of the three replicas answered within %s", took.Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("answers took %s: a reply committed by a replica that does not send waited for its lease", took)
	}
	// Telegram redelivers update 500 to another replica: refused as a duplicate.
	again := telegramtest.PrivateText(users[0], "/start")
	again["update_id"] = 500
	if code := post(bases[2], again); code != http.StatusOK {
		t.Errorf("redelivered update: %d", code)
	}
	time.Sleep(time.Second)
	if got := countOver(fake, users, 1); len(got) > 0 {
		t.Errorf("answered more than once: %v", got)
	}
}
