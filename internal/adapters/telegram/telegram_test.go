package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
)

var (
	alice = telegramtest.User{ID: 111, FirstName: "Alice", Lang: "en"}
	bob   = telegramtest.User{ID: 222, FirstName: "Bob", Lang: "en"}
	li    = telegramtest.User{ID: 333, FirstName: "李", Lang: "zh-hans"}
	group = telegramtest.Group{ID: -1001234567890, Title: "OpenAI 支付互助", Super: true}
)

func containsHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestPrivateChat_WalkToSolution(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()

	fake.AddUpdate(telegramtest.PrivateText(li, "/start"))
	fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	fake.WaitMessages(t, 2, 5*time.Second)
	zh, en := fake.MessagesTo(li.ID)[0], fake.MessagesTo(alice.ID)[0]
	if !containsHan(plain(zh)) || len(zh.Buttons()) == 0 {
		t.Errorf("zh-hans /start: want Chinese with a keyboard, got %q %v", plain(zh), zh.Buttons())
	}
	if !strings.Contains(plain(en), h.text("en", kb.MsgGreeting)) || len(en.Buttons()) == 0 {
		t.Errorf("en /start: want the English greeting with a keyboard, got %q %v", plain(en), en.Buttons())
	}
	if en.ParseMode != "HTML" || en.ReplyTo != 0 {
		t.Errorf("private reply: parse mode %q, reply_to %d; want HTML and no quote", en.ParseMode, en.ReplyTo)
	}
	for _, b := range en.Buttons() {
		if !strings.HasPrefix(b.CallbackData, h.kb.Version+"|") {
			t.Errorf("callback_data %q does not carry the flow version %s", b.CallbackData, h.kb.Version)
		}
	}

	chat := telegramtest.PrivateChat(alice)
	press := func(m telegramtest.Message, id string) telegramtest.Message {
		t.Helper()
		n := len(fake.Messages())
		fake.AddUpdate(telegramtest.Callback(alice, chat, m.MessageID, button(t, m, id)))
		return fake.WaitMessages(t, n+1, 5*time.Second)[n]
	}
	m := press(en, conversation.AnswerButton("what_happened", "declined"))
	m = press(m, conversation.AnswerButton("card_type", "unionpay"))
	if len(m.Buttons()) == 0 {
		t.Fatalf("after the diagnosis: no buttons in %q", plain(m))
	}
	sol := strings.TrimPrefix(strings.SplitN(m.Buttons()[0].CallbackData, "|", 2)[1], "ok:")
	if !h.kb.IsSolution(sol) {
		t.Fatalf("first button after the diagnosis is %q, want ok:<solution>", m.Buttons()[0].CallbackData)
	}
	m = press(m, "ok:"+sol)
	if got := plain(m); !strings.Contains(got, h.text("en", kb.MsgWorked)) {
		t.Errorf("after \"this worked\": got %q, want the worked message", got)
	}
	// Every press was answered, and nothing else was sent.
	if n := len(fake.Calls("answerCallbackQuery")); n != 3 {
		t.Errorf("answerCallbackQuery called %d times, want 3", n)
	}
	if n := len(fake.MessagesTo(alice.ID)); n != 4 {
		t.Errorf("%d messages to Alice, want 4", n)
	}
	waitFor(t, "all updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	if len(fake.Calls("deleteWebhook")) == 0 {
		t.Error("polling did not delete the webhook first")
	}
	if n := len(fake.Calls("setWebhook")); n != 0 {
		t.Errorf("polling called setWebhook %d times", n)
	}
}

func TestSetMyCommands_ChineseAndEnglish(t *testing.T) {
	fake := telegramtest.NewServer(t)
	newHarness(t, fake, "", testOptions(fake)).start()
	waitFor(t, "setMyCommands", func() bool { return len(fake.Calls("setMyCommands")) >= 3 })
	langs := map[string]string{}
	for _, c := range fake.Calls("setMyCommands") {
		langs[c.Params.Get("language_code")] = c.Params.Get("commands")
	}
	if !containsHan(langs["zh"]) || !containsHan(langs[""]) || !strings.Contains(langs["en"], `"description":"Start over`) {
		t.Errorf("command menus: %v", langs)
	}
}

