package telegram

import (
	"html"
	"strconv"
	"strings"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
)

// MaxMessageUnits is the longest text of one message, in UTF-16 code units after entity
// parsing.
const MaxMessageUnits = 4096

// maxCallbackData is the limit on an inline button's callback_data, in bytes.
const maxCallbackData = 64

// staleVersion is the flow version given to the engine for callback data the adapter cannot
// read: no flow has it, so the engine answers "this menu is out of date".
const staleVersion = "?"

// callbackData encodes a button as "<flow version>|<button id>", or in groups
// "<flow version>|<owner>|<button id>", where owner is the user (or, for its anonymous
// admins, the group) whose dialog the button moves. The owner is dropped if the data would
// not fit in 64 bytes. ok is false if even the short form does not fit.
func callbackData(version string, owner int64, button string) (string, bool) {
	if owner != 0 {
		if s := version + "|" + strconv.FormatInt(owner, 10) + "|" + button; len(s) <= maxCallbackData {
			return s, true
		}
	}
	s := version + "|" + button
	return s, len(s) <= maxCallbackData
}

// parseCallbackData reverses callbackData. Data it cannot read comes back with staleVersion.
func parseCallbackData(data string) (version string, owner int64, button string) {
	version, rest, ok := strings.Cut(data, "|")
	if !ok || version == "" || rest == "" {
		return staleVersion, 0, data
	}
	if o, b, ok := strings.Cut(rest, "|"); ok && b != "" {
		if id, err := strconv.ParseInt(o, 10, 64); err == nil && id != 0 { // a group (its anonymous admins) is negative
			return version, id, b
		}
	}
	return version, 0, rest
}

// render turns a reply into the messages that carry it: the text split into parts of at
// most MaxMessageUnits, the first quoting r.ReplyTo, the last carrying the buttons, one per
// row. Text is sent with the HTML parse mode, escaped. Buttons whose data does not fit are
// left out and reported in dropped.
func render(r route, reply conversation.Reply, version string) (msgs []tgbotapi.MessageConfig, dropped []string) {
	parts := splitText(reply.Text, MaxMessageUnits)
	for i, p := range parts {
		m := tgbotapi.NewMessage(r.Chat, html.EscapeString(p))
		m.ParseMode = tgbotapi.ModeHTML
		m.DisableWebPagePreview = true
		if i == 0 && r.ReplyTo != 0 {
			m.ReplyToMessageID = r.ReplyTo
			m.AllowSendingWithoutReply = true
		}
		msgs = append(msgs, m)
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, btn := range reply.Buttons {
		data, ok := callbackData(version, r.Owner, btn.ID)
		if !ok {
			dropped = append(dropped, btn.ID)
			continue
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(btn.Label, data)))
	}
	if len(rows) > 0 {
		msgs[len(msgs)-1].ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(rows...)
	}
	return msgs, dropped
}

// splitText cuts s into parts of at most limit UTF-16 code units, at a line break if there
// is one in the second half of a part, else at a space, else between two characters. It
// never returns an empty list or an empty part.
func splitText(s string, limit int) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{"…"}
	}
	var parts []string
	runes := []rune(s)
	for len(runes) > 0 {
		n, units := 0, 0 // runes and UTF-16 units that fit
		for n < len(runes) {
			w := utf16.RuneLen(runes[n])
			if w < 0 {
				w = 1 // invalid runes are sent as U+FFFD, one unit
			}
			if units+w > limit {
				break
			}
			units += w
			n++
		}
		if n == len(runes) {
			parts = append(parts, string(runes))
			break
		}
		cut := n
		if i := lastIndex(runes[n/2:n], '\n'); i >= 0 {
			cut = n/2 + i + 1
		} else if i := lastIndex(runes[n/2:n], ' '); i >= 0 {
			cut = n/2 + i + 1
		}
		if p := strings.TrimSpace(string(runes[:cut])); p != "" {
			parts = append(parts, p)
		}
		runes = []rune(strings.TrimLeft(string(runes[cut:]), " \n"))
	}
	return parts
}

func lastIndex(rs []rune, r rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == r {
			return i
		}
	}
	return -1
}
