package main

import (
	"errors"
	"flag"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/pgtest"
)

// proxy forwards TCP connections to PostgreSQL until it is cut: then it refuses new ones and
// breaks those open, as a network failure or a stopped server would, until it is restored on
// the same port.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.listen("127.0.0.1:0")
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close(); c.Close() }()
	io.Copy(c, s)
	c.Close()
	s.Close()
}

// cut closes the listener and every connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address.
func (p *proxy) restore() { p.listen(p.addr) }

// throughProxy returns dsn with its host and port replaced by the proxy's.
func throughProxy(t *testing.T, dsn, addr string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skipf("BOT_TEST_POSTGRES_DSN is not a postgres:// URL, which this test needs to route it through a proxy")
	}
	u.Host = addr
	return u.String()
}

func pgTarget(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skipf("BOT_TEST_POSTGRES_DSN is not a postgres:// URL, which this test needs to route it through a proxy")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(host, port)
}

// The bot on PostgreSQL, served through a proxy that the test cuts and restores: while
// PostgreSQL is unreachable /healthz says so with 503, a Slack event is answered 500 (not
// acknowledged, so Slack sends it again), and the bot keeps running; once PostgreSQL is back
// the bot recovers by itself, /healthz is 200 again, and Slack's retry of the event is
// answered, once.
func TestPostgres_UnreachableThenRecovers(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	px := newProxy(t, pgTarget(t, dsn))
	fake := slacktest.NewServer(t)
	fake.SetLocale("UEN", "en-US")
	const secret = "pg-secret"
	addr := freeAddr(t)
	base := "http://" + addr
	env := map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-pg",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        fake.URL,
		"BOT_HTTP_ADDR":        addr,
		"BOT_POSTGRES_URL":     throughProxy(t, dsn, px.addr),
		// --db is ignored: nothing may create this file.
		"BOT_DB":         filepath.Join(t.TempDir(), "unused.db"),
		"BOT_LOG_FORMAT": "json",
	}
	logs, stop := startBot(t, env)
	waitServing(t, base)
	eventually(t, "/healthz answers 200", func() bool { code, _ := get(t, base+"/healthz"); return code == http.StatusOK })

	post := func(body []byte) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(slacktest.NewRequest(base+"/slack/events", secret, time.Now(), body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(slacktest.EventBody("EvPG1", slacktest.DM("D1", "UEN", "card_declined", "1700000000.000100"))); code != http.StatusOK {
		t.Fatalf("event before the cut: %d", code)
	}
	fake.WaitMessages(1, 5*time.Second)

	px.cut()
	eventually(t, "/healthz says postgres is unreachable", func() bool {
		code, body := get(t, base+"/healthz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "postgres unreachable")
	})
	second := slacktest.EventBody("EvPG2", slacktest.DM("D1", "UEN", "no SMS code arrived", "1700000000.000200"))
	if code := post(second); code != http.StatusInternalServerError {
		t.Fatalf("event while PostgreSQL is unreachable: %d, want 500 so that Slack sends it again", code)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(fake.Messages()); n != 1 {
		t.Fatalf("%d messages while PostgreSQL was unreachable, want still 1", n)
	}

	px.restore()
	eventually(t, "/healthz answers 200 again", func() bool { code, _ := get(t, base+"/healthz"); return code == http.StatusOK })
	// Slack's retry of the refused event, then one more retry: answered once.
	if code := post(second); code != http.StatusOK {
		t.Fatalf("retried event after recovery: %d", code)
	}
	if code := post(second); code != http.StatusOK {
		t.Fatalf("second retry: %d", code)
	}
	fake.WaitMessages(2, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := len(fake.Messages()); n != 2 {
		t.Fatalf("%d messages, want 2: the retried event answered more than once?", n)
	}
	stop()
	if _, err := os.Stat(env["BOT_DB"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the bbolt file was created with BOT_POSTGRES_URL set: %v", err)
	}
	if strings.Contains(logs.String(), "postgres://") {
		t.Errorf("the DSN is in the log:\n%s", logs)
	}
}

// A dialog started on a bbolt file continues on PostgreSQL after migrate-store, stats read
// PostgreSQL, and the data moves back to a file (through JSON lines) with nothing lost.
func TestMigrateStore_BoltToPostgresAndBack(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "bot.db")
	if _, _, err := runMain(t, nil, "{\"button\":\"a:what_happened:declined\"}\n", "chat", "--json", "--db", db, "--user", "dee"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runMain(t, nil, "", "migrate-store", "--from", "bolt:"+db, "--to", "postgres:"+dsn)
	if err != nil || !strings.Contains(out, "moved 1 dialogs") || strings.Contains(out, dsn) {
		t.Fatalf("migrate-store to postgres: %q, %v", out, err)
	}
	// A second run refuses: the target is not empty.
	if _, _, err := runMain(t, nil, "", "migrate-store", "--from", "bolt:"+db, "--to", "postgres:"+dsn); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("second migrate-store: %v, want a refusal", err)
	}

	pg := map[string]string{"BOT_POSTGRES_URL": dsn}
	out, _, err = runMain(t, pg, "{\"button\":\"a:card_type:unionpay\"}\n", "chat", "--json", "--db", filepath.Join(dir, "ignored.db"), "--user", "dee")
	if err != nil {
		t.Fatal(err)
	}
	if rs := replies(t, out); rs[0].Cause != "cross-border-restricted" {
		t.Errorf("the dialog did not continue on PostgreSQL: %+v", rs[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "ignored.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--db was used although BOT_POSTGRES_URL is set: %v", err)
	}
	text, _, err := runMain(t, pg, "", "stats")
	if err != nil || !strings.Contains(text, "dialogs started      1") {
		t.Errorf("stats on PostgreSQL (%v):\n%s", err, text)
	}
	if _, _, err := runMain(t, pg, "", "backup", filepath.Join(dir, "b.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup with BOT_POSTGRES_URL: %v, want it to point to pg_dump", err)
	}

	jsonl := filepath.Join(dir, "all.jsonl")
	if out, _, err := runMain(t, pg, "", "migrate-store", "--from", "postgres", "--to", "jsonl:"+jsonl); err != nil || !strings.Contains(out, "1 dialogs") {
		t.Fatalf("to jsonl: %q, %v", out, err)
	}
	if fi, err := os.Stat(jsonl); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("jsonl file: %v, %v; want mode 0600", fi, err)
	}
	back := filepath.Join(dir, "back.db")
	if out, _, err := runMain(t, nil, "", "migrate-store", "--from", "jsonl:"+jsonl, "--to", "bolt:"+back); err != nil || !strings.Contains(out, "1 dialogs") {
		t.Fatalf("to bolt: %q, %v", out, err)
	}
	out, _, err = runMain(t, nil, "{\"button\":\"a:card_type:unionpay\"}\n", "chat", "--json", "--db", back, "--user", "dee")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"cause":"cross-border-restricted"`) {
		t.Errorf("the dialog moved back does not go on where it stood: %s", out)
	}
	text, _, err = runMain(t, nil, "", "stats", "--db", back)
	if err != nil || !strings.Contains(text, "dialogs started      1") {
		t.Errorf("stats of the file moved back (%v):\n%s", err, text)
	}
}

func TestParseFlags_Postgres(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"migrate-store without --to", []string{"migrate-store", "--from", "bolt:a.db"}, nil, "name both stores"},
		{"bad store", []string{"migrate-store", "--from", "mysql:x", "--to", "bolt:b.db"}, nil, "want bolt:FILE"},
		{"postgres alone without URL", []string{"migrate-store", "--from", "bolt:a.db", "--to", "postgres"}, nil, "BOT_POSTGRES_URL is not set"},
		{"--from elsewhere", []string{"chat", "--from", "bolt:a.db"}, nil, "for bot migrate-store"},
		{"backup on postgres", []string{"backup", "out.db"}, map[string]string{"BOT_POSTGRES_URL": "postgres://h/db"}, "pg_dump"},
		{"migrate-store", []string{"migrate-store", "--from", "bolt", "--to", "postgres"}, map[string]string{"BOT_POSTGRES_URL": "postgres://h/db", "BOT_DB": "x.db"}, ""},
		{"--postgres flag", []string{"chat", "--postgres", "postgres://h/db"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain(strings.NewReader(""), io.Discard, io.Discard, env(tc.vars))
			err := m.ParseFlags(tc.args)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard, env(map[string]string{"BOT_POSTGRES_URL": "postgres://h/db", "BOT_DB": "x.db"}))
	if err := m.ParseFlags([]string{"migrate-store", "--from", "bolt", "--to", "postgres"}); err != nil {
		t.Fatal(err)
	}
	if m.Config.From != (endpoint{"bolt", "x.db"}) || m.Config.To != (endpoint{"postgres", "postgres://h/db"}) || m.Config.To.String() != "postgres" {
		t.Errorf("from %v to %v", m.Config.From, m.Config.To)
	}
	var stderr strings.Builder
	m = NewMain(strings.NewReader(""), io.Discard, &stderr, env(map[string]string{"BOT_POSTGRES_URL": "postgres://bot:hunter2@db/x"}))
	if err := m.ParseFlags([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "hunter2") {
		t.Errorf("--help prints BOT_POSTGRES_URL's password:\n%s", stderr.String())
	}
	for _, want := range []string{"BOT_POSTGRES_URL", "--postgres", "migrate-store", "pg_dump", "--db is\nignored"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("--help does not say %q", want)
		}
	}
}

// A replica started while PostgreSQL is unreachable waits for it instead of exiting, and
// serves once it answers.
func TestPostgres_StartsBeforeTheDatabase(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	px := newProxy(t, pgTarget(t, dsn))
	px.cut()
	defer func(d time.Duration) { openRetryEvery = d }(openRetryEvery)
	openRetryEvery = 100 * time.Millisecond
	fake := slacktest.NewServer(t)
	addr := freeAddr(t)
	logs, _ := startBot(t, map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-pg",
		"SLACK_SIGNING_SECRET": "s",
		"SLACK_API_URL":        fake.URL,
		"BOT_HTTP_ADDR":        addr,
		"BOT_POSTGRES_URL":     throughProxy(t, dsn, px.addr),
		"BOT_DB":               filepath.Join(t.TempDir(), "unused.db"),
	})
	eventually(t, "the bot says it is waiting for PostgreSQL", func() bool {
		return strings.Contains(logs.String(), "postgres unreachable at start")
	})
	px.restore()
	eventually(t, "/healthz answers 200", func() bool { code, _ := get(t, "http://"+addr+"/healthz"); return code == http.StatusOK })
}

// telegramOnProxiedPostgres starts the bot polling the fake Bot API it returns, on a fresh
// PostgreSQL schema reached through the proxy it returns; base is its HTTP address.
func telegramOnProxiedPostgres(t *testing.T) (px *proxy, fake *telegramtest.Server, base string) {
	t.Helper()
	dsn := pgtest.FreshSchema(t)
	px = newProxy(t, pgTarget(t, dsn))
	fake = telegramtest.NewServer(t)
	addr := freeAddr(t)
	startBot(t, map[string]string{
		"TELEGRAM_BOT_TOKEN":    telegramtest.Token,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"BOT_HTTP_ADDR":         addr,
		"BOT_POSTGRES_URL":      throughProxy(t, dsn, px.addr),
		"BOT_DB":                filepath.Join(t.TempDir(), "unused.db"),
		"BOT_LANG":              "en",
	})
	return px, fake, "http://" + addr
}

// Telegram long polling on PostgreSQL: while the database is unreachable the update is not
// confirmed to Telegram and not answered; once it is back the update is answered, once.
func TestPostgres_TelegramUpdateWaitsForTheDatabase(t *testing.T) {
	px, fake, base := telegramOnProxiedPostgres(t)
	eventually(t, "/healthz answers 200", func() bool { code, _ := get(t, base+"/healthz"); return code == http.StatusOK })
	ann := telegramtest.User{ID: 7, FirstName: "Ann", Lang: "en"}
	fake.AddUpdate(telegramtest.PrivateText(ann, "/start"))
	fake.WaitMessages(t, 1, 10*time.Second)

	px.cut()
	eventually(t, "/healthz says postgres is unreachable", func() bool {
		code, body := get(t, base+"/healthz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "postgres unreachable")
	})
	fake.AddUpdate(telegramtest.PrivateText(ann, "card_declined"))
	time.Sleep(time.Second)
	if n := len(fake.MessagesTo(ann.ID)); n != 1 {
		t.Fatalf("%d answers while PostgreSQL was unreachable, want still 1", n)
	}
	if n := fake.Unconfirmed(); n == 0 {
		t.Fatalf("the update was confirmed to Telegram while PostgreSQL was unreachable")
	}

	px.restore()
	fake.WaitMessages(t, 2, 30*time.Second)
	eventually(t, "every update is confirmed", func() bool { return fake.Unconfirmed() == 0 })
	time.Sleep(300 * time.Millisecond)
	if n := len(fake.MessagesTo(ann.ID)); n != 2 {
		t.Fatalf("%d answers, want 2", n)
	}
}

// PostgreSQL unreachable for 15 s while people write: /healthz turns 503 within 5 s of the
// outage and 200 within 5 s of its end, and every message sent meanwhile is answered once
// afterwards, in order, none of them with the flood notice (the poller offers the unconfirmed
// updates again every second, which must not count as the person flooding).
func TestPostgres_OutageWhilePeopleWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("a 15-second outage")
	}
	px, fake, base := telegramOnProxiedPostgres(t)
	healthz := func() int { code, _ := get(t, base+"/healthz"); return code }
	eventually(t, "/healthz answers 200", func() bool { return healthz() == http.StatusOK })
	people := []telegramtest.User{{ID: 71, FirstName: "Ann", Lang: "en"}, {ID: 72, FirstName: "Bo", Lang: "en"}, {ID: 73, FirstName: "Cy", Lang: "en"}}
	for _, p := range people {
		fake.AddUpdate(telegramtest.PrivateText(p, "/start"))
	}
	fake.WaitMessages(t, len(people), 10*time.Second)

	px.cut()
	cut := time.Now()
	for healthz() != http.StatusServiceUnavailable {
		if time.Since(cut) > 5*time.Second {
			t.Fatal("/healthz still 200 5 s into the outage")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("/healthz 503 %s after the outage began", time.Since(cut).Round(10*time.Millisecond))
	solutions := []string{"paypal", "virtual-card", "choose-plan"}
	for _, sol := range solutions {
		for _, p := range people {
			fake.AddUpdate(telegramtest.PrivateText(p, "/solution "+sol))
		}
		time.Sleep(4 * time.Second)
	}
	time.Sleep(15*time.Second - time.Since(cut))
	if n := len(fake.Messages()); n != len(people) {
		t.Fatalf("%d messages sent during the outage", n-len(people))
	}

	px.restore()
	back := time.Now()
	for healthz() != http.StatusOK {
		if time.Since(back) > 5*time.Second {
			t.Fatal("/healthz still 503 5 s after the outage ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("/healthz 200 %s after the outage ended", time.Since(back).Round(10*time.Millisecond))
	fake.WaitMessages(t, len(people)*(1+len(solutions)), 30*time.Second)
	eventually(t, "every update is confirmed", func() bool { return fake.Unconfirmed() == 0 })
	time.Sleep(500 * time.Millisecond)
	for _, p := range people {
		got := fake.MessagesTo(p.ID)
		if len(got) != 1+len(solutions) {
			t.Errorf("%s got %d answers, want %d", p.FirstName, len(got), 1+len(solutions))
			continue
		}
		for i, sol := range solutions {
			text := html.UnescapeString(got[1+i].Text)
			if strings.Contains(text, "faster than I can answer") {
				t.Errorf("%s's message %d was answered with the flood notice", p.FirstName, i+1)
			}
			if !strings.Contains(text, titleOf(t, sol)) {
				t.Errorf("%s's answer %d is not about %s (order lost?): %q", p.FirstName, i+1, sol, text)
			}
		}
	}
}

// titleOf is the English title of solution id, as replies show it.
func titleOf(t *testing.T, id string) string {
	t.Helper()
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.Text("en", kb.SolutionTitle(id), nil)
}
