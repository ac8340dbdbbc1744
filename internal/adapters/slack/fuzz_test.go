package slack

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
)

// checkJob holds for every job a payload turns into: a dialog key, an id of the right kind,
// a route that round-trips, and text never longer than what the payload carried (the engine
// cuts what is over its limit; the adapter neither pads nor joins text).
func checkJob(t *testing.T, j job, source string, idPrefix string) {
	t.Helper()
	if j.in.Key.Chat == "" || j.in.Key.User == "" {
		t.Fatalf("job without a dialog key: %+v", j.in.Key)
	}
	if j.in.InboundID != "" && !strings.HasPrefix(j.in.InboundID, idPrefix) {
		t.Fatalf("inbound id %q, want prefix %q", j.in.InboundID, idPrefix)
	}
	back, err := decodeRoute(j.route.encode())
	if err != nil {
		t.Fatalf("route does not decode: %v", err)
	}
	if back.Mode != j.route.Mode || back.Mode == "" {
		t.Fatalf("route mode %q came back as %q", j.route.Mode, back.Mode)
	}
	switch j.in.Input.Kind {
	case conversation.InputText, conversation.InputButton:
		if len(j.in.Input.Text) > len(source)+1 { // +1: "help" becomes "/help"
			t.Fatalf("text grew from %d to %d bytes", len(source), len(j.in.Input.Text))
		}
		if utf8.ValidString(source) && !utf8.ValidString(j.in.Input.Text) {
			t.Fatalf("valid text %q became invalid %q", source, j.in.Input.Text)
		}
	case conversation.InputResume, conversation.InputUnsupported:
		if j.in.Input.Text != "" {
			t.Fatalf("%v input carries text %q", j.in.Input.Kind, j.in.Input.Text)
		}
	default:
		t.Fatalf("input kind %v", j.in.Input.Kind)
	}
}

func FuzzParseCommand(f *testing.F) {
	f.Add(slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "支付失败", ResponseURL: "https://hooks.slack.com/commands/1/2/3", TriggerID: "t1"}))
	f.Add(slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "help", ResponseURL: "https://h/r", TriggerID: "t2"}))
	f.Add(slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "", ResponseURL: "https://h/r"}))
	f.Add([]byte("token=x&team_id=T1&channel_id=C1&user_id=U1&text=%FF%00solution+paypal&response_url=x&trigger_id=1"))
	f.Add([]byte("text=%zz&&=;"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		j, ok, err := parseCommand(body)
		if err != nil || !ok {
			return
		}
		r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_ = r.ParseForm()
		checkJob(t, j, strings.TrimSpace(r.PostForm.Get("text")), "trigger:")
		if j.route.Mode != modeRespond || j.route.ResponseURL == "" {
			t.Fatalf("a command answered other than through its response_url: %+v", j.route)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add(slacktest.EventBody("Ev1", slacktest.DM("D1", "U1", "hello", "1700000000.000100")))
	f.Add(slacktest.EventBody("Ev2", slacktest.Mention("C1", "U1", "<@U0BOT> 交易被拒绝", "1700000000.000200", "")))
	f.Add(slacktest.EventBody("Ev3", slacktest.Mention("C1", "U1", "<@U0BOT|pd>", "1700000000.000300", "1700000000.000100")))
	f.Add([]byte(`{"type":"url_verification","challenge":"abc"}`))
	f.Add([]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev4","event":{"type":"message","channel_type":"im","user":"U1","text":"\ud800 x","channel":"D1","subtype":"file_share"}}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev5","event":{"type":"app_mention","user":"U1","text":"<@U0BOT> <@W1|x>","channel":"C1","files":[{}]}}`))
	f.Add([]byte(`{"type":"event_callback","event":null}`))
	f.Add(slacktest.EventBody("Ev6", slacktest.ThreadBroadcast("D1", "im", "U1", "支付失败", "1700000000.000200", "1700000000.000100")))
	f.Add(slacktest.EventBody("Ev7", slacktest.AppHomeOpened("U1", "D1", "home", true)))
	f.Add(slacktest.EventBody("Ev8", slacktest.AppHomeOpened("U1", "D1", "messages", false)))
	f.Fuzz(func(t *testing.T, body []byte) {
		j, ok, challenge, err := parseEvent(body)
		if err != nil || challenge != nil || !ok {
			return
		}
		switch j.kind {
		case jobHome:
			if j.user == "" || j.in.Key != (conversation.Key{}) {
				t.Fatalf("a home view for nobody, or with a message: %+v", j)
			}
			return
		case jobCommit:
		default:
			t.Fatalf("an event became job kind %d", j.kind)
		}
		checkJob(t, j, innerText(body), "event:")
		if j.in.InboundID == "" {
			t.Fatal("an event without an event id: Slack's retries would be answered twice")
		}
	})
}

// innerText is event.text of an Events API body.
func innerText(body []byte) string {
	_, ok, _, _ := parseEvent(body)
	if !ok {
		return ""
	}
	var v struct {
		Event struct {
			Text string `json:"text"`
		} `json:"event"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Event.Text
}

func FuzzParseInteraction(f *testing.F) {
	m := slacktest.Message{TS: "1700000000.000500", Buttons: []slacktest.Button{{ActionID: actionPrefix + "0", BlockID: blockPrefix + "U1|1", Value: "v1|a:what_happened:declined"}}}
	f.Add(slacktest.PressBody(slacktest.Press{Channel: "D1", User: "U1", TriggerID: "t1", Message: m, Button: m.Buttons[0]}))
	f.Add(slacktest.PressBody(slacktest.Press{Channel: "C1", User: "U2", TriggerID: "t2", Message: m, Button: m.Buttons[0]}))
	f.Add([]byte(`payload={"type":"block_actions","user":{"id":"U1"},"container":{"is_ephemeral":true},"response_url":"x","actions":[{"action_id":"pd:0","value":"|"}]}`))
	f.Add([]byte(`payload=%7B%7D`))
	f.Add([]byte(`payload=`))
	for _, id := range []string{"restart", "solution:paypal", "solution:", "a:what_happened:declined"} {
		b := slacktest.Button{ActionID: actionPrefix + "home:0", BlockID: homeBlockPrefix + "start", Value: "v1|" + id}
		f.Add(slacktest.HomePressBody(slacktest.HomePress{User: "U1", TriggerID: "t3", Button: b}))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		j, ok, err := parseInteraction(body)
		if err != nil || !ok {
			return
		}
		switch j.kind {
		case jobNotYourMenu:
			// Nothing to commit: a note to the presser where the menu is.
			if j.user == "" || j.route.Channel == "" || j.route.User != j.user || j.in.Key != (conversation.Key{}) {
				t.Fatalf("a note with nobody or nowhere to tell, or with a message: %+v", j)
			}
			return
		case jobHomePress:
			// The chat (the DM) and the route are filled in once conversations.open answers.
			in := j.in.Input
			if j.user == "" || j.in.Key.User != j.user || j.in.Key.Chat != "" || !strings.HasPrefix(j.in.InboundID, "trigger:") && j.in.InboundID != "" {
				t.Fatalf("a home press %+v", j)
			}
			if !(in.Kind == conversation.InputButton && in.Text == conversation.ButtonRestart) &&
				!(in.Kind == conversation.InputText && strings.HasPrefix(in.Text, "/solution ") && len(in.Text) > len("/solution ")) {
				t.Fatalf("a home press became %+v", in)
			}
			return
		case jobCommit:
		default:
			t.Fatalf("an interaction became job kind %d", j.kind)
		}
		if j.in.Input.Kind != conversation.InputButton {
			t.Fatalf("a press became %v", j.in.Input.Kind)
		}
		checkJob(t, j, string(body), "trigger:")
		if j.route.Mode == modeRespond && j.route.ResponseURL == "" || j.route.Mode != modeRespond && j.route.Channel == "" {
			t.Fatalf("a press with nowhere to answer: %+v", j.route)
		}
	})
}

func FuzzStripMentions(f *testing.F) {
	for _, s := range []string{"<@U0BOT> hi", "<@W1|name> 你好 <@U2>", "<@U<@U1>1>", "\xff<@U1>\xfe", "<@U>", "no mention"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		out := stripMentions(text)
		if len(out) > len(text) {
			t.Fatalf("%q grew to %q", text, out)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("valid %q became invalid %q", text, out)
		}
		if !strings.Contains(text, "<@") && out != strings.TrimSpace(text) {
			t.Fatalf("text without a mention changed: %q -> %q", text, out)
		}
	})
}

// FuzzVerifyRequest: a request verifies only if its signature is the HMAC of its own
// timestamp and body with the secret, and its timestamp is within MaxRequestAge; a genuine
// signature over a changed body, or from another secret, never verifies.
func FuzzVerifyRequest(f *testing.F) {
	f.Add("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", []byte("token=x"), int64(0), byte(0))
	f.Add("s", "", "", []byte{}, int64(301), byte(1))
	f.Add("", "1531420618", "v0=", []byte("a"), int64(-300), byte(2))
	f.Add("s", "+1531420618", "V0=00", []byte("a"), int64(1<<40), byte(3))
	f.Fuzz(func(t *testing.T, secret, ts, sig string, body []byte, skew int64, flip byte) {
		now := time.Unix(1531420618, 0)
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		if VerifyRequest(h, body, secret, now) == nil {
			sec, err := strconv.ParseInt(h.Get("X-Slack-Request-Timestamp"), 10, 64)
			if secret == "" || err != nil || sig != Signature(secret, h.Get("X-Slack-Request-Timestamp"), body) {
				t.Fatalf("forged request verified: ts %q sig %q", ts, sig)
			}
			if d := now.Sub(time.Unix(sec, 0)); d > MaxRequestAge || d < -MaxRequestAge {
				t.Fatalf("stale request verified: ts %q", ts)
			}
		}
		// A genuine signature made at now+skew.
		if skew > 1<<33 || skew < -(1<<33) {
			return
		}
		at := strconv.FormatInt(now.Unix()+skew, 10)
		h.Set("X-Slack-Request-Timestamp", at)
		h.Set("X-Slack-Signature", Signature(secret, at, body))
		err := VerifyRequest(h, body, secret, now)
		fresh := skew >= -int64(MaxRequestAge/time.Second) && skew <= int64(MaxRequestAge/time.Second)
		if want := secret != "" && fresh; (err == nil) != want {
			t.Fatalf("genuine request, skew %ds, secret %q: err %v", skew, secret, err)
		}
		if len(body) > 0 {
			changed := append([]byte(nil), body...)
			changed[int(flip)%len(changed)] ^= 1 << (flip % 8)
			if VerifyRequest(h, changed, secret, now) == nil {
				t.Fatal("a changed body verified")
			}
		}
		if VerifyRequest(h, body, secret+"x", now) == nil {
			t.Fatal("a request signed with another secret verified")
		}
	})
}
