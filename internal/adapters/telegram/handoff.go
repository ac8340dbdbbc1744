package telegram

import (
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
)

// helperAnswer reads u as a helper's answer in the handoff chat (Options.HandoffChat): a
// person's message replying to one of the bot's messages there that names a dialog (the
// summary of a handoff, or a message of the person relayed to the helpers). Everything
// else, and any message in another chat, answers nobody: only the members of the helpers'
// chat can relay.
func (b *Bot) helperAnswer(u update, me tgbotapi.User) (*conversation.Inbound, bool) {
	m := u.Message
	if b.opts.HandoffChat == 0 || m == nil || m.Chat == nil || m.Chat.ID != b.opts.HandoffChat ||
		m.From == nil || m.From.IsBot || m.SenderChat != nil {
		return nil, false
	}
	quoted := m.ReplyToMessage
	if quoted == nil || quoted.From == nil || quoted.From.ID != me.ID {
		return nil, false
	}
	asker, ok := conversation.HandoffRef(quoted.Text)
	if !ok {
		return nil, false
	}
	text := strings.TrimSpace(m.Text)
	kind := conversation.InputHelperReply
	if command, _, _ := strings.Cut(text, "@"); strings.EqualFold(command, "/done") {
		kind = conversation.InputHelperDone
	}
	r := route{Chat: m.Chat.ID, Thread: u.thread, Group: isGroup(m.Chat), ReplyTo: m.MessageID}
	return &conversation.Inbound{
		Turn: conversation.Turn{
			Key:       asker,
			InboundID: strconv.Itoa(u.UpdateID),
			Route:     mustRoute(r),
			ReplyKey:  conversation.Key{Platform: Platform, Chat: strconv.FormatInt(m.Chat.ID, 10), User: strconv.FormatInt(m.From.ID, 10)},
		},
		Input: conversation.Input{Kind: kind, Text: text, From: person(m.From)},
		At:    sentAt(m.Date),
	}, true
}