func TestCallback_UnreadableDataGetsCurrentMenu(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	fake.AddUpdate(telegramtest.Callback(alice, telegramtest.PrivateChat(alice), 1, "garbage"))
	fake.AddUpdate(telegramtest.Callback(bob, telegramtest.PrivateChat(bob), 1, "0000dead|a:what_happened:declined"))
	fake.WaitMessages(t, 2, 5*time.Second)
	for _, u := range []telegramtest.User{alice, bob} {
		m := fake.MessagesTo(u.ID)[0]
		if !strings.Contains(plain(m), h.text("en", kb.MsgStaleMenu)) || len(m.Buttons()) == 0 {
			t.Errorf("%s: got %q, want \"out of date\" and a fresh menu", u.FirstName, plain(m))
		}
	}
}

func TestGroup_AnswersOnlyWhenAddressed(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()

	botMsg := telegramtest.BotMessage(telegramtest.GroupChat(group), 42, "…")
	ignored := []map[string]any{
		telegramtest.GroupText(group, alice, "my card was declined", nil),
		telegramtest.GroupText(group, alice, "/start", nil),
		telegramtest.GroupText(group, alice, "/start@other_bot", nil),
		telegramtest.GroupText(group, alice, "ask @paydoctor_bot_fan please", nil),
		telegramtest.GroupText(group, alice, "🙂 paydoctor_bot @someone", nil),
	}
	for _, u := range ignored {
		fake.AddUpdate(u)
	}
	// An emoji outside the BMP is two UTF-16 units: the mention's offset counts them.
	mention := telegramtest.GroupText(group, alice, "😅👍 @PayDoctor_bot card_declined", nil)
	fake.AddUpdate(mention)
	command := telegramtest.GroupText(group, bob, "/start@paydoctor_bot", nil)
	fake.AddUpdate(command)
	reply := telegramtest.GroupText(group, li, "没收到验证码", botMsg)
	fake.AddUpdate(reply)

	msgs := fake.WaitMessages(t, 3, 5*time.Second)
	waitFor(t, "all updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	time.Sleep(100 * time.Millisecond)
	if n := len(fake.Messages()); n != 3 {
		t.Fatalf("%d messages in the group, want 3 (mention, command, reply)", n)
	}
	// Different people are answered concurrently, in any order: match answers by the
	// message they quote.
	answerTo := map[int]telegramtest.Message{}
	for _, m := range msgs {
		if m.ChatID != group.ID {
			t.Errorf("an answer went to chat %d, want the group %d", m.ChatID, group.ID)
		}
		answerTo[m.ReplyTo] = m
	}
	id := func(u map[string]any) int { return u["message"].(map[string]any)["message_id"].(int) }
	for name, u := range map[string]map[string]any{"mention": mention, "command": command, "reply": reply} {
		if _, ok := answerTo[id(u)]; !ok {
			t.Errorf("no answer quotes the %s (message %d)", name, id(u))
		}
	}
	// The mention was taken out and the rest recognised: a diagnosis, not "not understood".
	// The texts read hold a code that tells no reason, whose meaning begins the answer.
	if got := plain(answerTo[id(mention)]); !strings.Contains(got, h.text("en", kb.CodeMeaning("no_reason"))) {
		t.Errorf("answer to the @mention: %q, want the recognised-error answer", got)
	}
	if got := plain(answerTo[id(reply)]); !containsHan(got) {
		t.Errorf("answer to li: %q, want Chinese", got)
	}
}

// "@bot" in reply to a pasted error asks about the error: the bot reads the message replied
// to, answers the person who asked, and does not read its own answers back.
func TestGroup_ReadsTheMessageRepliedTo(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()

	pasted := telegramtest.GroupText(group, alice, "Your card was declined. decline_code: do_not_honor", nil)
	fake.AddUpdate(pasted)
	ask := telegramtest.GroupText(group, bob, "@paydoctor_bot", pasted["message"].(map[string]any))
	fake.AddUpdate(ask)
	answer := fake.WaitMessages(t, 1, 5*time.Second)[0]
	if got := plain(answer); !strings.Contains(got, h.text("en", kb.CodeMeaning("no_reason"))) {
		t.Errorf("answer to a bare @mention under the error: %q, want the recognised-error answer", got)
	}
	if want := ask["message"].(map[string]any)["message_id"].(int); answer.ReplyTo != want {
		t.Errorf("the answer quotes message %d, want bob's %d", answer.ReplyTo, want)
	}

	// Asked about their own message with a card number in it, the person is told to delete
	// it; asked about someone else's, they are not (they cannot).
	own := telegramtest.GroupText(group, li, "my card 4111 1111 1111 1111 keeps getting declined", nil)
	fake.AddUpdate(own)
	for i, asker := range []telegramtest.User{li, alice} {
		fake.AddUpdate(telegramtest.GroupText(group, asker, "@paydoctor_bot", own["message"].(map[string]any)))
		got := plain(fake.WaitMessages(t, 2+i, 5*time.Second)[1+i])
		warned := strings.Contains(got, h.text("en", kb.MsgCardDataWarning)) || strings.Contains(got, h.text("zh-Hans", kb.MsgCardDataWarning))
		if warned != (asker.ID == li.ID) || strings.Contains(got, "1111") {
			t.Errorf("%s asking about li's card number: %q; want the warning only for li, and no digits", asker.FirstName, got)
		}
	}

	// Under the bot's own answer a bare @mention shows where the dialog stands, as it does
	// anywhere: the answer is not read as a new message.
	botAnswer := telegramtest.BotMessage(telegramtest.GroupChat(group), answer.MessageID, plain(answer))
	fake.AddUpdate(telegramtest.GroupText(group, bob, "@paydoctor_bot", botAnswer))
	again := fake.WaitMessages(t, 4, 5*time.Second)[3]
	if strings.Contains(plain(again), h.text("en", kb.CodeMeaning("no_reason"))) {
		t.Errorf("the bot read its own answer as a new error: %q", plain(again))
	}
}

// Whose message a bare @mention asks about: a person's, an anonymous admin's (sent as the
// group); not a channel's post forwarded into its discussion group, nor one posted as a
// channel, however much they look like a pasted error.
func TestGroup_ReadsOnlyPeoplesMessagesRepliedTo(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	const declined = "Your card was declined. decline_code: do_not_honor"
	channel := telegramtest.Channel{ID: -1009876543210, Title: "Payment news"}
	for i, tc := range []struct {
		name      string
		repliedTo map[string]any
		read      bool
	}{
		{"an anonymous admin's message", telegramtest.AnonymousAdmin(group, declined), true},
		{"a channel post forwarded into the group", telegramtest.AutomaticForward(group, channel, declined), false},
		{"a message posted as a channel", telegramtest.AsChannel(group, channel, declined), false},
	} {
		asker := telegramtest.User{ID: int64(5000 + i), FirstName: "Asker", Lang: "en"}
		fake.AddUpdate(telegramtest.GroupText(group, asker, "@paydoctor_bot", tc.repliedTo["message"].(map[string]any)))
		got := fake.WaitMessages(t, i+1, 5*time.Second)[i]
		if read := strings.Contains(plain(got), h.text("en", kb.CodeMeaning("no_reason"))); read != tc.read {
			t.Errorf("%s: read %v, want %v; answer %q", tc.name, read, tc.read, plain(got))
		}
	}
}

func TestGroup_ButtonOfAnotherPersonMovesNoDialog(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	chat := telegramtest.GroupChat(group)

	fake.AddUpdate(telegramtest.GroupText(group, alice, "/start@paydoctor_bot", nil))
	menu := fake.WaitMessages(t, 1, 5*time.Second)[0]
	data := button(t, menu, conversation.AnswerButton("what_happened", "declined"))
	if !strings.Contains(data, "|"+strconv.FormatInt(alice.ID, 10)+"|") {
		t.Errorf("group callback_data %q does not name its owner", data)
	}

	fake.AddUpdate(telegramtest.Callback(bob, chat, menu.MessageID, data))
	waitFor(t, "a note to Bob", func() bool { return len(fake.Calls("answerCallbackQuery")) == 1 })
	note := fake.Calls("answerCallbackQuery")[0].Params
	if note.Get("show_alert") != "true" || note.Get("text") != h.text("en", kb.MsgNotYourMenu) {
		t.Errorf("Bob's press answered with %v, want the not-your-menu alert", note)
	}

	// Alice's dialog did not move: her own press is not stale.
	fake.AddUpdate(telegramtest.Callback(alice, chat, menu.MessageID, data))
	next := fake.WaitMessages(t, 2, 5*time.Second)[1]
	if got := plain(next); strings.Contains(got, h.text("en", kb.MsgStaleMenu)) || !strings.Contains(got, h.text("en", kb.QuestionText("card_type"))) {
		t.Errorf("Alice's press after Bob's: %q, want the card-type question", got)
	}
	if next.ReplyTo != menu.MessageID {
		t.Errorf("answer to a press quotes %d, want the menu %d", next.ReplyTo, menu.MessageID)
	}
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("%d messages, want 2: Bob's press must not post anything", n)
	}
}

