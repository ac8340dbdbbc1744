package telegram

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
)

// action is what one update asks for: at most one of its fields is set; none means the
// update is ignored.
type action struct {
	in     *conversation.Inbound
	chat   int64 // the chat of in, where its reply goes
	move   *chatMove
	notice *notice
	// adminOnly, when set, makes in stand only if its user is an admin of the chat;
	// otherwise the notice is given instead.
	adminOnly *adminCheck
}

type adminCheck struct {
	user      int64
	otherwise *notice
}

type chatMove struct{ from, to int64 }

// notice answers a button press, and changes no dialog: with the note that the menu is
// someone else's, in lang, or with nothing.
type notice struct {
	queryID     string
	notYourMenu bool
	lang        string // the presser's language_code
}

// route is where a reply goes, stored with it in the outbox. The JSON names are short and
// stable: replies in the outbox survive upgrades.
type route struct {
	Chat     int64  `json:"c"`
	Thread   int    `json:"t,omitempty"` // forum topic (message_thread_id) the reply goes to
	ReplyTo  int    `json:"r,omitempty"` // message to quote (groups)
	Callback string `json:"q,omitempty"` // callback query to answer
	Group    bool   `json:"g,omitempty"` // a group or supergroup: paced at 20 a minute
	Owner    int64  `json:"o,omitempty"` // groups: whose dialog the buttons move
	// Anonymous: the person is the group's anonymous admins, who share one dialog (Owner is
	// the group itself); the reply says so.
	Anonymous bool `json:"a,omitempty"`
}

// update is an update as the adapter reads it: the library's decoding, and what v5.5.1 of the
// library does not decode.
type update struct {
	tgbotapi.Update
	// thread is the forum topic (message_thread_id) of the update's message, or of the
	// message its button is on; 0 outside forum topics.
	thread int
}

// topicMessage holds the fields of a message that v5.5.1 lacks.
type topicMessage struct {
	MessageThreadID int  `json:"message_thread_id"`
	IsTopicMessage  bool `json:"is_topic_message"`
}

func (m *topicMessage) topic() int {
	if m == nil || !m.IsTopicMessage {
		return 0 // replies in a non-forum supergroup have a thread id too, not a topic
	}
	return m.MessageThreadID
}

