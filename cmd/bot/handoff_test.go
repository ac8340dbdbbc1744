package main

import (
	"html"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/kb"
)

// The two-way handoff on Telegram, end to end through the fake Bot API: a person's /human
// reaches the helpers' group; a helper's reply to the summary reaches the person, signed;
// the person's answer reaches the helpers (card data removed); a restart in the middle loses
// nothing; a reply quoting the summary from another chat relays nothing; /done returns the
// person to the bot.
func TestHandoff_TwoWayOnTelegram(t *testing.T) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fake := telegramtest.NewServer(t)
	const humansID = -1009990001
	humans := telegramtest.Group{ID: humansID, Title: "PayDoctor helpers", Super: true}
	elsewhere := telegramtest.Group{ID: -1009990002, Title: "Some other group", Super: true}
	env := map[string]string{
		"BOT_DB":                    filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":             freeAddr(t),
		"BOT_LANG":                  "en",
		"BOT_HANDOFF_TELEGRAM_CHAT": strconv.Itoa(humansID),
		"TELEGRAM_BOT_TOKEN":        telegramtest.Token,
		"TELEGRAM_API_ENDPOINT":     fake.Endpoint(),
	}
	stop := runBot(t, env)
	ann := telegramtest.User{ID: 4101, FirstName: "Ann", Lang: "en"}
	mei := telegramtest.User{ID: 4201, FirstName: "Mei", Username: "mei_helps", Lang: "en"}
	plainText := func(m telegramtest.Message) string { return html.UnescapeString(m.Text) }
	waitTo := func(chat int64, n int) []telegramtest.Message {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(fake.MessagesTo(chat)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d messages to %d, want %d: %+v", len(fake.MessagesTo(chat)), chat, n, fake.MessagesTo(chat))
			}
			time.Sleep(10 * time.Millisecond)
		}
		return fake.MessagesTo(chat)
	}
	// A helper's reply to one of the bot's messages in a group.
	replyTo := func(g telegramtest.Group, m telegramtest.Message, from telegramtest.User, text string) {
		quoted := telegramtest.BotMessage(telegramtest.GroupChat(g), m.MessageID, plainText(m))
		fake.AddUpdate(telegramtest.GroupText(g, from, text, quoted))
	}

	fake.AddUpdate(telegramtest.PrivateText(ann, "/human"))
	summary := waitTo(humansID, 1)[0]
	if !strings.Contains(plainText(summary), "ref: telegram:4101:4101") || !strings.Contains(plainText(summary), k.Text("en", kb.MsgHandoffHow, nil)) {
		t.Fatalf("the summary does not say how to answer:\n%s", plainText(summary))
	}
	waitTo(ann.ID, 1)

	replyTo(humans, summary, mei, "Hi Ann, which bank issued your card?")
	got := waitTo(ann.ID, 2)[1]
	if text := plainText(got); !strings.Contains(text, "Mei") || strings.Contains(text, "mei_helps") || !strings.Contains(text, "which bank issued your card?") {
		t.Errorf("the helper's answer reached Ann as %q", text)
	}

	fake.AddUpdate(telegramtest.PrivateText(ann, "ICBC, card 4111 1111 1111 1111"))
	relayed := waitTo(humansID, 2)[1]
	if text := plainText(relayed); !strings.Contains(text, "ICBC") || strings.Contains(text, "4111") || !strings.Contains(text, "ref: telegram:4101:4101") {
		t.Errorf("Ann's answer reached the helpers as %q", text)
	}
	if relayed.ReplyTo == 0 {
		t.Error("Ann's answer does not quote the helper's message it answers")
	}

	// A restart in the middle of the conversation.
	stop()
	stop = runBot(t, env)
	defer func() { stop() }()
	replyTo(humans, relayed, mei, "Please call ICBC and ask them to enable online cross-border payments.")
	if text := plainText(waitTo(ann.ID, 4)[3]); !strings.Contains(text, "call ICBC") {
		t.Errorf("after the restart, the helper's answer reached Ann as %q", text)
	}

	// Someone in another group quoting the summary relays nothing.
	replyTo(elsewhere, summary, telegramtest.User{ID: 4301, FirstName: "Eve", Lang: "en"}, "I am not a helper")
	time.Sleep(500 * time.Millisecond)
	for _, m := range fake.MessagesTo(ann.ID) {
		if strings.Contains(plainText(m), "not a helper") {
			t.Error("a reply from outside the helpers' group reached Ann")
		}
	}

	// /done: Ann is asked whether it was solved, and is back with the bot.
	replyTo(humans, summary, mei, "/done")
	closed := waitTo(ann.ID, 5)[4]
	if !strings.Contains(plainText(closed), k.Text("en", kb.MsgHandoffClosed, nil)) || len(closed.Buttons()) != 2 {
		t.Errorf("after /done Ann got %q with %d buttons", plainText(closed), len(closed.Buttons()))
	}
	fake.AddUpdate(telegramtest.PrivateText(ann, "card_declined"))
	if text := plainText(waitTo(ann.ID, 6)[5]); !strings.Contains(text, k.Text("en", kb.CauseTitle("cross-border-restricted"), nil)) {
		t.Errorf("back with the bot, card_declined got %q", text)
	}
	// A reply after the end gets "not open any more" in the helpers' group.
	replyTo(humans, summary, mei, "Anything else?")
	if text := plainText(waitTo(humansID, 3)[2]); !strings.Contains(text, k.Text("en", kb.MsgHandoffNotOpen, nil)) {
		t.Errorf("a reply after /done got %q", text)
	}
}

