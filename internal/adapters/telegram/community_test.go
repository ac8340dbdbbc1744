package telegram

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
)

// The forum of the tests: a supergroup with topics; thread 7 is its "Payments" topic.
const paymentsTopic = 7

// A mention in a forum topic is answered in that topic, quoting the message; when the quoted
// message was deleted before the reply went out, the reply still lands in the topic, not in
// General.
func TestForumTopic_RepliesStayInTheTopic(t *testing.T) {
	fake := telegramtest.NewServer(t)
	newHarness(t, fake, "", testOptions(fake)).start()

	asked := telegramtest.TopicText(group, paymentsTopic, alice, "@paydoctor_bot my card was declined", nil)
	fake.AddUpdate(asked)
	first := fake.WaitMessages(t, 1, 5*time.Second)[0]
	askedID := asked["message"].(map[string]any)["message_id"].(int)
	if first.Thread != paymentsTopic || first.ReplyTo != askedID {
		t.Errorf("answer filed in thread %d quoting %d, want thread %d quoting %d", first.Thread, first.ReplyTo, paymentsTopic, askedID)
	}

	// An anti-spam bot deletes Bob's message before the bot's reply goes out.
	deleted := telegramtest.TopicText(group, paymentsTopic, bob, "@paydoctor_bot 没收到验证码", nil)
	fake.DeleteMessage(group.ID, deleted["message"].(map[string]any)["message_id"].(int))
	fake.AddUpdate(deleted)
	second := fake.WaitMessages(t, 2, 5*time.Second)[1]
	if second.ChatID != group.ID || second.Thread != paymentsTopic {
		t.Errorf("reply to a deleted message filed in chat %d thread %d, want the topic %d", second.ChatID, second.Thread, paymentsTopic)
	}

	// A button on a menu in the topic: the next step is answered in the topic too, and the
	// person's dialog is the one they began there (one dialog per person per group).
	press := telegramtest.TopicCallback(alice, telegramtest.GroupChat(group), paymentsTopic, first.MessageID, button(t, first, first.Buttons()[0].CallbackData[strings.LastIndex(first.Buttons()[0].CallbackData, "|")+1:]))
	fake.AddUpdate(press)
	third := fake.WaitMessages(t, 3, 5*time.Second)[2]
	if third.Thread != paymentsTopic {
		t.Errorf("answer to a press in the topic filed in thread %d", third.Thread)
	}
}

// What is not a person gets nothing: a linked channel's post forwarded into its discussion
// group (from Telegram's service account, with is_automatic_forward), and a message posted as
// a channel, even when they mention the bot.
func TestNotAPerson_NothingAnswered(t *testing.T) {
	fake := telegramtest.NewServer(t)
	newHarness(t, fake, "", testOptions(fake)).start()
	channel := telegramtest.Channel{ID: -1009876543210, Title: "OpenAI 支付公告"}
	fake.AddUpdate(telegramtest.AutomaticForward(group, channel, "付款遇到问题？问 @paydoctor_bot"))
	fake.AddUpdate(telegramtest.AsChannel(group, channel, "@paydoctor_bot /start"))
	waitFor(t, "both updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	time.Sleep(300 * time.Millisecond)
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("%d messages sent for a channel's posts: %+v", n, fake.Messages())
	}
}

// An anonymous admin's mention is answered, with the note that the group's anonymous admins
// share one dialog; its buttons work for an admin who presses them, and tell anyone else
// that the menu is not theirs.
func TestAnonymousAdmin_AnsweredAndButtonsWorkForAdmins(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	fake.AddUpdate(telegramtest.AnonymousAdmin(group, "@paydoctor_bot card_declined"))
	menu := fake.WaitMessages(t, 1, 5*time.Second)[0]
	if !strings.Contains(plain(menu), h.text("zh-Hans", kb.MsgAnonymousAdmins)) {
		t.Errorf("no note that anonymous admins share one dialog:\n%s", plain(menu))
	}
	data := menu.Buttons()[0].CallbackData
	if !strings.Contains(data, "|"+telegramtest.FormatID(group.ID)+"|") {
		t.Errorf("callback_data %q does not name the group as the menu's owner", data)
	}

	// Bob is no admin: his press gets the note, and moves nothing.
	fake.AddUpdate(telegramtest.Callback(bob, telegramtest.GroupChat(group), menu.MessageID, data))
	waitFor(t, "a note to Bob", func() bool { return len(fake.Calls("answerCallbackQuery")) == 1 })
	if note := fake.Calls("answerCallbackQuery")[0].Params; note.Get("text") != h.text("en", kb.MsgNotYourMenu) {
		t.Errorf("Bob's press answered with %v, want the not-your-menu alert", note)
	}
	// Alice is an admin (anonymous when she writes, herself when she presses).
	fake.SetMember(group.ID, alice.ID, "administrator")
	fake.AddUpdate(telegramtest.Callback(alice, telegramtest.GroupChat(group), menu.MessageID, data))
	next := fake.WaitMessages(t, 2, 5*time.Second)[1]
	if strings.Contains(plain(next), h.text("en", kb.MsgStaleMenu)) || len(next.Buttons()) == 0 {
		t.Errorf("an admin's press on the anonymous admins' menu: %q", plain(next))
	}
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("%d messages, want 2: Bob's press answered nothing", n)
	}
}

// Deep links: t.me/<bot>?start=solution-paypal opens PayPal's steps, start=lang-en starts in
// English.
func TestDeepLinks_OpenThePlaceTheyName(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	wei := telegramtest.User{ID: 333, FirstName: "Wei", Lang: "zh-hans"}
	fake.AddUpdate(telegramtest.PrivateText(wei, "/start solution-paypal"))
	paypal := fake.WaitMessages(t, 1, 5*time.Second)[0]
	if !strings.Contains(plain(paypal), h.text("zh-Hans", kb.SolutionTitle("paypal"))) {
		t.Errorf("/start solution-paypal: %q, want PayPal's steps", plain(paypal))
	}
	fake.AddUpdate(telegramtest.PrivateText(wei, "/start lang-en"))
	english := fake.WaitMessages(t, 2, 5*time.Second)[1]
	if !strings.Contains(plain(english), h.text("en", kb.MsgGreeting)) {
		t.Errorf("/start lang-en: %q, want the English greeting", plain(english))
	}
}

// An update the library cannot decode is acknowledged (200) and logged with its id: sending
// it again would not help, and Telegram would.
func TestWebhook_UndecodableUpdateAcknowledged(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	opts.WebhookURL, opts.WebhookSecret = "https://bot.example/telegram/webhook", "s3cret"
	h := newHarness(t, fake, "", opts).start()
	srv := httptest.NewServer(h.bot.WebhookHandler())
	defer srv.Close()
	waitFor(t, "the bot serving", func() bool { return h.bot.self.Load() != nil })
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"update_id":4242,"message":"not a message"}`))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("undecodable update answered %d, want 200", resp.StatusCode)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "update_id=4242") {
		t.Errorf("the update id is not logged:\n%s", logs)
	}
	if p, _ := h.store.Pending(t.Context(), Platform, 10); len(p) != 0 {
		t.Errorf("%d replies committed for an undecodable update", len(p))
	}
	var _ conversation.Store = h.store
}
