package telegramtest

import (
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf16"
)

// User is a person writing to the bot.
type User struct {
	ID        int64
	FirstName string
	Lang      string // language_code; empty: not reported
	Username  string // without the @; empty: none
}

func (u User) json() map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName}
	if u.Lang != "" {
		m["language_code"] = u.Lang
	}
	if u.Username != "" {
		m["username"] = u.Username
	}
	return m
}

// Group is a group or supergroup chat.
type Group struct {
	ID    int64 // negative, as Telegram's
	Title string
	Super bool
}

func (g Group) json() map[string]any {
	t := "group"
	if g.Super {
		t = "supergroup"
	}
	return map[string]any{"id": g.ID, "title": g.Title, "type": t}
}

func private(u User) map[string]any {
	return map[string]any{"id": u.ID, "first_name": u.FirstName, "type": "private"}
}

var messageIDs atomic.Int64

// NextMessageID returns a fresh message_id for a message people send, above those of the
// bot's messages.
func NextMessageID() int { return 500000 + int(messageIDs.Add(1)) }

func message(from User, chat map[string]any, fields map[string]any) map[string]any {
	m := map[string]any{
		"message_id": NextMessageID(),
		"from":       from.json(),
		"chat":       chat,
		"date":       time.Now().Unix(),
	}
	for k, v := range fields {
		m[k] = v
	}
	return map[string]any{"message": m}
}

// PrivateText is an update with text u sends in a private chat with the bot. A leading
// command gets its bot_command entity, as Telegram adds it.
func PrivateText(u User, text string) map[string]any {
	return message(u, private(u), textFields(text, nil))
}

// Entity is a message entity; Offset and Length count UTF-16 code units.
type Entity struct {
	Type           string
	Offset, Length int
	User           *User // text_mention
}

// GroupText is an update with text u sends in group g, with the entities Telegram would find
// in it (commands, @mentions) and extra ones such as text_mention. replyTo, if not nil, is the
// message it replies to.
func GroupText(g Group, u User, text string, replyTo map[string]any, extra ...Entity) map[string]any {
	f := textFields(text, extra)
	if replyTo != nil {
		f["reply_to_message"] = replyTo
	}
	return message(u, g.json(), f)
}

// TopicText is GroupText in a forum topic: the message carries the topic's
// message_thread_id and is_topic_message, as Telegram sends them in a supergroup with topics.
func TopicText(g Group, thread int, u User, text string, replyTo map[string]any, extra ...Entity) map[string]any {
	up := GroupText(g, u, text, replyTo, extra...)
	m := up["message"].(map[string]any)
	m["message_thread_id"], m["is_topic_message"] = thread, true
	return up
}

// Channel is a channel, linked to a discussion group or posted as.
type Channel struct {
	ID    int64
	Title string
}

func (c Channel) json() map[string]any {
	return map[string]any{"id": c.ID, "title": c.Title, "type": "channel"}
}