// Helpers on another platform: a Telegram user's /human reaches the helpers' Slack channel;
// a helper's reply in the summary's thread reaches the user on Telegram; the user's answer
// reaches that thread, card data removed; after a restart, "done" in the thread returns the
// user to the bot.
func TestHandoff_TelegramPersonSlackHelpers(t *testing.T) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := telegramtest.NewServer(t)
	sl := slacktest.NewServer(t)
	sl.SetName("U0LI", "Li Wei")
	const secret, channel = "handoff-secret", "C0HELP"
	addr := freeAddr(t)
	base := "http://" + addr
	env := map[string]string{
		"BOT_DB":                    filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":             addr,
		"BOT_LANG":                  "en",
		"BOT_HANDOFF_SLACK_CHANNEL": channel,
		"TELEGRAM_BOT_TOKEN":        telegramtest.Token,
		"TELEGRAM_API_ENDPOINT":     tg.Endpoint(),
		"SLACK_BOT_TOKEN":           "xoxb-handoff",
		"SLACK_SIGNING_SECRET":      secret,
		"SLACK_API_URL":             sl.URL,
	}
	stop := runBot(t, env)
	defer func() { stop() }()
	waitServing(t, base)
	ann := telegramtest.User{ID: 4102, FirstName: "Ann", Lang: "en"}
	helperSays := func(eventID, text, ts, thread string) {
		t.Helper()
		body := slacktest.EventBody(eventID, slacktest.ThreadReply(channel, "channel", "U0LI", text, ts, thread))
		resp, err := http.DefaultClient.Do(slacktest.NewRequest(base+"/slack/events", secret, time.Now(), body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the helper's event answered %d", resp.StatusCode)
		}
	}

	tg.AddUpdate(telegramtest.PrivateText(ann, "/human"))
	summary := sl.WaitMessages(1, 10*time.Second)[0]
	if summary.Channel != channel || !strings.Contains(summary.Text, "ref: telegram:4102:4102") {
		t.Fatalf("the summary reached Slack as %+v", summary)
	}

	helperSays("EvH1", "Hi Ann, which bank issued your card?", "1700000100.000100", summary.TS)
	deadline := time.Now().Add(10 * time.Second)
	for len(tg.MessagesTo(ann.ID)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the Slack helper's answer never reached Ann: %+v", tg.MessagesTo(ann.ID))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if text := html.UnescapeString(tg.MessagesTo(ann.ID)[1].Text); !strings.Contains(text, "Li") || strings.Contains(text, "Wei") || !strings.Contains(text, "which bank") {
		t.Errorf("the helper's answer reached Ann as %q", text)
	}

	tg.AddUpdate(telegramtest.PrivateText(ann, "ICBC, card number 4111 1111 1111 1111"))
	relayed := sl.WaitMessages(2, 10*time.Second)[1]
	if relayed.Channel != channel || relayed.ThreadTS != summary.TS || !strings.Contains(relayed.Text, "ICBC") || strings.Contains(relayed.Text, "4111") {
		t.Errorf("Ann's answer reached Slack as %+v, want it in the summary's thread", relayed)
	}

	// A restart in the middle: the bot learns the thread again from Slack.
	stop()
	stop = runBot(t, env)
	waitServing(t, base)

	// Ann was told to delete the card number (her third message from the bot).
	helperSays("EvH2", "done", "1700000100.000200", summary.TS)
	deadline = time.Now().Add(10 * time.Second)
	for len(tg.MessagesTo(ann.ID)) < 4 {
		if time.Now().After(deadline) {
			t.Fatal("\"done\" in the thread never reached Ann")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if closed := tg.MessagesTo(ann.ID)[3]; !strings.Contains(html.UnescapeString(closed.Text), k.Text("en", kb.MsgHandoffClosed, nil)) || len(closed.Buttons()) != 2 {
		t.Errorf("after done Ann got %q", closed.Text)
	}
}