func TestGroup_MigrationKeepsDialogs(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	old := telegramtest.Group{ID: -4001, Title: "small"}
	super := telegramtest.Group{ID: -1004001, Title: "small", Super: true}

	fake.AddUpdate(telegramtest.GroupText(old, alice, "/start@paydoctor_bot", nil))
	menu := fake.WaitMessages(t, 1, 5*time.Second)[0]
	fake.AddUpdate(telegramtest.Migrate(old, alice, super.ID))
	// The old keyboard, pressed in the supergroup, finds Alice's dialog where it was.
	fake.AddUpdate(telegramtest.Callback(alice, telegramtest.GroupChat(super), menu.MessageID,
		button(t, menu, conversation.AnswerButton("what_happened", "declined"))))
	m := fake.WaitMessages(t, 2, 5*time.Second)[1]
	if m.ChatID != super.ID || !strings.Contains(plain(m), h.text("en", kb.QuestionText("card_type"))) {
		t.Errorf("after migration: %q in chat %d, want the card-type question in %d", plain(m), m.ChatID, super.ID)
	}
}

func TestUnsupported_StickerAndPhotoAnswered_EditsAndChannelPostsIgnored(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	fake.AddUpdate(telegramtest.Edited(alice, "/start"))
	fake.AddUpdate(map[string]any{"channel_post": map[string]any{
		"message_id": 7, "date": 1700000000, "text": "/start@paydoctor_bot",
		"chat":        map[string]any{"id": -1009999, "title": "news", "type": "channel"},
		"sender_chat": map[string]any{"id": -1009999, "title": "news", "type": "channel"},
	}})
	fake.AddUpdate(telegramtest.GroupText(group, alice, "", nil)) // no text, no media: a service message
	fake.AddUpdate(telegramtest.Sticker(alice))
	fake.AddUpdate(telegramtest.Photo(bob))
	fake.WaitMessages(t, 2, 5*time.Second)
	waitFor(t, "all updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	time.Sleep(50 * time.Millisecond)
	if n := len(fake.Messages()); n != 2 {
		t.Fatalf("%d messages, want 2 (the edit, the channel post and the service message get none)", n)
	}
	for _, u := range []telegramtest.User{alice, bob} {
		if got := plain(fake.MessagesTo(u.ID)[0]); !strings.Contains(got, h.text("en", kb.MsgUnsupportedMedia)) {
			t.Errorf("%s: %q, want the unsupported-media answer", u.FirstName, got)
		}
	}
}

func TestRestart_NothingHandledTwice_OldKeyboardWorks(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	chat := telegramtest.PrivateChat(alice)
	first := fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	menu := fake.WaitMessages(t, 1, 5*time.Second)[0]
	second := fake.AddUpdate(telegramtest.Callback(alice, chat, menu.MessageID, button(t, menu, conversation.AnswerButton("what_happened", "declined"))))
	cardMenu := fake.WaitMessages(t, 2, 5*time.Second)[1]
	waitFor(t, "all updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	h.stop()
	waitFor(t, "the stopped bot's last long poll to end", func() bool { return fake.Polling() == 0 })

	// As if the bot had stopped before its confirmations reached Telegram: both updates come
	// again. The store has their ids, so neither is answered again.
	fake.Requeue(first)
	fake.Requeue(second)
	if n := fake.Unconfirmed(); n != 2 {
		t.Fatalf("%d updates requeued, want 2", n)
	}
	h2 := newHarness(t, fake, h.dbPath, testOptions(fake)).start()
	waitFor(t, "requeued updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	if n := len(fake.Calls("getUpdates")); n < 2 {
		t.Fatalf("only %d getUpdates calls", n)
	}
	// The keyboard from before the restart still works.
	fake.AddUpdate(telegramtest.Callback(alice, chat, cardMenu.MessageID, button(t, cardMenu, conversation.AnswerButton("card_type", "unionpay"))))
	msgs := fake.WaitMessages(t, 3, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := len(fake.Messages()); n != 3 {
		t.Fatalf("%d messages, want 3: a requeued update was answered again", n)
	}
	if got := plain(msgs[2]); strings.Contains(got, h2.text("en", kb.MsgStaleMenu)) || !strings.Contains(got, h2.text("en", kb.OutcomeText("cross-border"))) {
		t.Errorf("old keyboard after restart: %q, want the cross-border diagnosis", got)
	}
}

func TestRestart_SendsRepliesLeftInOutbox(t *testing.T) {
	fake := telegramtest.NewServer(t)
	crashed := newHarness(t, fake, "", testOptions(fake))
	// A reply committed, then a crash before it was sent, then a restart on the same file.
	in := translate(mustUpdate(t, telegramtest.PrivateText(alice, "/start")), botUser())
	svc := conversation.NewService(crashed.engine, crashed.store, conversation.ServiceOptions{})
	if _, err := svc.Handle(context.Background(), *in.in); err != nil {
		t.Fatal(err)
	}
	crashed.stop()
	h := newHarness(t, fake, crashed.dbPath, testOptions(fake)).start()
	m := fake.WaitMessages(t, 1, 5*time.Second)[0]
	if m.ChatID != alice.ID || !strings.Contains(plain(m), h.text("en", kb.MsgGreeting)) {
		t.Errorf("redelivered: %q to %d", plain(m), m.ChatID)
	}
	waitFor(t, "outbox empty", func() bool {
		p, err := h.store.Pending(context.Background(), Platform, 10)
		return err == nil && len(p) == 0
	})
}

func TestWebhook_RefusesWrongSecret(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	opts.WebhookURL, opts.WebhookSecret = "https://bot.example.com/telegram/webhook", "s3cret-Token_1"
	h := newHarness(t, fake, "", opts)
	handler := h.bot.WebhookHandler()
	post := func(secret string, body string) int {
		r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if secret != "" {
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return w.Code
	}
	update := `{"update_id":900001,"message":{"message_id":1,"from":{"id":111,"is_bot":false,"first_name":"Alice","language_code":"en"},"chat":{"id":111,"first_name":"Alice","type":"private"},"date":1700000000,"text":"/start"}}`
	if code := post(opts.WebhookSecret, update); code != http.StatusServiceUnavailable {
		t.Errorf("before Run: %d, want 503 so that Telegram retries", code)
	}
	h.start()
	waitFor(t, "setWebhook", func() bool { return len(fake.Calls("setWebhook")) == 1 })
	p := fake.Calls("setWebhook")[0].Params
	if p.Get("url") != opts.WebhookURL || p.Get("secret_token") != opts.WebhookSecret {
		t.Errorf("setWebhook params %v", p)
	}
	for _, secret := range []string{"", "wrong", opts.WebhookSecret + "x", strings.ToUpper(opts.WebhookSecret)} {
		if code := post(secret, update); code != http.StatusForbidden {
			t.Errorf("secret %q: %d, want 403", secret, code)
		}
	}
	if code := post(opts.WebhookSecret, "{not json"); code != http.StatusOK {
		t.Errorf("bad body: %d, want 200 (acknowledged: Telegram would retry it in vain)", code)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("refused requests were handled: %d messages", n)
	}
	if code := post(opts.WebhookSecret, update); code != http.StatusOK {
		t.Fatalf("right secret: %d, want 200", code)
	}
	if code := post(opts.WebhookSecret, update); code != http.StatusOK { // Telegram retrying
		t.Fatalf("same update again: %d, want 200", code)
	}
	m := fake.WaitMessages(t, 1, 5*time.Second)[0]
	time.Sleep(100 * time.Millisecond)
	if n := len(fake.Messages()); n != 1 || m.ChatID != alice.ID {
		t.Errorf("%d messages (first to %d), want 1 to Alice", n, m.ChatID)
	}
	if n := len(fake.Calls("getUpdates")) + len(fake.Calls("deleteWebhook")); n != 0 {
		t.Errorf("webhook mode polled or deleted the webhook (%d calls)", n)
	}
}

func TestSend_EscapesHTML(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake))
	text := `if amount < 5 && card_type == "unionpay" <b>not bold</b> &amp; fish_&_chips > 3`
	d := conversation.Delivery{ID: 1, Route: []byte(`{"c":111}`), Reply: conversation.Reply{Text: text,
		Buttons: []conversation.Button{{ID: conversation.ButtonRestart, Label: "<restart> & _go_"}}}}
	if err := h.bot.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	ms := fake.Messages()
	if len(ms) != 1 {
		t.Fatalf("%d messages sent, want 1 (the fake answers 400 to bad HTML)", len(ms))
	}
	if got := plain(ms[0]); got != text {
		t.Errorf("people see %q, want %q", got, text)
	}
	if ms[0].Buttons()[0].Text != "<restart> & _go_" {
		t.Errorf("button label %q changed", ms[0].Buttons()[0].Text)
	}
}

func TestSend_SplitsLongMessages(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake))
	var b strings.Builder
	for i := 0; b.Len() < 30000; i++ {
		fmt.Fprintf(&b, "第%d步 😀 <check> & retry_%d\n", i, i) // emoji: 2 UTF-16 units each
	}
	text := strings.TrimSpace(b.String())
	d := conversation.Delivery{ID: 1, Route: []byte(`{"c":-100777,"r":55,"g":true}`), Reply: conversation.Reply{Text: text,
		Buttons: []conversation.Button{{ID: conversation.ButtonAll, Label: "all"}}}}
	if err := h.bot.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	ms := fake.Messages()
	if len(ms) < 3 {
		t.Fatalf("%d messages, want the text split over several", len(ms))
	}
	var joined []string
	for i, m := range ms {
		joined = append(joined, plain(m))
		if (i == 0) != (m.ReplyTo == 55) {
			t.Errorf("part %d quotes %d; only the first should quote 55", i, m.ReplyTo)
		}
		if (i == len(ms)-1) != (len(m.Buttons()) == 1) {
			t.Errorf("part %d has %d buttons; only the last should have the keyboard", i, len(m.Buttons()))
		}
	}
	if got := strings.Join(joined, "\n"); got != text {
		t.Errorf("the parts do not join back into the text (%d vs %d bytes)", len(got), len(text))
	}
}

