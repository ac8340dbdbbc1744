package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
)

// Send delivers one reply (conversation.Sender): it answers the button press it answers, if
// any, and sends the text in as many messages as it takes. A 429 is returned as a
// *conversation.RetryAfterError; a refusal that sending again cannot fix (the person blocked
// the bot, the chat is gone) wraps conversation.ErrUndeliverable. A reply longer than one
// message that is rate limited after its first part is sent whole again: the bot's replies
// fit in one message, a longer one is rare enough not to track parts for.
func (b *Bot) Send(ctx context.Context, d conversation.Delivery) error {
	var r route
	if err := json.Unmarshal(d.Route, &r); err != nil || r.Chat == 0 {
		return fmt.Errorf("%w: reply %d has no usable route", conversation.ErrUndeliverable, d.ID)
	}
	if r.Callback != "" {
		b.answerCallback(r.Callback, "", false)
	}
	reply := d.Reply
	if r.Anonymous {
		reply.Text = strings.TrimSpace(reply.Text + "\n\n" + b.opts.KB.Text(reply.Lang, kb.MsgAnonymousAdmins, nil))
	}
	msgs, dropped := render(r, reply, b.opts.KB.Version)
	if len(dropped) > 0 {
		b.log.Error("buttons whose IDs do not fit in callback_data were left out", "buttons", dropped)
	}
	for _, m := range msgs {
		if err := b.sendMessage(ctx, m, r.Thread); err != nil {
			return err
		}
	}
	return nil
}

// sendMessage sends one message, into forum topic thread if not 0, following a group's move
// to a supergroup, and classifies what Telegram answered.
func (b *Bot) sendMessage(ctx context.Context, m tgbotapi.MessageConfig, thread int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := b.send(m, thread)
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) && apiErr.MigrateToChatID != 0 {
		// The group became a supergroup; its dialogs move when the update saying so arrives.
		m.ChatID = apiErr.MigrateToChatID
		err = b.send(m, thread)
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.RetryAfter > 0:
		return &conversation.RetryAfterError{After: time.Duration(apiErr.RetryAfter) * time.Second, Err: errors.New(apiErr.Message)}
	case errors.As(err, &apiErr) && (apiErr.Code == http.StatusUnauthorized || apiErr.Code == http.StatusNotFound):
		// The token was revoked or the endpoint is wrong: no reply is at fault, and dropping
		// them all would lose every answer waiting. /healthz says so (getMe); they wait.
		return fmt.Errorf("telegram refused the bot (%d): %s", apiErr.Code, apiErr.Message)
	case errors.As(err, &apiErr) && apiErr.Code >= 400 && apiErr.Code < http.StatusInternalServerError && apiErr.Code != http.StatusTooManyRequests:
		return fmt.Errorf("%w: chat %d: %s", conversation.ErrUndeliverable, m.ChatID, apiErr.Message)
	}
	// Network errors and 5xx: Telegram may come back. The client's errors carry the URL,
	// and the token is part of it.
	return errors.New(b.scrub(err))
}

// send calls sendMessage with m's parameters and message_thread_id, which v5.5.1's
// MessageConfig lacks: a reply goes to the topic the person wrote in even when the message it
// quotes was deleted meanwhile (Telegram would then file it under General).
func (b *Bot) send(m tgbotapi.MessageConfig, thread int) error {
	p := tgbotapi.Params{}
	p.AddFirstValid("chat_id", m.ChatID)
	p.AddNonEmpty("text", m.Text)
	p.AddNonEmpty("parse_mode", m.ParseMode)
	p.AddBool("disable_web_page_preview", m.DisableWebPagePreview)
	p.AddNonZero("reply_to_message_id", m.ReplyToMessageID)
	p.AddBool("allow_sending_without_reply", m.AllowSendingWithoutReply)
	p.AddNonZero("message_thread_id", thread)
	if err := p.AddInterface("reply_markup", m.ReplyMarkup); err != nil {
		return fmt.Errorf("%w: reply markup: %v", conversation.ErrUndeliverable, err)
	}
	_, err := b.api.MakeRequest("sendMessage", p)
	return err
}