// The service accounts Telegram sends these messages as.
var (
	telegramService   = map[string]any{"id": 777000, "is_bot": false, "first_name": "Telegram"}
	groupAnonymousBot = map[string]any{"id": 1087968824, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"}
	channelBot        = map[string]any{"id": 136817688, "is_bot": true, "first_name": "Channel", "username": "Channel_Bot"}
)

func serviceMessage(from map[string]any, g Group, senderChat map[string]any, f map[string]any) map[string]any {
	m := map[string]any{
		"message_id":  NextMessageID(),
		"from":        from,
		"sender_chat": senderChat,
		"chat":        g.json(),
		"date":        time.Now().Unix(),
	}
	for k, v := range f {
		m[k] = v
	}
	return map[string]any{"message": m}
}

// AutomaticForward is a post of channel c, forwarded by Telegram into its linked discussion
// group g: from the service account 777000, with sender_chat and is_automatic_forward.
func AutomaticForward(g Group, c Channel, text string) map[string]any {
	f := textFields(text, nil)
	f["is_automatic_forward"] = true
	f["forward_from_chat"] = c.json()
	f["forward_from_message_id"] = 42
	f["forward_date"] = time.Now().Unix()
	return serviceMessage(telegramService, g, c.json(), f)
}

// AsChannel is a message someone posts in group g as their channel c.
func AsChannel(g Group, c Channel, text string) map[string]any {
	return serviceMessage(channelBot, g, c.json(), textFields(text, nil))
}

// AnonymousAdmin is a message an anonymous admin of group g sends: from GroupAnonymousBot,
// with the group itself as sender_chat.
func AnonymousAdmin(g Group, text string, extra ...Entity) map[string]any {
	return serviceMessage(groupAnonymousBot, g, g.json(), textFields(text, extra))
}

// BotMessage is a message of the bot in a chat, as reply_to_message carries it.
func BotMessage(chat map[string]any, messageID int, text string) map[string]any {
	return map[string]any{
		"message_id": messageID,
		"from":       map[string]any{"id": BotID, "is_bot": true, "first_name": "PayDoctor", "username": BotUserName},
		"chat":       chat,
		"date":       time.Now().Unix(),
		"text":       text,
	}
}

// GroupChat returns g as a message's chat object.
func GroupChat(g Group) map[string]any { return g.json() }

// PrivateChat returns u's private chat as a message's chat object.
func PrivateChat(u User) map[string]any { return private(u) }

// Sticker is an update with a sticker u sends in a private chat.
func Sticker(u User) map[string]any {
	return message(u, private(u), map[string]any{"sticker": map[string]any{
		"file_id": "CAACAgIAAxkBAAEBmZ9kZ", "file_unique_id": "AgADsQADVp29Cg", "type": "regular",
		"width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "😅",
	}})
}

// Photo is an update with a photo (and no caption) u sends in a private chat.
func Photo(u User) map[string]any {
	return message(u, private(u), map[string]any{"photo": []map[string]any{
		{"file_id": "AgACAgIAAxkBAAIBY2", "file_unique_id": "AQADx", "width": 90, "height": 51, "file_size": 1234},
	}})
}

// Edited is an edited_message update for u's private chat.
func Edited(u User, text string) map[string]any {
	m := message(u, private(u), textFields(text, nil))["message"].(map[string]any)
	m["edit_date"] = time.Now().Unix()
	return map[string]any{"edited_message": m}
}

// Migrate is the service message in group g saying it became supergroup to.
func Migrate(g Group, u User, to int64) map[string]any {
	return message(u, g.json(), map[string]any{"migrate_to_chat_id": to})
}

// Callback is an update for u pressing the button with data on the bot's message msgID in
// chat.
func Callback(u User, chat map[string]any, msgID int, data string) map[string]any {
	return map[string]any{"callback_query": map[string]any{
		"id":            "cbq" + time.Now().Format("150405.000000000"),
		"from":          u.json(),
		"message":       BotMessage(chat, msgID, "…"),
		"chat_instance": "-4817361823764",
		"data":          data,
	}}
}

// TopicCallback is Callback on a message of the bot in forum topic thread.
func TopicCallback(u User, chat map[string]any, thread, msgID int, data string) map[string]any {
	up := Callback(u, chat, msgID, data)
	m := up["callback_query"].(map[string]any)["message"].(map[string]any)
	m["message_thread_id"], m["is_topic_message"] = thread, true
	return up
}

func textFields(text string, extra []Entity) map[string]any {
	var entities []map[string]any
	units := utf16.Encode([]rune(text))
	// Commands at the start and @mentions anywhere, as Telegram detects them.
	for i := 0; i < len(units); i++ {
		c := units[i]
		if (c == '/' && i == 0) || (c == '@' && (i == 0 || units[i-1] == ' ')) {
			j := i + 1
			for j < len(units) && isWordUnit(units[j], c == '/') {
				j++
			}
			if j > i+1 {
				typ := "mention"
				if c == '/' {
					typ = "bot_command"
				}
				entities = append(entities, map[string]any{"type": typ, "offset": i, "length": j - i})
			}
			i = j - 1
		}
	}
	for _, e := range extra {
		m := map[string]any{"type": e.Type, "offset": e.Offset, "length": e.Length}
		if e.User != nil {
			m["user"] = e.User.json()
		}
		entities = append(entities, m)
	}
	f := map[string]any{"text": text}
	if len(entities) > 0 {
		f["entities"] = entities
	}
	return f
}

func isWordUnit(c uint16, command bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (command && c == '@')
}

// FormatID formats a chat or user id as callback data and keys carry it.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }
