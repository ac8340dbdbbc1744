package slack

import (
	"regexp"
	"strings"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The translations from Slack's payloads to jobs, shared by HTTP and Socket Mode. Each
// returns false when the payload is not for the bot (bots, edits, other subtypes).

func chatID(team, channel string) string { return team + "/" + channel }

// commandJob: a slash command, answered ephemerally through its response_url.
func commandJob(cmd slack.SlashCommand) (job, bool) {
	if cmd.UserID == "" || cmd.ChannelID == "" || cmd.ResponseURL == "" {
		return job{}, false
	}
	in := conversation.Input{Kind: conversation.InputText, Text: commandText(cmd.Text)}
	if in.Text == "" {
		// "/paydoctor" alone: greet a new person, show a returning one where they are.
		in = conversation.Input{Kind: conversation.InputResume}
	}
	return job{
		team: cmd.TeamID,
		in: conversation.Inbound{
			Turn:  conversation.Turn{Key: conversation.Key{Chat: chatID(cmd.TeamID, cmd.ChannelID), User: cmd.UserID}, InboundID: triggerID(cmd.TriggerID)},
			Input: in,
		},
		route: route{Mode: modeRespond, ResponseURL: cmd.ResponseURL, Channel: cmd.ChannelID, User: cmd.UserID},
	}, true
}

// commandText maps "/paydoctor help" to the engine's "/help", and so on; other text, such
// as a pasted error message, goes in as it is.
func commandText(text string) string {
	text = strings.TrimSpace(text)
	name, _, _ := strings.Cut(text, " ")
	switch strings.ToLower(name) {
	case "start", "help", "solutions", "solution", "lang", "language", "human":
		return "/" + text
	}
	return text
}

func triggerID(id string) string {
	if id == "" {
		return ""
	}
	return "trigger:" + id
}

// eventJob: a DM (message.im) or an @mention (app_mention), from an event_callback.
func eventJob(ev slackevents.EventsAPIEvent) (job, bool) {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || cb.EventID == "" {
		return job{}, false
	}
	inbound := "event:" + cb.EventID
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		if e.BotID != "" || e.User == "" || e.Edited != nil {
			return job{}, false
		}
		thread := e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		return job{
			team: ev.TeamID,
			in: conversation.Inbound{
				Turn:  conversation.Turn{Key: conversation.Key{Chat: chatID(ev.TeamID, e.Channel), User: e.User}, InboundID: inbound},
				Input: messageInput(stripMentions(e.Text), len(e.Files) > 0, true),
			},
			route: route{Mode: modePost, Channel: e.Channel, Thread: thread},
		}, true
	case *slackevents.MessageEvent:
		if e.ChannelType != "im" || e.BotID != "" || e.User == "" {
			return job{}, false
		}
		if e.SubType != "" && e.SubType != "file_share" {
			return job{}, false // message_changed, message_deleted, bot_message, joins...
		}
		if strings.TrimSpace(e.Text) == "" && !messageHasFiles(e) && e.SubType != "file_share" {
			return job{}, false
		}
		return job{
			team: ev.TeamID,
			in: conversation.Inbound{
				Turn:  conversation.Turn{Key: conversation.Key{Chat: chatID(ev.TeamID, e.Channel), User: e.User}, InboundID: inbound},
				Input: messageInput(e.Text, messageHasFiles(e) || e.SubType == "file_share", false),
			},
			route: route{Mode: modePost, Channel: e.Channel, Thread: e.ThreadTimeStamp},
		}, true
	}
	return job{}, false
}

// messageInput: text is text; a file without text is unsupported; an empty @mention asks
// for the dialog where it stands.
func messageInput(text string, files, mention bool) conversation.Input {
	text = strings.TrimSpace(text)
	switch {
	case text != "":
		return conversation.Input{Kind: conversation.InputText, Text: text}
	case files:
		return conversation.Input{Kind: conversation.InputUnsupported}
	case mention:
		return conversation.Input{Kind: conversation.InputResume}
	}
	return conversation.Input{Kind: conversation.InputText}
}

var mentionRE = regexp.MustCompile(`<@[UW][A-Z0-9]+(\|[^>]*)?>`)

// stripMentions removes user mentions such as "<@U0BOT>" from text.
func stripMentions(text string) string {
	return strings.TrimSpace(mentionRE.ReplaceAllString(text, ""))
}

// actionJob: a press on one of the bot's buttons (block_actions).
func actionJob(cb slack.InteractionCallback) (job, bool) {
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID == "" {
		return job{}, false
	}
	var action *slack.BlockAction
	for _, a := range cb.ActionCallback.BlockActions {
		if strings.HasPrefix(a.ActionID, actionPrefix) {
			action = a
			break
		}
	}
	if action == nil {
		return job{}, false
	}
	version, id, ok := parseValue(action.Value)
	if !ok {
		return job{}, false
	}
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	user := cb.User.ID
	var r route
	switch {
	case cb.Container.IsEphemeral || channel == "":
		if cb.ResponseURL == "" {
			return job{}, false
		}
		r = route{Mode: modeRespond, Replace: true, ResponseURL: cb.ResponseURL, Channel: channel, User: user}
	case blockOwner(action.BlockID) == user:
		r = route{Mode: modeUpdate, Channel: channel, TS: cb.Container.MessageTs}
	default:
		// Someone pressed a button of another person's answer: they get their own, in the
		// thread, and the other person's message stays as it is.
		thread := cb.Container.ThreadTs
		if thread == "" {
			thread = cb.Message.ThreadTimestamp
		}
		if thread == "" {
			thread = cb.Container.MessageTs
		}
		r = route{Mode: modePost, Channel: channel, Thread: thread}
	}
	return job{
		team: cb.Team.ID,
		in: conversation.Inbound{
			Turn:  conversation.Turn{Key: conversation.Key{Chat: chatID(cb.Team.ID, channel), User: user}, InboundID: triggerID(cb.TriggerID)},
			Input: conversation.Input{Kind: conversation.InputButton, Text: id, FlowVersion: version},
		},
		route: r,
	}, true
}

func messageHasFiles(e *slackevents.MessageEvent) bool {
	return e.Message != nil && len(e.Message.Files) > 0
}