// decodeUpdate reads one update as the Bot API sends it.
func decodeUpdate(raw []byte) (update, error) {
	var u update
	if err := json.Unmarshal(raw, &u.Update); err != nil {
		return update{}, err
	}
	var extra struct {
		Message       *topicMessage `json:"message"`
		CallbackQuery *struct {
			Message *topicMessage `json:"message"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		return update{}, err
	}
	u.thread = extra.Message.topic()
	if extra.CallbackQuery != nil {
		u.thread = extra.CallbackQuery.Message.topic()
	}
	return u, nil
}

// Telegram's service accounts: 777000 forwards a linked channel's posts into its discussion
// group; 1087968824 (GroupAnonymousBot) sends for a group's anonymous admins; 136817688
// (Channel_Bot) sends for people posting as one of their channels.
const (
	telegramServiceUser = 777000
	groupAnonymousBot   = 1087968824
)

func isGroup(c *tgbotapi.Chat) bool { return c.Type == "group" || c.Type == "supergroup" }

// translate turns an update into an action. me is the bot itself.
func translate(u update, me tgbotapi.User) action {
	switch {
	case u.Message != nil:
		return translateMessage(u, me)
	case u.CallbackQuery != nil:
		return translateCallback(u)
	}
	// Edited messages (answering them would run a step again), channel posts and the rest.
	return action{}
}

func translateMessage(u update, me tgbotapi.User) action {
	m := u.Message
	if m.Chat == nil {
		return action{}
	}
	switch {
	case m.MigrateToChatID != 0:
		return action{move: &chatMove{from: m.Chat.ID, to: m.MigrateToChatID}}
	case m.MigrateFromChatID != 0: // the same move, seen from the new supergroup
		return action{move: &chatMove{from: m.MigrateFromChatID, to: m.Chat.ID}}
	}
	// Who is writing: a person, the group's anonymous admins, or nobody to answer (a
	// channel's post forwarded into its discussion group, someone posting as a channel,
	// Telegram's service account, another bot).
	anonymous := m.SenderChat != nil && m.SenderChat.ID == m.Chat.ID
	switch {
	case m.IsAutomaticForward, m.SenderChat != nil && !anonymous, m.From == nil, m.From.ID == telegramServiceUser:
		return action{}
	case m.From.IsBot && !anonymous:
		return action{}
	}
	group := isGroup(m.Chat)
	if anonymous && !group {
		return action{}
	}
	if !group && m.Chat.Type != "private" {
		return action{}
	}
	text, entities := m.Text, m.Entities
	if text == "" && m.Caption != "" {
		text, entities = m.Caption, m.CaptionEntities
	}
	input := conversation.Input{Kind: conversation.InputText, LangHint: m.From.LanguageCode, From: person(m.From)}
	sender := m.From.ID
	if anonymous {
		// One dialog for all of them, keyed to the group: Telegram does not say which admin
		// wrote.
		sender = m.Chat.ID
		input.LangHint, input.From = "", conversation.Person{Name: m.Chat.Title}
	}
	switch {
	case text != "":
	case hasMedia(m):
		input.Kind = conversation.InputUnsupported
	default: // service messages: members joined or left, pinned messages, ...
		return action{}
	}
	if group {
		var addressed bool
		text, addressed = addressedTo(text, entities, m.ReplyToMessage, me)
		if !addressed {
			return action{}
		}
		if input.Kind == conversation.InputText && !strings.HasPrefix(text, "/") {
			input.Quoted = quotedText(m.ReplyToMessage)
			input.QuotedOwn = input.Quoted != "" && !anonymous && m.ReplyToMessage.From.ID == m.From.ID
		}
	}
	if input.Kind == conversation.InputText {
		input.Text = text
		if strings.TrimSpace(text) == "" && input.Quoted == "" { // only the @mention: show where the dialog stands
			input.Kind = conversation.InputResume
		}
	}
	r := route{Chat: m.Chat.ID, Thread: u.thread, Group: group, Anonymous: anonymous}
	if group {
		r.ReplyTo, r.Owner = m.MessageID, sender
	}
	return action{chat: m.Chat.ID, in: &conversation.Inbound{Turn: turn(u, m.Chat.ID, sender, r), Input: input, At: sentAt(m.Date)}}
}

// quotedText is the text of the message a group message replies to, when the bot should read
// it with the reply: "@bot?" under a pasted error asks about the error. Only people's
// messages in the group are read, an anonymous admin's included (sent as the group itself):
// not a bot's (the bot's own answers above all), not a channel's post forwarded into its
// discussion group, which every comment under it replies to. A forum topic's first message,
// which Telegram sets as the reply of every message in the topic, has no text.
func quotedText(replyTo *tgbotapi.Message) string {
	switch {
	case replyTo == nil || replyTo.From == nil || replyTo.IsAutomaticForward:
		return ""
	case replyTo.SenderChat != nil:
		if replyTo.Chat == nil || replyTo.SenderChat.ID != replyTo.Chat.ID {
			return "" // posted as a channel
		}
	case replyTo.From.IsBot || replyTo.From.ID == telegramServiceUser:
		return ""
	}
	if replyTo.Text != "" {
		return replyTo.Text
	}
	return replyTo.Caption
}

// sentAt is a message's date (Unix seconds, from Telegram's clock), or zero if it has none.
func sentAt(date int) time.Time {
	if date <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(date), 0)
}

func hasMedia(m *tgbotapi.Message) bool {
	return m.Sticker != nil || len(m.Photo) > 0 || m.Voice != nil || m.Video != nil ||
		m.VideoNote != nil || m.Audio != nil || m.Document != nil || m.Animation != nil ||
		m.Location != nil || m.Contact != nil || m.Venue != nil || m.Poll != nil || m.Dice != nil
}

// addressedTo reports whether a group message is meant for the bot, and returns its text
// without the @mention of the bot. Entity offsets and lengths count UTF-16 code units.
func addressedTo(text string, entities []tgbotapi.MessageEntity, replyTo *tgbotapi.Message, me tgbotapi.User) (string, bool) {
	units := utf16.Encode([]rune(text))
	slice := func(e tgbotapi.MessageEntity) (string, bool) {
		if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > len(units) {
			return "", false
		}
		return string(utf16.Decode(units[e.Offset : e.Offset+e.Length])), true
	}
	addressed := replyTo != nil && replyTo.From != nil && replyTo.From.ID == me.ID
	var mention *tgbotapi.MessageEntity
	for i, e := range entities {
		switch e.Type {
		case "mention":
			if s, ok := slice(e); ok && me.UserName != "" && strings.EqualFold(s, "@"+me.UserName) {
				addressed, mention = true, &entities[i]
			}
		case "text_mention":
			if e.User != nil && e.User.ID == me.ID {
				addressed = true
			}
		case "bot_command":
			s, ok := slice(e)
			if !ok || e.Offset != 0 {
				continue
			}
			if _, bot, found := strings.Cut(s, "@"); found && me.UserName != "" && strings.EqualFold(bot, me.UserName) {
				addressed = true
			}
		}
	}
	if mention != nil {
		// Cut at byte offsets of the text itself rather than re-encoding its UTF-16 form:
		// that would turn each invalid byte into a three-byte U+FFFD.
		start, ok1 := byteOffset(text, mention.Offset)
		end, ok2 := byteOffset(text, mention.Offset+mention.Length)
		if ok1 && ok2 {
			text = strings.TrimSpace(strings.TrimSpace(text[:start]) + " " + strings.TrimSpace(text[end:]))
		}
	}
	return text, addressed
}

// person is how the humans taking over a handoff recognise and reach u: the name, the
// @username, and a tg:// link that opens a chat with u even without a username.
func person(u *tgbotapi.User) conversation.Person {
	return conversation.Person{
		Name:     strings.TrimSpace(u.FirstName + " " + u.LastName),
		Username: u.UserName,
		Reach:    "tg://user?id=" + strconv.FormatInt(u.ID, 10),
	}
}

// HandoffRoute addresses handoff summaries to chat (a private chat, group or channel id, as
// BOT_HANDOFF_TELEGRAM_CHAT gives it) and, in a forum, its topic thread (0: none), in the
// form Send reads: the key and the route of a conversation.HandoffTarget.
func HandoffRoute(chat int64, thread int) (conversation.Key, []byte) {
	b, _ := json.Marshal(route{Chat: chat, Thread: thread, Group: chat < 0}) // cannot fail: plain fields
	return conversation.Key{Platform: Platform, Chat: strconv.FormatInt(chat, 10)}, b
}

// byteOffset returns the byte offset in s of UTF-16 offset units, counting each invalid byte
// as one unit as utf16.Encode([]rune(s)) does. ok is false if units falls inside a surrogate
// pair or beyond s.
func byteOffset(s string, units int) (int, bool) {
	n := 0
	for i, r := range s {
		if n == units {
			return i, true
		}
		if n > units {
			return 0, false
		}
		n += utf16.RuneLen(r)
	}
	return len(s), n == units
}

func turn(u update, chat, user int64, r route) conversation.Turn {
	return conversation.Turn{
		Key:       conversation.Key{Platform: Platform, Chat: strconv.FormatInt(chat, 10), User: strconv.FormatInt(user, 10)},
		InboundID: strconv.Itoa(u.UpdateID),
		Route:     mustRoute(r),
	}
}

// mustRoute encodes r, which cannot fail: plain fields.
func mustRoute(r route) []byte {
	b, _ := json.Marshal(r)
	return b
}

func translateCallback(u update) action {
	q := u.CallbackQuery
	if q.From == nil || q.Message == nil || q.Message.Chat == nil {
		// A button on an inline-mode message, or too old to carry its message: nothing to
		// answer into but the press itself.
		return action{notice: &notice{queryID: q.ID}}
	}
	chat := q.Message.Chat.ID
	group := isGroup(q.Message.Chat)
	version, owner, button := parseCallbackData(q.Data)
	notYours := &notice{queryID: q.ID, notYourMenu: true, lang: q.From.LanguageCode}
	// The anonymous admins' menu is owned by the group; a press on it shows who pressed, who
	// must be one of the admins (handleUpdate asks Telegram).
	anonymous := group && owner == chat
	if group && owner != 0 && owner != q.From.ID && !anonymous {
		return action{notice: notYours}
	}
	r := route{Chat: chat, Thread: u.thread, Callback: q.ID, Group: group, Anonymous: anonymous}
	sender := q.From.ID
	if group {
		if anonymous {
			sender = chat
		}
		r.ReplyTo, r.Owner = q.Message.MessageID, sender
	}
	input := conversation.Input{Kind: conversation.InputButton, Text: button, FlowVersion: version, LangHint: q.From.LanguageCode, From: person(q.From)}
	a := action{chat: chat, in: &conversation.Inbound{Turn: turn(u, chat, sender, r), Input: input}}
	if anonymous {
		a.adminOnly = &adminCheck{user: q.From.ID, otherwise: notYours}
	}
	return a
}
