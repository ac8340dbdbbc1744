package slack

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
)

// startAdapter runs an adapter in HTTP mode against apiURL, retrying after 5 ms, and returns
// it with Run's result to come and what it logged (to read once Run has returned).
func startAdapter(t *testing.T, ctx context.Context, apiURL string) (*Adapter, <-chan error, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a, err := New(nil, Options{
		BotToken: "xoxb-secret-token", KB: testKB(t), SigningSecret: testSecret, APIURL: apiURL,
		RetryBackoff: 5 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, done, &logs
}

// Slack failing at start is tried again until it answers; a refused token, or an answer
// that asking again cannot change, ends Run at once.
func TestRun_AuthTestAtStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fail    func(*slacktest.Server)
		calls   int    // auth.test calls until Run serves or gives up
		refused string // RefusedError.Code Run ends with; "" and !ends: it serves
		ends    string // Run's error says this
	}{
		{name: "500 three times", fail: func(s *slacktest.Server) {
			for range 3 {
				s.Fail("auth.test", http.StatusInternalServerError)
			}
		}, calls: 4},
		{name: "503", fail: func(s *slacktest.Server) { s.Fail("auth.test", http.StatusServiceUnavailable) }, calls: 2},
		{name: "Slack's internal_error", fail: func(s *slacktest.Server) { s.Refuse("auth.test", "internal_error") }, calls: 2},
		{name: "rate limited", fail: func(s *slacktest.Server) { s.RateLimit("auth.test", 0) }, calls: 2},
		{name: "invalid_auth", fail: func(s *slacktest.Server) { s.Refuse("auth.test", "invalid_auth") }, calls: 1, refused: "invalid_auth"},
		{name: "token_revoked after a 500", fail: func(s *slacktest.Server) {
			s.Fail("auth.test", http.StatusInternalServerError)
			s.Refuse("auth.test", "token_revoked")
		}, calls: 2, refused: "token_revoked"},
		{name: "404: SLACK_API_URL is not Slack's", fail: func(s *slacktest.Server) { s.Fail("auth.test", http.StatusNotFound) }, calls: 1, ends: "404"},
		{name: "missing_scope", fail: func(s *slacktest.Server) { s.Refuse("auth.test", "missing_scope") }, calls: 1, ends: "missing_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := slacktest.NewServer(t)
			tc.fail(fake)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			a, done, _ := startAdapter(t, ctx, fake.URL)
			if tc.refused == "" && tc.ends == "" {
				deadline := time.Now().Add(wait)
				for a.self.Load() == nil {
					select {
					case err := <-done:
						t.Fatalf("Run = %v, want it serving after Slack recovers", err)
					default:
					}
					if time.Now().After(deadline) {
						t.Fatalf("not serving after %s; auth.test called %d times", wait, fake.Calls("auth.test"))
					}
					time.Sleep(time.Millisecond)
				}
				if got := fake.Calls("auth.test"); got != tc.calls {
					t.Errorf("auth.test called %d times, want %d", got, tc.calls)
				}
				return
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(wait):
				t.Fatal("Run still running")
			}
			var refused *RefusedError
			switch {
			case tc.refused != "" && (!errors.As(err, &refused) || refused.Code != tc.refused):
				t.Fatalf("Run = %v, want a RefusedError %s", err, tc.refused)
			case tc.ends != "" && (errors.As(err, &refused) || err == nil || !strings.Contains(err.Error(), tc.ends)):
				t.Fatalf("Run = %v, want an error naming %s that is not a refused token", err, tc.ends)
			}
			if got := fake.Calls("auth.test"); got != tc.calls {
				t.Errorf("auth.test called %d times, want %d", got, tc.calls)
			}
		})
	}
}

// With nothing listening where Slack should be, Run keeps trying, waiting longer each time,
// and ends quietly when asked to; the log says why and never holds the token.
func TestRun_SlackUnreachableAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/api/"
	ln.Close() // connection refused from now on
	ctx, cancel := context.WithCancel(t.Context())
	a, done, logs := startAdapter(t, ctx, url)
	time.Sleep(200 * time.Millisecond) // 5, 10, 20, 40, 80 ms: five or six tries
	select {
	case err := <-done:
		t.Fatalf("Run = %v with Slack unreachable, want it still trying", err)
	default:
	}
	if a.self.Load() != nil {
		t.Fatal("serving without having reached Slack")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v after cancel, want context.Canceled", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not stop")
	}
	out := logs.String()
	if tries := strings.Count(out, "auth.test failed; retrying"); tries < 3 || tries > 7 {
		t.Errorf("%d retries logged in 200 ms, want 3 to 7 (a growing wait):\n%s", tries, out)
	}
	if !strings.Contains(out, "connection refused") {
		t.Errorf("the log does not say why:\n%s", out)
	}
	if strings.Contains(out, "xoxb-secret-token") {
		t.Errorf("the token is in the log:\n%s", out)
	}
}
