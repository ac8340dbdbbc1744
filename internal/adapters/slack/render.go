package slack

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
)

// Where a reply goes, stored as Turn.Route and read back by Send.
const (
	modePost    = "post"    // chat.postMessage to Channel (in Thread if set)
	modeUpdate  = "update"  // chat.update of message TS in Channel
	modeRespond = "respond" // POST to ResponseURL: ephemeral, or replacing the original
)

// route is the opaque Turn.Route of Slack replies.
type route struct {
	Mode    string `json:"m"`
	Channel string `json:"c,omitempty"`
	Thread  string `json:"t,omitempty"`
	TS      string `json:"ts,omitempty"`
	// User is who sees an ephemeral reply, for the chat.postEphemeral fallback.
	User        string `json:"u,omitempty"`
	ResponseURL string `json:"r,omitempty"`
	// Replace: the reply replaces the message whose button was pressed.
	Replace bool `json:"rp,omitempty"`
}

func (r route) encode() []byte {
	b, _ := json.Marshal(r) // a struct of strings and bools always encodes
	return b
}

func decodeRoute(b []byte) (route, error) {
	var r route
	err := json.Unmarshal(b, &r)
	return r, err
}

// Block Kit identifiers. A button's action_id is actionPrefix + index, its value
// "<flow version>|<button id>"; the actions block's block_id is blockPrefix + the user the
// reply was for, so that a press by someone else does not overwrite that person's message.
const (
	actionPrefix = "pd:"
	blockPrefix  = "pd|"
	valueSep     = "|"
)

// Block Kit limits.
const (
	maxSectionText  = 3000
	maxButtonText   = 75
	maxButtonValue  = 2000
	maxActionsBlock = 25
	maxBlocks       = 50
)

// blocks renders a reply as Block Kit: the text in sections, the buttons in actions blocks.
func blocks(r conversation.Reply, flowVersion, user string) []slack.Block {
	var out []slack.Block
	for _, chunk := range splitText(escape(r.Text), maxSectionText) {
		out = append(out, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, chunk, false, false), nil, nil))
	}
	var elems []slack.BlockElement
	flush := func() {
		if len(elems) == 0 {
			return
		}
		// block_id must be unique within a message.
		id := blockPrefix + user + valueSep + strconv.Itoa(len(out))
		out = append(out, slack.NewActionBlock(id, elems...))
		elems = nil
	}
	for i, b := range r.Buttons {
		value := flowVersion + valueSep + b.ID
		if len(value) > maxButtonValue {
			continue
		}
		label := truncate(b.Label, maxButtonText)
		btn := slack.NewButtonBlockElement(actionPrefix+strconv.Itoa(i), value, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
		elems = append(elems, btn)
		if len(elems) == maxActionsBlock {
			flush()
		}
	}
	flush()
	if len(out) > maxBlocks {
		out = out[:maxBlocks]
	}
	return out
}

// parseValue splits a button value into the flow version and the button id.
func parseValue(v string) (version, id string, ok bool) {
	return strings.Cut(v, valueSep)
}

// blockOwner returns the user an actions block was rendered for.
func blockOwner(blockID string) string {
	rest, ok := strings.CutPrefix(blockID, blockPrefix)
	if !ok {
		return ""
	}
	user, _, _ := strings.Cut(rest, valueSep)
	return user
}

// escape makes text safe for mrkdwn: only &, < and > are special.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// splitText cuts s into pieces of at most n bytes, at line breaks where possible.
func splitText(s string, n int) []string {
	if s == "" {
		return nil
	}
	var out []string
	for len(s) > n {
		cut := strings.LastIndex(s[:n], "\n")
		if cut <= 0 {
			cut = n
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		out = append(out, s[:cut])
		s = strings.TrimLeft(s[cut:], "\n")
	}
	return append(out, s)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
