package telegram

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
)

var fuzzMe = tgbotapi.User{ID: telegramtest.BotID, IsBot: true, UserName: telegramtest.BotUserName}

// FuzzTranslate decodes arbitrary JSON as an update and translates it: no panic, at most one
// action, and a message for the engine carries the update's id, a route to its own chat,
// and no more text than the update did.
func FuzzTranslate(f *testing.F) {
	g := telegramtest.Group{ID: -100123, Title: "g", Super: true}
	u := telegramtest.User{ID: 42, FirstName: "A", Lang: "zh-hans"}
	for i, upd := range []map[string]any{
		telegramtest.PrivateText(u, "/start"),
		telegramtest.PrivateText(u, "Your card was declined 😀"),
		telegramtest.GroupText(g, u, "@paydoctor_bot 交易被拒绝", nil),
		telegramtest.GroupText(g, u, "😀 hi @paydoctor_bot", nil),
		telegramtest.GroupText(g, u, "/start@paydoctor_bot", nil),
		telegramtest.GroupText(g, u, "ok", telegramtest.BotMessage(telegramtest.GroupChat(g), 5, "x")),
		telegramtest.GroupText(g, u, "hey", nil, telegramtest.Entity{Type: "text_mention", Offset: 0, Length: 3, User: &telegramtest.User{ID: telegramtest.BotID}}),
		telegramtest.Callback(u, telegramtest.PrivateChat(u), 7, "abc|a:what_happened:declined"),
		telegramtest.Callback(u, telegramtest.GroupChat(g), 7, "abc|43|ok:paypal"),
		telegramtest.Sticker(u),
		telegramtest.Edited(u, "x"),
		telegramtest.Migrate(telegramtest.Group{ID: -5}, u, -1005),
	} {
		upd["update_id"] = 1000 + i
		b, err := json.Marshal(upd)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"update_id":1,"message":{"message_id":1,"from":{"id":1},"chat":{"id":-1,"type":"group"},"text":"@paydoctor_bot","entities":[{"type":"mention","offset":0,"length":14},{"type":"mention","offset":-3,"length":99}]}}`))
	f.Add([]byte(`{"update_id":2,"callback_query":{"id":"q","from":{"id":1},"data":"\u0000|-1|x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := decodeUpdate(data)
		if err != nil {
			return
		}
		a := translate(u, fuzzMe)
		set := 0
		for _, b := range []bool{a.in != nil, a.move != nil, a.notice != nil} {
			if b {
				set++
			}
		}
		if set > 1 {
			t.Fatalf("%d actions for one update: %+v", set, a)
		}
		if a.in == nil {
			return
		}
		in := a.in
		if in.Key.Platform != Platform || in.Key.Chat != strconv.FormatInt(a.chat, 10) || in.InboundID != strconv.Itoa(u.UpdateID) {
			t.Fatalf("key %+v, inbound %q for update %d in chat %d", in.Key, in.InboundID, u.UpdateID, a.chat)
		}
		var r route
		if err := json.Unmarshal(in.Route, &r); err != nil || r.Chat != a.chat {
			t.Fatalf("route %s: %v, want chat %d", in.Route, err, a.chat)
		}
		var source string
		switch {
		case u.Message != nil && u.Message.Text != "":
			source = u.Message.Text
		case u.Message != nil:
			source = u.Message.Caption
		case u.CallbackQuery != nil:
			source = u.CallbackQuery.Data
		}
		if len(in.Input.Text) > len(source) {
			t.Fatalf("text grew from %q to %q", source, in.Input.Text)
		}
		if utf8.ValidString(source) && !utf8.ValidString(in.Input.Text) {
			t.Fatalf("valid %q became invalid %q", source, in.Input.Text)
		}
		if in.Input.Kind == conversation.InputButton && in.Input.FlowVersion == "" {
			t.Fatalf("a press without a flow version: %+v", in.Input)
		}
	})
}

// FuzzAddressedTo runs mention parsing with arbitrary text and entities, whose offsets and
// lengths count UTF-16 units and may point anywhere: no panic, the text never grows, valid
// UTF-8 stays valid, and a message with nothing pointing at the bot is not addressed to it.
func FuzzAddressedTo(f *testing.F) {
	f.Add("@paydoctor_bot hi", 0, 14, uint8(0), 0, 0, false)
	f.Add("😀 @paydoctor_bot 你好", 3, 14, uint8(0), 0, 0, false)
	f.Add("😀@paydoctor_bot", 1, 14, uint8(0), 2, 14, false)
	f.Add("/start@paydoctor_bot x", 0, 20, uint8(2), 0, 0, false)
	f.Add("hi \xff@paydoctor_bot\xfe", 4, 14, uint8(0), 0, 0, false)
	f.Add("x", -1, 1<<30, uint8(1), 1<<31-1, 2, true)
	f.Fuzz(func(t *testing.T, text string, off1, len1 int, typ uint8, off2, len2 int, replyToBot bool) {
		types := []string{"mention", "text_mention", "bot_command", "url"}
		ents := []tgbotapi.MessageEntity{
			{Type: types[int(typ)%len(types)], Offset: off1, Length: len1, User: &tgbotapi.User{ID: fuzzMe.ID}},
			{Type: "mention", Offset: off2, Length: len2},
		}
		var reply *tgbotapi.Message
		if replyToBot {
			reply = &tgbotapi.Message{From: &fuzzMe}
		}
		out, addressed := addressedTo(text, ents, reply, fuzzMe)
		if len(out) > len(text) {
			t.Fatalf("%q grew to %q", text, out)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("valid %q became invalid %q", text, out)
		}
		plain, addressedPlain := addressedTo(text, nil, nil, fuzzMe)
		if addressedPlain || plain != text {
			t.Fatalf("no entities, no reply: addressed=%v, text %q -> %q", addressedPlain, text, plain)
		}
		if addressed && !replyToBot && ents[0].Type == "url" && !strings.Contains(strings.ToLower(text), "@"+strings.ToLower(fuzzMe.UserName)) {
			t.Fatalf("addressed without a mention, command or reply: %q %+v", text, ents)
		}
	})
}
