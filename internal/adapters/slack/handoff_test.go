package slack

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// namedAPI is a stub Slack that knows people's real names and records where messages go.
type namedAPI struct {
	stubAPI
	mu    sync.Mutex
	posts []slackPost
}

type slackPost struct{ channel, text string }

func (n *namedAPI) GetUserInfoContext(_ context.Context, user string, _ ...slack.GetUserInfoOption) (*slack.User, error) {
	return &slack.User{ID: user, RealName: "Wang Fang", Locale: "en-US"}, nil
}

func (n *namedAPI) PostMessageContext(_ context.Context, channel string, opts ...slack.MsgOption) (string, string, error) {
	_, v, err := slack.UnsafeApplyMsgOptions("", channel, "", opts...)
	if err != nil {
		return "", "", err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.posts = append(n.posts, slackPost{channel: v.Get("channel"), text: v.Get("text")})
	return "", "1.1", nil
}

// A DM's Input.From names the person (users.info's real name, fetched with the locale) with a
// mention, and a delivery addressed by HandoffRoute is posted to that channel.
func TestFromAndHandoffRoute(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	seen := make(chan conversation.Person, 1)
	svc := conversation.NewService(testEngine(t), store, conversation.ServiceOptions{
		Observe: func(in conversation.Inbound, _ conversation.Result, _ error, _ time.Duration) { seen <- in.Input.From },
	})
	hub := conversation.NewHub(svc, conversation.DispatcherOptions{})
	api := &namedAPI{}
	a := newAdapter(hub, api, Options{BotToken: "xoxb-test", SigningSecret: "s", KB: testKB(t)})
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	running.Go(func() { hub.Run(ctx) })
	running.Go(func() { a.Run(ctx) })
	defer func() { cancel(); running.Wait() }()
	for a.self.Load() == nil {
		time.Sleep(time.Millisecond)
	}

	ev := slackevents.EventsAPIEvent{
		TeamID:     "T1",
		Data:       &slackevents.EventsAPICallbackEvent{EventID: "Ev1"},
		InnerEvent: slackevents.EventsAPIInnerEvent{Data: &slackevents.MessageEvent{ChannelType: "im", User: "U42", Channel: "D1", Text: "/human", TimeStamp: "1.0"}},
	}
	j, ok := eventJob(ev)
	if !ok {
		t.Fatal("the DM was not taken")
	}
	if err := a.commit(ctx, j); err != nil {
		t.Fatal(err)
	}
	select {
	case from := <-seen:
		if want := (conversation.Person{Name: "Wang Fang", Reach: "<@U42>"}); from != want {
			t.Errorf("From = %+v, want %+v", from, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the DM never reached the service")
	}

	key, route := HandoffRoute("C0HUMANS")
	if key.Platform != Platform || key.Chat != "C0HUMANS" {
		t.Errorf("key %+v", key)
	}
	if err := a.Send(context.Background(), conversation.Delivery{ID: 99, Key: key, Route: route, Reply: conversation.Reply{Text: "summary"}}); err != nil {
		t.Fatal(err)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	var found bool
	for _, p := range api.posts {
		found = found || p.channel == "C0HUMANS" && p.text == "summary"
	}
	if !found {
		t.Errorf("no summary posted to C0HUMANS: %+v", api.posts)
	}
}

// A handoff summary committed by another platform's dialog (a notice in the outbox for Slack)
// is posted while the bot runs, without waiting for a restart.
func TestNoticeFromAnotherPlatformIsPosted(t *testing.T) {
	h := newHarness(t, nil)
	key, route := HandoffRoute("C0HUMANS")
	telegramDialog := conversation.Key{Platform: "telegram", Chat: "42", User: "42"}
	_, err := h.store.Commit(context.Background(), conversation.Turn{Key: telegramDialog}, func(d *conversation.Dialog) (conversation.Result, error) {
		return conversation.Result{Notices: []conversation.Notice{{Key: key, Route: route, Reply: conversation.Reply{Text: "Wei asks for a human"}}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := h.slack.WaitMessages(1, wait)[0]
	if m.Method != "chat.postMessage" || m.Channel != "C0HUMANS" || m.Text != "Wei asks for a human" {
		t.Fatalf("posted %+v, want the summary in C0HUMANS", m)
	}
	h.waitDelivered()
}
