package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
)

func botUser() tgbotapi.User {
	return tgbotapi.User{ID: telegramtest.BotID, IsBot: true, UserName: telegramtest.BotUserName}
}

func mustUpdate(t *testing.T, u map[string]any) update {
	t.Helper()
	u["update_id"] = 1
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeUpdate(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTranslate_GroupMentionAfterEmoji(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"😅👍 @paydoctor_bot card declined", "😅👍 card declined"},
		{"@paydoctor_bot", ""},
		{"𝐇𝐞𝐥𝐩 @PAYDOCTOR_BOT 没收到验证码 🙏", "𝐇𝐞𝐥𝐩 没收到验证码 🙏"},
	} {
		a := translate(mustUpdate(t, telegramtest.GroupText(group, alice, tc.text, nil)), botUser())
		if a.in == nil {
			t.Errorf("%q: not answered", tc.text)
			continue
		}
		if a.in.Input.Text != tc.want {
			t.Errorf("%q: text %q, want %q", tc.text, a.in.Input.Text, tc.want)
		}
		if tc.want == "" && a.in.Input.Kind != conversation.InputResume {
			t.Errorf("%q: a bare mention should show where the dialog stands", tc.text)
		}
		if a.in.Key.User != "111" || a.in.Key.Chat != "-1001234567890" {
			t.Errorf("%q: key %v", tc.text, a.in.Key)
		}
	}
	// A text_mention (a person without a username picked from the list) also counts.
	me := telegramtest.User{ID: telegramtest.BotID, FirstName: "PayDoctor"}
	a := translate(mustUpdate(t, telegramtest.GroupText(group, alice, "PayDoctor help", nil,
		telegramtest.Entity{Type: "text_mention", Offset: 0, Length: 9, User: &me})), botUser())
	if a.in == nil {
		t.Error("text_mention of the bot: not answered")
	}
}

func TestSplitText_UTF16Limit(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
	}{
		{"emoji only", strings.Repeat("😀", 5000)},
		{"lines", strings.Repeat("一二三四五六七八九十 abc\n", 700)},
		{"one long word", strings.Repeat("x", 9000)},
	} {
		parts := splitText(tc.text, MaxMessageUnits)
		if len(parts) < 2 {
			t.Errorf("%s: %d parts", tc.name, len(parts))
		}
		total := 0
		for _, p := range parts {
			n := len(utf16.Encode([]rune(p)))
			if n > MaxMessageUnits || n == 0 {
				t.Errorf("%s: part of %d UTF-16 units", tc.name, n)
			}
			total += len([]rune(strings.Join(strings.Fields(p), "")))
		}
		if want := len([]rune(strings.Join(strings.Fields(tc.text), ""))); total != want {
			t.Errorf("%s: parts hold %d characters, want %d", tc.name, total, want)
		}
	}
	if got := splitText("short", MaxMessageUnits); len(got) != 1 || got[0] != "short" {
		t.Errorf("short text: %q", got)
	}
}

func TestCallbackData_EveryButtonFits(t *testing.T) {
	k := testKB(t)
	const maxUserID = 1<<52 - 1 // Telegram user ids fit in 52 bits
	ids := []string{conversation.ButtonAll, conversation.ButtonRestart, conversation.ButtonHuman}
	for _, sol := range k.Solutions {
		ids = append(ids, "open:"+sol, "ok:"+sol, "no:"+sol)
	}
	seen := map[string]bool{}
	queue := []string{k.Start}
	for len(queue) > 0 {
		q, ok := k.Question(queue[0])
		queue = queue[1:]
		if !ok || seen[q.ID] {
			continue
		}
		seen[q.ID] = true
		for _, o := range q.Options {
			ids = append(ids, conversation.AnswerButton(q.ID, o.ID))
			if o.Next != "" {
				queue = append(queue, o.Next)
			}
		}
	}
	for _, id := range ids {
		data, ok := callbackData(k.Version, maxUserID, id)
		if !ok || len(data) > maxCallbackData {
			t.Errorf("button %q: callback_data %q does not fit", id, data)
			continue
		}
		v, owner, button := parseCallbackData(data)
		if v != k.Version || owner != maxUserID || button != id {
			t.Errorf("button %q: round trip gave %q %d %q", id, v, owner, button)
		}
	}
	if v, _, b := parseCallbackData("nonsense"); v != staleVersion || b != "nonsense" {
		t.Errorf("unreadable data: %q %q", v, b)
	}
}

func TestKeyedMutex_OneHolderPerChat(t *testing.T) {
	var k keyedMutex
	var mu sync.Mutex
	holders := map[int64]int{}
	var wg sync.WaitGroup
	for i := range 200 {
		chat := int64(i % 5)
		wg.Go(func() {
			unlock := k.lock(chat)
			mu.Lock()
			holders[chat]++
			if holders[chat] > 1 {
				t.Errorf("chat %d held twice", chat)
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			holders[chat]--
			mu.Unlock()
			unlock()
		})
	}
	wg.Wait()
	if len(k.locks) != 0 {
		t.Errorf("%d locks kept after use", len(k.locks))
	}
}

func TestTranslate_FillsFrom(t *testing.T) {
	wei := telegramtest.User{ID: 4242, FirstName: "Wei", Username: "wei_dev", Lang: "zh-hans"}
	want := conversation.Person{Name: "Wei", Username: "wei_dev", Reach: "tg://user?id=4242"}
	for name, u := range map[string]map[string]any{
		"message":  telegramtest.PrivateText(wei, "/human"),
		"callback": telegramtest.Callback(wei, telegramtest.PrivateChat(wei), 9, "v|human"),
	} {
		a := translate(mustUpdate(t, u), botUser())
		if a.in == nil {
			t.Fatalf("%s: not answered", name)
		}
		if a.in.Input.From != want {
			t.Errorf("%s: From = %+v, want %+v", name, a.in.Input.From, want)
		}
	}
}

func TestHandoffRoute(t *testing.T) {
	for _, tc := range []struct {
		chat   int64
		thread int
	}{{-1001234567890, 0}, {777, 0}, {-1001234567890, 42}} {
		key, raw := HandoffRoute(tc.chat, tc.thread)
		var r route
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		if key.Platform != Platform || key.Chat != strconv.FormatInt(tc.chat, 10) || r.Chat != tc.chat || r.Thread != tc.thread || r.Group != (tc.chat < 0) {
			t.Errorf("HandoffRoute(%d, %d) = %+v, %+v", tc.chat, tc.thread, key, r)
		}
	}
}

// A token Telegram no longer accepts is not the reply's fault: Send reports a passing error,
// so the reply waits for the operator instead of being dropped with every other.
func TestSend_RefusedTokenKeepsTheReply(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	opts.Token = "999:revoked"
	h := newHarness(t, fake, "", opts)
	err := h.bot.Send(t.Context(), conversation.Delivery{ID: 1, Route: []byte(`{"c":111}`), Reply: conversation.Reply{Text: "hello"}})
	if err == nil || errors.Is(err, conversation.ErrUndeliverable) {
		t.Errorf("Send with a refused token: %v, want a passing error", err)
	}
	if strings.Contains(fmt.Sprint(err), "999:revoked") {
		t.Errorf("the token is in the error: %v", err)
	}
}
