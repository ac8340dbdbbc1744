package slack

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The translations from Slack's payloads to jobs, shared by HTTP and Socket Mode. Each
// returns false when the payload is not for the bot (bots, edits, other subtypes).

// jobKind tells what the adapter does with a job.
type jobKind int

const (
	// jobCommit: hand in to the hub; the reply goes where route says.
	jobCommit jobKind = iota
	// jobNotYourMenu: someone pressed a button of another person's menu. Nothing is
	// committed; user is told privately (chat.postEphemeral in route.Channel, in
	// route.Thread if set) that the menu is someone else's.
	jobNotYourMenu
	// jobHome: user opened the App Home's Home tab; nothing is committed, the home view is
	// published for them (views.publish).
	jobHome
	// jobHomePress: a button of the App Home. The adapter opens user's DM with the bot
	// (conversations.open), then commits in there, keyed and routed as a DM message.
	jobHomePress
	// jobHelper: a thread reply in a channel, maybe a helper's answer in the thread of a
	// handoff (see commitHelper); user wrote it, route posts in the thread.
	jobHelper
)

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
	case *slackevents.AppHomeOpenedEvent:
		// Opened the Messages tab, or the About tab: nothing to do.
		if e.Tab != "home" || e.User == "" {
			return job{}, false
		}
		return job{kind: jobHome, team: ev.TeamID, user: e.User}, true
	case *slackevents.AppMentionEvent:
		if e.BotID != "" || e.User == "" || e.Edited != nil {
			return job{}, false
		}
		thread := e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		return job{
			team:        ev.TeamID,
			files:       e.Files,
			threadReply: e.ThreadTimeStamp != "" && e.ThreadTimeStamp != e.TimeStamp,
			in: conversation.Inbound{
				Turn:  conversation.Turn{Key: conversation.Key{Chat: chatID(ev.TeamID, e.Channel), User: e.User}, InboundID: inbound},
				Input: messageInput(stripMentions(e.Text), len(e.Files) > 0, true),
				At:    tsTime(e.TimeStamp),
			},
			route: route{Mode: modePost, Channel: e.Channel, Thread: thread},
		}, true
	case *slackevents.MessageEvent:
		// In channels the bot answers @mentions, which come as app_mention, so a message
		// is never answered twice; a thread reply there may be a helper's answer to a
		// handoff.
		if e.ChannelType != "im" {
			return helperJob(ev.TeamID, inbound, e)
		}
		if e.BotID != "" || e.User == "" {
			return job{}, false
		}
		switch e.SubType {
		case "", "file_share":
		case "thread_broadcast":
			// A thread reply also sent to the conversation: the person's own message, sent
			// once, as one event (the root's message_changed that may follow is ignored).
		default:
			return job{}, false // message_changed, message_deleted, bot_message, joins...
		}
		if strings.TrimSpace(e.Text) == "" && !messageHasFiles(e) && e.SubType != "file_share" {
			return job{}, false
		}
		var files []slack.File
		if e.Message != nil {
			files = e.Message.Files
		}
		return job{
			team:  ev.TeamID,
			files: files,
			in: conversation.Inbound{
				Turn:  conversation.Turn{Key: conversation.Key{Chat: chatID(ev.TeamID, e.Channel), User: e.User}, InboundID: inbound},
				Input: messageInput(e.Text, messageHasFiles(e) || e.SubType == "file_share", false),
				At:    tsTime(e.TimeStamp),
			},
			route: route{Mode: modePost, Channel: e.Channel, Thread: e.ThreadTimeStamp},
		}, true
	}
	return job{}, false
}

// tsTime is when a message with Slack timestamp ts ("1700000000.000100", seconds on Slack's
// clock) was sent, or zero if ts is not one.
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}
	}
	us, _ := strconv.ParseInt(frac, 10, 64) // microseconds, or 0
	return time.Unix(s, us*int64(time.Microsecond))
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

// actionJob: a press on one of the bot's buttons (block_actions): on a message (a menu of
// the presser's, or of someone else's) or on the App Home.
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
	user := cb.User.ID
	if cb.Container.Type == "view" || cb.View.Type != "" {
		// A view has no channel to answer in: only the Home tab's buttons are the bot's.
		if cb.View.Type != slack.VTHomeTab {
			return job{}, false
		}
		return homePressJob(cb.Team.ID, user, triggerID(cb.TriggerID), version, id)
	}
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	var r route
	switch owner := blockOwner(action.BlockID); {
	case cb.Container.IsEphemeral || channel == "":
		if cb.ResponseURL == "" {
			return job{}, false
		}
		r = route{Mode: modeRespond, Replace: true, ResponseURL: cb.ResponseURL, Channel: channel, User: user}
	case owner == user:
		r = route{Mode: modeUpdate, Channel: channel, TS: cb.Container.MessageTs}
	case owner != "":
		// A button of another person's menu: it must not start or move the presser's
		// dialog, nor post in the channel. They are told privately, in the thread the
		// menu is in.
		thread := cb.Container.ThreadTs
		if thread == "" {
			thread = cb.Message.ThreadTimestamp
		}
		return job{kind: jobNotYourMenu, team: cb.Team.ID, user: user, route: route{Channel: channel, Thread: thread, User: user}}, true
	default:
		// A button of a message rendered for nobody in particular: the presser gets an
		// answer of their own, in the thread, and the message stays as it is.
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

// homePressJob: a button of the App Home (see homeView). The dialog's chat, the person's
// DM with the bot, is filled in by the adapter once conversations.open names it.
func homePressJob(team, user, inbound, version, id string) (job, bool) {
	if id != conversation.ButtonRestart && !strings.HasPrefix(id, conversation.OpenButton("")) {
		return job{}, false
	}
	in := conversation.Input{Kind: conversation.InputButton, Text: id, FlowVersion: version}
	return job{
		kind: jobHomePress,
		team: team,
		user: user,
		in: conversation.Inbound{
			Turn:  conversation.Turn{Key: conversation.Key{User: user}, InboundID: inbound},
			Input: in,
		},
	}, true
}

func messageHasFiles(e *slackevents.MessageEvent) bool {
	return e.Message != nil && len(e.Message.Files) > 0
}