// A 429 is Telegram asking to wait: Send says so, and the Outbox waits that long before it
// sends to the chat again.
func TestSend_WaitsRetryAfterOn429(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake))
	fake.RateLimit(111, 1, 1)
	d := conversation.Delivery{ID: 1, Route: []byte(`{"c":111}`), Reply: conversation.Reply{Text: "hello"}}
	var retry *conversation.RetryAfterError
	if err := h.bot.Send(context.Background(), d); !errors.As(err, &retry) || retry.After != time.Second {
		t.Fatalf("Send after a 429 with retry_after 1: %v, want a RetryAfterError of 1s", err)
	}

	fake.RateLimit(alice.ID, 2, 1) // two 429s in a row, retry_after 1 s each
	h.start()
	start := time.Now()
	fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	ms := fake.WaitMessages(t, 1, 10*time.Second)
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("sent before retry_after ran out: %v", v)
	}
	if elapsed := ms[0].At.Sub(start); elapsed < 2*time.Second {
		t.Errorf("sent after %s, want at least 2 retry_after of 1s", elapsed)
	}
	if n := len(fake.Calls("sendMessage")); n != 4 {
		t.Errorf("%d sendMessage calls, want 4 (the first Send, two 429s, one success)", n)
	}
}

func TestManyUsersAtOnce_EachAnsweredOnce(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake))
	limits := h.bot.Limits() // Telegram's
	h.limits = &limits
	h.start()
	const n = 90
	users := make([]telegramtest.User, n)
	for i := range users {
		users[i] = telegramtest.User{ID: int64(10000 + i), FirstName: fmt.Sprint("u", i), Lang: "en"}
		if i%30 == 0 {
			fake.RateLimit(users[i].ID, 1, 1)
		}
	}
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() { fake.AddUpdate(telegramtest.PrivateText(u, "my card was declined")) })
	}
	wg.Wait()
	fake.WaitMessages(t, n, 10*time.Second)
	waitFor(t, "all updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	time.Sleep(200 * time.Millisecond)
	per := map[int64]int{}
	for _, m := range fake.Messages() {
		per[m.ChatID]++
	}
	for _, u := range users {
		if per[u.ID] != 1 {
			t.Errorf("user %d answered %d times", u.ID, per[u.ID])
		}
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("sent before retry_after ran out: %v", v)
	}
	// Paced: no more than burst + rate*t sends in any stretch.
	ms := fake.Messages()
	if span := ms[len(ms)-1].At.Sub(ms[0].At); span < 1500*time.Millisecond {
		t.Errorf("%d messages in %s: faster than 30 a second", len(ms), span)
	}
	_ = h
}

