package telegramtest

import (
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
