package slacktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Sign sets the X-Slack-Request-Timestamp and X-Slack-Signature headers of req, whose body
// is body, as Slack does with its signing secret at time at.
func Sign(req *http.Request, secret string, at time.Time, body []byte) {
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", signature(secret, ts, body))
}

// NewRequest returns a POST of body to url, signed with secret at time at. The content type
// is JSON for a body starting with "{", a form otherwise.
func NewRequest(url, secret string, at time.Time, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	if len(body) > 0 && body[0] == '{' {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	Sign(req, secret, at, body)
	return req
}

// Command is a slash command invocation.
type Command struct {
	Team, Channel, User, Command, Text, ResponseURL, TriggerID string
}

func (c Command) fields() map[string]string {
	if c.Team == "" {
		c.Team = Team
	}
	if c.Command == "" {
		c.Command = "/paydoctor"
	}
	return map[string]string{
		"token": "verification-token-unused", "team_id": c.Team, "team_domain": "test",
		"channel_id": c.Channel, "channel_name": "general", "user_id": c.User, "user_name": c.User,
		"command": c.Command, "text": c.Text, "response_url": c.ResponseURL, "trigger_id": c.TriggerID,
		"api_app_id": "A0APP",
	}
}

// CommandBody is the form body of c as Slack posts it to the slash command URL.
func CommandBody(c Command) []byte { return formBody(c.fields()) }

// CommandPayload is c as the payload of a Socket Mode "slash_commands" envelope.
func CommandPayload(c Command) []byte {
	b, _ := json.Marshal(c.fields())
	return b
}

// EventBody is an event_callback wrapping inner, as Slack posts it to the events URL and as
// the payload of a Socket Mode "events_api" envelope.
func EventBody(eventID string, inner map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"token": "verification-token-unused", "team_id": Team, "api_app_id": "A0APP",
		"type": "event_callback", "event_id": eventID, "event_time": 1700000000,
		"event": inner, "authorizations": []map[string]any{{"team_id": Team, "user_id": BotUserID, "is_bot": true}},
	})
	return b
}

// Mention is an app_mention event: user wrote text (which should contain "<@U0BOT>") in
// channel, as message ts, in thread threadTS if not empty.
func Mention(channel, user, text, ts, threadTS string) map[string]any {
	e := map[string]any{"type": "app_mention", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts}
	if threadTS != "" {
		e["thread_ts"] = threadTS
	}
	return e
}

// DM is a message.im event.
func DM(channel, user, text, ts string) map[string]any {
	return map[string]any{"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts}
}

// Press is a block_actions interaction: user pressed button of the message m.
type Press struct {
	Team, Channel, User, TriggerID string
	Message                        Message
	Button                         Button
	// Ephemeral: m was ephemeral (sent through a response_url); ResponseURL is the fresh
	// response_url Slack gives the press.
	Ephemeral   bool
	ResponseURL string
}

// PressPayload is p as the JSON payload of a block_actions interaction.
func PressPayload(p Press) []byte {
	if p.Team == "" {
		p.Team = Team
	}
	container := map[string]any{"type": "message", "message_ts": p.Message.TS, "channel_id": p.Channel, "is_ephemeral": p.Ephemeral}
	if p.Message.ThreadTS != "" {
		container["thread_ts"] = p.Message.ThreadTS
	}
	b, _ := json.Marshal(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": p.Team}, "user": map[string]any{"id": p.User},
		"api_app_id": "A0APP", "token": "verification-token-unused", "container": container,
		"trigger_id": p.TriggerID, "channel": map[string]any{"id": p.Channel}, "response_url": p.ResponseURL,
		"message": map[string]any{"type": "message", "ts": p.Message.TS, "thread_ts": p.Message.ThreadTS, "text": p.Message.Text},
		"actions": []map[string]any{{
			"type": "button", "action_id": p.Button.ActionID, "block_id": p.Button.BlockID, "value": p.Button.Value,
			"text": map[string]any{"type": "plain_text", "text": p.Button.Text}, "action_ts": "1700000001.000001",
		}},
	})
	return b
}

// PressBody is p as the form Slack posts to the interactivity URL.
func PressBody(p Press) []byte {
	return []byte(url.Values{"payload": {string(PressPayload(p))}}.Encode())
}

// ThreadReply is a message event in a channel (message.channels; channelType "channel", or
// "group" for a private channel): user replied text in the thread threadTS of channel, as
// message ts.
func ThreadReply(channel, channelType, user, text, ts, threadTS string) map[string]any {
	return map[string]any{
		"type": "message", "channel": channel, "channel_type": channelType, "user": user, "text": text,
		"ts": ts, "thread_ts": threadTS, "event_ts": ts, "client_msg_id": "cm-" + ts, "team": Team,
	}
}

// ChannelMessage is a top-level message event in a channel (message.channels, or
// message.groups with channelType "group").
func ChannelMessage(channel, channelType, user, text, ts string) map[string]any {
	return map[string]any{
		"type": "message", "channel": channel, "channel_type": channelType, "user": user, "text": text,
		"ts": ts, "event_ts": ts, "client_msg_id": "cm-" + ts, "team": Team,
	}
}

// ThreadBroadcast is a message event of subtype thread_broadcast: user replied text in the
// thread threadTS of channel (of channelType: "im", "channel"...) and ticked "Also send to
// #channel" (or "to direct message"), as message ts. Root is the thread's first message, as
// Slack includes it.
func ThreadBroadcast(channel, channelType, user, text, ts, threadTS string) map[string]any {
	return map[string]any{
		"type": "message", "subtype": "thread_broadcast", "channel": channel, "channel_type": channelType,
		"user": user, "text": text, "ts": ts, "thread_ts": threadTS, "event_ts": ts, "client_msg_id": "cm-" + ts,
		"root": map[string]any{
			"type": "message", "user": user, "text": "the thread's first message", "ts": threadTS, "thread_ts": threadTS,
			"reply_count": 1, "reply_users_count": 1, "latest_reply": ts, "reply_users": []string{user}, "is_locked": false,
		},
	}
}

// AppHomeOpened is an app_home_opened event: user opened tab ("home", "messages" or
// "about") of the App Home, whose DM with the bot is channel. A Home tab published before
// comes along as view.
func AppHomeOpened(user, channel, tab string, published bool) map[string]any {
	e := map[string]any{"type": "app_home_opened", "user": user, "channel": channel, "tab": tab, "event_ts": "1700000000.000900"}
	if published {
		e["view"] = map[string]any{
			"id": HomeViewID, "team_id": Team, "type": "home", "blocks": []any{}, "private_metadata": "", "callback_id": "",
			"hash": "1700000000.00000000", "clear_on_close": false, "notify_on_close": false, "root_view_id": HomeViewID,
			"app_id": "A0APP", "external_id": "", "app_installed_team_id": Team, "bot_id": BotID,
		}
	}
	return e
}

// HomePress is a block_actions interaction from the App Home: user pressed button of the
// Home tab view whose blocks are Blocks (as published; may be empty). It has a view and no
// channel, message or response_url.
type HomePress struct {
	Team, User, TriggerID string
	Button                Button
	Blocks                json.RawMessage
}

// HomePressPayload is p as the JSON payload of a block_actions interaction.
func HomePressPayload(p HomePress) []byte {
	if p.Team == "" {
		p.Team = Team
	}
	blocks := p.Blocks
	if len(blocks) == 0 {
		blocks = json.RawMessage("[]")
	}
	b, _ := json.Marshal(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": p.Team, "domain": "test"},
		"user":       map[string]any{"id": p.User, "username": p.User, "name": p.User, "team_id": p.Team},
		"api_app_id": "A0APP", "token": "verification-token-unused",
		"container":  map[string]any{"type": "view", "view_id": HomeViewID},
		"trigger_id": p.TriggerID, "enterprise": nil, "is_enterprise_install": false,
		"view": map[string]any{
			"id": HomeViewID, "team_id": p.Team, "type": "home", "blocks": blocks, "private_metadata": "", "callback_id": "",
			"state": map[string]any{"values": map[string]any{}}, "hash": "1700000000.00000000", "clear_on_close": false,
			"notify_on_close": false, "root_view_id": HomeViewID, "previous_view_id": nil, "app_id": "A0APP",
			"external_id": "", "bot_id": BotID, "app_installed_team_id": p.Team,
		},
		"actions": []map[string]any{{
			"type": "button", "action_id": p.Button.ActionID, "block_id": p.Button.BlockID, "value": p.Button.Value,
			"text": map[string]any{"type": "plain_text", "text": p.Button.Text, "emoji": true}, "action_ts": "1700000001.000002",
		}},
	})
	return b
}

// HomePressBody is p as the form Slack posts to the interactivity URL.
func HomePressBody(p HomePress) []byte {
	return []byte(url.Values{"payload": {string(HomePressPayload(p))}}.Encode())
}