func TestShutdown_WithinDrainTimeout_ReplyKeptInOutbox(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	opts.PollTimeout = 30 * time.Second // a long poll is in flight at shutdown
	h := newHarness(t, fake, "", opts)
	h.drain = time.Second
	h.start()
	fake.RateLimit(alice.ID, 1, 30)
	fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	waitFor(t, "the 429", func() bool { return len(fake.Calls("sendMessage")) == 1 })
	start := time.Now()
	h.cancel()
	for range 2 {
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return within 5s")
		}
	}
	h.cancel = nil
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s, want about the 1s drain timeout", d)
	}
	p, err := h.store.Pending(context.Background(), Platform, 10)
	if err != nil || len(p) != 1 {
		t.Errorf("outbox after shutdown: %d replies, %v; want the unsent reply kept", len(p), err)
	}
}

func TestLogs_NeverTokenOrText(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // connection refused: the client's error carries the URL, token included
	opts.APIEndpoint = dead.URL + "/bot%s/%s"
	h := newHarness(t, fake, "", opts).start()
	waitFor(t, "a logged retry", func() bool { return strings.Contains(h.logs.String(), "retrying") })
	h.stop()

	fake2 := telegramtest.NewServer(t)
	h2 := newHarness(t, fake2, "", testOptions(fake2)).start()
	fake2.RateLimit(alice.ID, 1, 1)
	secret := "4111 1111 1111 1111 exp 12/29 cvv 123"
	fake2.AddUpdate(telegramtest.PrivateText(alice, secret))
	fake2.WaitMessages(t, 1, 5*time.Second)
	h2.stop()
	for _, logs := range []string{h.logs.String(), h2.logs.String()} {
		// Whole pieces of the card, not "4111": a port such as 127.0.0.1:41113 holds that.
		if strings.Contains(logs, telegramtest.Token) || strings.Contains(logs, "1111 1111") || strings.Contains(logs, "cvv 123") {
			t.Errorf("logs hold the token or people's text:\n%s", logs)
		}
	}
	if !strings.Contains(h.logs.String(), "<token>") {
		t.Errorf("expected a scrubbed URL in the logs:\n%s", h.logs)
	}
}

