package slack

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
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

func (s *stubAPI) PublishViewContext(context.Context, slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	return &slack.ViewResponse{}, s.record("views.publish")
}

func (s *stubAPI) OpenConversationContext(_ context.Context, p *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error) {
	ch := &slack.Channel{}
	ch.ID = "D" + strings.Join(p.Users, "")
	return ch, false, false, s.record("conversations.open")
}

func (s *stubAPI) GetConversationRepliesContext(context.Context, *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error) {
	return nil, false, "", s.record("conversations.replies")
}

// Send tells the Outbox what to do with a failure: a refusal sending again will not fix
// wraps conversation.ErrUndeliverable (the reply leaves the outbox, so that it does not block
// the ones after it); a passing one (5xx, network) is returned as it is, to be sent again.
func TestSend_PermanentAndPassingFailures(t *testing.T) {
	for _, tc := range []struct {
		name          string
		err           error
		mode          string
		wantErr       bool
		wantPermanent bool
		wantCalls     []string
	}{
		{name: "sent", mode: modePost, wantCalls: []string{"chat.postMessage"}},
		{name: "channel not found", err: slack.SlackErrorResponse{Err: "channel_not_found"}, mode: modePost, wantErr: true, wantPermanent: true, wantCalls: []string{"chat.postMessage"}},
		{name: "not found", err: slack.StatusCodeError{Code: 404, Status: "404 Not Found"}, mode: modeUpdate, wantErr: true, wantPermanent: true, wantCalls: []string{"chat.update"}},
		{name: "server error", err: slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}, mode: modePost, wantErr: true, wantCalls: []string{"chat.postMessage"}},
		{name: "network", err: errors.New("dial tcp: connection refused"), mode: modeUpdate, wantErr: true, wantCalls: []string{"chat.update"}},
		// An expired response_url falls back to chat.postEphemeral, refused here as well.
		{name: "response_url refused", err: slack.SlackErrorResponse{Err: "expired_url"}, mode: modeRespond, wantErr: true, wantPermanent: true, wantCalls: []string{"chat.postMessage", "chat.postEphemeral"}},
		{name: "unknown mode", mode: "carrier-pigeon", wantErr: true, wantPermanent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &stubAPI{err: tc.err}
			a := newAdapter(nil, api, Options{KB: testKB(t)})
			r := route{Mode: tc.mode, Channel: "C1", TS: "1.2", User: "U1", ResponseURL: "http://127.0.0.1:1/response/1"}
			err := a.Send(t.Context(), conversation.Delivery{
				ID: 1, Key: conversation.Key{Platform: Platform, Chat: "T/C1", User: "U1"}, Route: r.encode(),
				Reply: conversation.Reply{Text: "hi"},
			})
			if (err != nil) != tc.wantErr || errors.Is(err, conversation.ErrUndeliverable) != tc.wantPermanent {
				t.Fatalf("Send = %v; want an error: %v, permanent: %v", err, tc.wantErr, tc.wantPermanent)
			}
			var retry *conversation.RetryAfterError
			if errors.As(err, &retry) {
				t.Fatalf("Send = %v, a RetryAfterError without a 429", err)
			}
			if !slices.Equal(api.calls, tc.wantCalls) {
				t.Fatalf("calls %v, want %v", api.calls, tc.wantCalls)
			}
		})
	}
	t.Run("bad route", func(t *testing.T) {
		a := newAdapter(nil, &stubAPI{}, Options{KB: testKB(t)})
		if err := a.Send(t.Context(), conversation.Delivery{ID: 1, Route: []byte("{")}); !errors.Is(err, conversation.ErrUndeliverable) {
			t.Fatalf("Send with an unreadable route = %v, want ErrUndeliverable", err)
		}
	})
}

// A 429 is Slack asking to wait: Send returns it as a *conversation.RetryAfterError carrying
// the Retry-After, and does not wait or retry by itself.
func TestSend_429IsRetryAfter(t *testing.T) {
	fake := slacktest.NewServer(t)
	a, err := New(nil, Options{BotToken: "xoxb-test", KB: testKB(t), SigningSecret: "s", APIURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method string
		route  route
	}{
		{"chat.postMessage", route{Mode: modePost, Channel: "C1"}},
		{"chat.update", route{Mode: modeUpdate, Channel: "C1", TS: "1700000000.000001"}},
		{"response_url", route{Mode: modeRespond, Channel: "C1", User: "U1", ResponseURL: fake.ResponseURL()}},
	} {
		fake.RateLimit(tc.method, 7)
		start := time.Now()
		err := a.Send(t.Context(), conversation.Delivery{ID: 1, Key: conversation.Key{Platform: Platform, Chat: "T/C1", User: "U1"}, Route: tc.route.encode(), Reply: conversation.Reply{Text: "hi"}})
		var retry *conversation.RetryAfterError
		if !errors.As(err, &retry) || retry.After != 7*time.Second {
			t.Errorf("%s: Send after a 429 with Retry-After 7 = %v, want a RetryAfterError of 7s", tc.method, err)
		}
		if errors.Is(err, conversation.ErrUndeliverable) {
			t.Errorf("%s: a 429 taken as a refusal for good", tc.method)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: Send waited %s", tc.method, took)
		}
		if n := fake.Calls(tc.method); n != 1 {
			t.Errorf("%s called %d times, want once", tc.method, n)
		}
	}
	if msgs := fake.Messages(); len(msgs) != 0 {
		t.Errorf("sent despite the 429s:%s", summary(msgs))
	}
}

// A slash command's response_url that Slack no longer takes (30 minutes, five uses) is
// answered through chat.postEphemeral to the person in the channel.
func TestSend_ExpiredResponseURLFallsBackToEphemeral(t *testing.T) {
	fake := slacktest.NewServer(t)
	a, err := New(nil, Options{BotToken: "xoxb-test", KB: testKB(t), SigningSecret: "s", APIURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	respond := fake.ResponseURL()
	fake.Expire(respond)
	r := route{Mode: modeRespond, Channel: "C1", User: "U1", ResponseURL: respond}
	if err := a.Send(t.Context(), conversation.Delivery{ID: 1, Key: conversation.Key{Platform: Platform, Chat: "T/C1", User: "U1"}, Route: r.encode(), Reply: conversation.Reply{Text: "hi"}}); err != nil {
		t.Fatalf("Send = %v, want the ephemeral fallback to succeed", err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].Method != "chat.postEphemeral" || msgs[0].Channel != "C1" || msgs[0].User != "U1" || msgs[0].Text != "hi" {
		t.Fatalf("messages:%s\nwant one chat.postEphemeral to U1 in C1", summary(msgs))
	}
	if n := fake.Calls("response_url"); n != 1 {
		t.Fatalf("response_url called %d times, want once", n)
	}
}
