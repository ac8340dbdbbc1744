package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
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
	msgs, dropped := render(r, d.Reply, b.opts.KB.Version)
	if len(dropped) > 0 {
		b.log.Error("buttons whose IDs do not fit in callback_data were left out", "buttons", dropped)
	}
	for _, m := range msgs {
		if err := b.sendMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// sendMessage sends one message, following a group's move to a supergroup, and classifies
// what Telegram answered.
func (b *Bot) sendMessage(ctx context.Context, m tgbotapi.MessageConfig) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := b.api.Request(m)
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) && apiErr.MigrateToChatID != 0 {
		// The group became a supergroup; its dialogs move when the update saying so arrives.
		m.ChatID = apiErr.MigrateToChatID
		_, err = b.api.Request(m)
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.RetryAfter > 0:
		return &conversation.RetryAfterError{After: time.Duration(apiErr.RetryAfter) * time.Second, Err: errors.New(apiErr.Message)}
	case errors.As(err, &apiErr) && apiErr.Code >= 400 && apiErr.Code < http.StatusInternalServerError && apiErr.Code != http.StatusTooManyRequests:
		return fmt.Errorf("%w: chat %d: %s", conversation.ErrUndeliverable, m.ChatID, apiErr.Message)
	}
	// Network errors and 5xx: Telegram may come back. The client's errors carry the URL,
	// and the token is part of it.
	return errors.New(b.scrub(err))
}