func TestRun_RefusedTokenIsAnError(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	opts.Token = "999:wrong"
	h := newHarness(t, fake, "", opts).start()
	select {
	case err := <-h.done:
		h.cancel = nil
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("Run: %v, want ErrUnauthorized", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going with a refused token")
	}
}

// The limits the adapter declares are Telegram's: 30 a second over all chats, one a second
// in a private chat, 20 a minute in a group.
func TestLimits_GroupsSlowerThanPrivateChats(t *testing.T) {
	fake := telegramtest.NewServer(t)
	l := newHarness(t, fake, "", testOptions(fake)).bot.Limits()
	if l.Global.Every != time.Second/30 {
		t.Errorf("global: one every %s, want 30 a second", l.Global.Every)
	}
	private := l.Chat(conversation.Delivery{Route: []byte(`{"c":111}`)})
	group := l.Chat(conversation.Delivery{Route: []byte(`{"c":-100222,"g":true}`)})
	if private.Every != time.Second || group.Every != 3*time.Second {
		t.Errorf("private chat: one every %s, group: one every %s; want 1s and 3s", private.Every, group.Every)
	}
}

func TestFlood_OneSlowDownThenSilenceAndOthersAnswered(t *testing.T) {
	fake := telegramtest.NewServer(t)
	h := newHarness(t, fake, "", testOptions(fake)).start()
	for range 150 {
		fake.AddUpdate(telegramtest.PrivateText(alice, "hello?"))
	}
	fake.AddUpdate(telegramtest.PrivateText(bob, "/start"))
	waitFor(t, "all updates confirmed", func() bool { return fake.Unconfirmed() == 0 })
	fake.WaitMessages(t, 7, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	got := fake.MessagesTo(alice.ID)
	if len(got) != 6 || !strings.Contains(plain(got[5]), h.text("en", kb.MsgSlowDown)) {
		t.Errorf("150 messages in a burst got %d answers, want 5 and one slow-down", len(got))
	}
	if other := fake.MessagesTo(bob.ID); len(other) != 1 {
		t.Errorf("another person's /start got %d answers, want 1", len(other))
	}
}

type countingMetrics struct{ sent, limited, retried atomic.Int64 }

func (m *countingMetrics) MessageSent() { m.sent.Add(1) }
func (m *countingMetrics) RateLimited() { m.limited.Add(1) }
func (m *countingMetrics) Retried()     { m.retried.Add(1) }

func TestSend_CountsMetricsAndHandoffRoute(t *testing.T) {
	fake := telegramtest.NewServer(t)
	var m countingMetrics
	h := newHarness(t, fake, "", testOptions(fake))
	h.metrics = &m
	h.start()
	fake.RateLimit(alice.ID, 1, 1)
	fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	fake.WaitMessages(t, 1, 5*time.Second)
	waitFor(t, "the metrics", func() bool { return m.sent.Load() == 1 })
	if m.sent.Load() != 1 || m.limited.Load() != 1 || m.retried.Load() != 0 {
		t.Errorf("sent %d, 429s %d, retries %d; want 1, 1, 0", m.sent.Load(), m.limited.Load(), m.retried.Load())
	}
	// A handoff summary goes to the humans' group the way HandoffRoute says.
	key, route := HandoffRoute(-100777, 0)
	if err := h.bot.Send(context.Background(), conversation.Delivery{ID: 2, Key: key, Route: route, Reply: conversation.Reply{Text: "summary"}}); err != nil {
		t.Fatal(err)
	}
	if got := fake.MessagesTo(-100777); len(got) != 1 || got[0].Text != "summary" {
		t.Errorf("messages to the humans' group: %+v", got)
	}
}
