package slack

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/slack-go/slack"
)

// stubAPI answers every chat call with err.
type stubAPI struct {
	mu    sync.Mutex
	err   error
	calls []string
}

func (s *stubAPI) record(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, method)
	return s.err
}

func (s *stubAPI) AuthTestContext(context.Context) (*slack.AuthTestResponse, error) {
	return &slack.AuthTestResponse{UserID: "U0BOT"}, nil
}

func (s *stubAPI) GetUserInfoContext(context.Context, string, ...slack.GetUserInfoOption) (*slack.User, error) {
	return &slack.User{}, nil
}

func (s *stubAPI) PostMessageContext(context.Context, string, ...slack.MsgOption) (string, string, error) {
	return "", "", s.record("chat.postMessage")
}

func (s *stubAPI) PostEphemeralContext(context.Context, string, string, ...slack.MsgOption) (string, error) {
	return "", s.record("chat.postEphemeral")
}

func (s *stubAPI) UpdateMessageContext(context.Context, string, string, ...slack.MsgOption) (string, string, string, error) {
	return "", "", "", s.record("chat.update")
}

// A reply Slack refuses for good leaves the outbox (it would block every later one at the
// next start); one that failed for a passing reason stays for Redeliver.
func TestDeliver_PermanentAndPassingFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		mode      string
		wantStays bool
		wantCalls int
	}{
		{name: "sent", mode: modePost, wantCalls: 1},
		{name: "channel not found", err: slack.SlackErrorResponse{Err: "channel_not_found"}, mode: modePost, wantCalls: 1},
		{name: "not found", err: slack.StatusCodeError{Code: 404, Status: "404 Not Found"}, mode: modeUpdate, wantCalls: 1},
		{name: "server error", err: slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}, mode: modePost, wantStays: true, wantCalls: 1},
		{name: "network", err: errors.New("dial tcp: connection refused"), mode: modeUpdate, wantStays: true, wantCalls: 1},
		// An expired response_url falls back to chat.postEphemeral, refused here as well.
		{name: "response_url refused", err: slack.SlackErrorResponse{Err: "expired_url"}, mode: modeRespond, wantCalls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			svc := conversation.NewService(testEngine(t), store, nil)
			api := &stubAPI{err: tc.err}
			a := newAdapter(svc, api, Options{})
			r := route{Mode: tc.mode, Channel: "C1", TS: "1.2", User: "U1", ResponseURL: "http://127.0.0.1:1/response/1"}
			d, err := svc.Handle(t.Context(), conversation.Inbound{
				Turn:  conversation.Turn{Key: conversation.Key{Platform: Platform, Chat: "T/C1", User: "U1"}, Route: r.encode()},
				Input: conversation.Input{Kind: conversation.InputText, Text: "hi"},
			})
			if err != nil {
				t.Fatal(err)
			}
			err = svc.Deliver(t.Context(), a, d)
			pending, perr := store.Pending(t.Context(), Platform, 10)
			if perr != nil {
				t.Fatal(perr)
			}
			if stays := len(pending) == 1; stays != tc.wantStays || (err != nil) != tc.wantStays {
				t.Fatalf("Deliver = %v, %d pending; want the reply to stay: %v", err, len(pending), tc.wantStays)
			}
			if len(api.calls) != tc.wantCalls {
				t.Fatalf("calls %v, want %d", api.calls, tc.wantCalls)
			}
		})
	}
}
