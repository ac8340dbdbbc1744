package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/ocr"
)

// Platform is the platform name of Telegram dialogs.
const Platform = "telegram"

// WebhookPath is where the webhook handler is served.
const WebhookPath = "/telegram/webhook"

// Options configures a Bot. Token and KB are required; the zero value of every other field
// works.
type Options struct {
	Token string
	// KB is the knowledge base the bot answers from: its flow version goes into button data,
	// and its texts into the command menus and the adapter's notes.
	KB *kb.KB
	// Lang is the language of the default command menu and of notes to people whose
	// language_code the kb does not speak (BOT_LANG); empty means the kb's default.
	Lang string
	// APIEndpoint is the Bot API URL in the library's format, with %s for the token and the
	// method; empty means tgbotapi.APIEndpoint (https://api.telegram.org/bot%s/%s).
	APIEndpoint string
	// WebhookURL selects webhook mode: Run registers it with setWebhook and updates arrive at
	// the handler returned by WebhookHandler. Empty: long polling.
	WebhookURL string
	// WebhookSecret is the secret_token Telegram sends back in the
	// X-Telegram-Bot-Api-Secret-Token header; required in webhook mode.
	WebhookSecret string

	Log *slog.Logger
	// HTTPClient sends the requests; nil means a client with a timeout PollTimeout+15s.
	HTTPClient *http.Client
	// PollTimeout is getUpdates' long-poll timeout; zero means 30s.
	PollTimeout time.Duration
	// RetryBackoff is the first wait after a network or server error; zero means 1s.
	RetryBackoff time.Duration
	// HandoffChat is the helpers' chat (BOT_HANDOFF_TELEGRAM_CHAT): a member's reply there to
	// one of the bot's handoff messages is an answer to that person. Zero: none.
	HandoffChat int64
	// Elector, when several replicas share one database, elects the one replica that polls
	// (Telegram allows one getUpdates consumer per token). With a webhook every replica takes
	// the updates it is sent. Nil: this process is the only one.
	Elector conversation.Elector
	// Pictures reads the photos and image documents people send (OCR), off the update's
	// path. Nil: pictures are unsupported, as without Tesseract.
	Pictures *ocr.Queue
}

// electedRole is the role of the replica that polls.
const electedRole = "telegram-poller"

// botAPI is the part of the Bot API library the adapter uses.
type botAPI interface {
	GetMe() (tgbotapi.User, error)
	Request(c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
	MakeRequest(endpoint string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

// inlet is where the adapter hands what updates ask for: conversation.Hub.
type inlet interface {
	Submit(ctx context.Context, in conversation.Inbound, done func(error)) error
	MoveChat(ctx context.Context, platform, from, to string) (int, error)
}

// Bot serves one Telegram bot: it turns updates into conversation.Inbound messages for the
// hub, and sends replies (it is the platform's conversation.Sender).
type Bot struct {
	api   botAPI
	inlet inlet
	opts  Options
	log   *slog.Logger
	// client and files download pictures: the HTTP client and the file endpoint in the
	// library's format (see fileEndpoint).
	client *http.Client
	files  string

	self      atomic.Pointer[tgbotapi.User] // set by Run after getMe
	chatLocks keyedMutex                    // webhook: one update per chat at a time
	started   atomic.Bool                   // Run runs once
}

var _ conversation.Sender = (*Bot)(nil)

// New returns a Bot talking to the Bot API with opts.Token, handing updates to hub. It does
// no I/O; Run checks the token.
func New(hub inlet, opts Options) *Bot {
	if opts.APIEndpoint == "" {
		opts.APIEndpoint = tgbotapi.APIEndpoint
	}
	opts = withDefaults(opts)
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: opts.PollTimeout + 15*time.Second}
	}
	// Not tgbotapi.NewBotAPIWithClient: it calls getMe in the constructor.
	api := &tgbotapi.BotAPI{Token: opts.Token, Client: client, Buffer: 100}
	api.SetAPIEndpoint(opts.APIEndpoint)
	b := newBot(api, hub, opts)
	b.client, b.files = client, fileEndpoint(opts.APIEndpoint)
	if opts.Pictures != nil && b.files == "" {
		b.log.Warn("screenshots are not read on Telegram: TELEGRAM_API_ENDPOINT has no bot%s/ to derive the file download URL from")
	}
	return b
}

func withDefaults(opts Options) Options {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = 30 * time.Second
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	return opts
}

func newBot(api botAPI, hub inlet, opts Options) *Bot {
	opts = withDefaults(opts)
	return &Bot{api: api, inlet: hub, opts: opts, log: opts.Log.With("platform", Platform)}
}

// Limits are Telegram's published limits: about 30 messages a second over all chats, one a
// second in a private chat and 20 a minute in a group. Telegram publishes no burst: a burst
// of 30 drew 429s from a server allowing bursts of 5 (BenchmarkBurst300 in cmd/bot), and one
// of 3 costs a tenth of a second.
func (b *Bot) Limits() conversation.Limits {
	return conversation.Limits{
		Global: conversation.Rate{Every: time.Second / 30, Burst: 3},
		Chat: func(d conversation.Delivery) conversation.Rate {
			var r route
			if json.Unmarshal(d.Route, &r) == nil && r.Group {
				return conversation.Rate{Every: 3 * time.Second, Burst: 3}
			}
			return conversation.Rate{Every: time.Second, Burst: 3}
		},
	}
}

// ErrUnauthorized: Telegram refused the token.
var ErrUnauthorized = errors.New("telegram: the bot token was refused (check TELEGRAM_BOT_TOKEN)")

// Run serves the bot until ctx is done: it checks the token, sets the command menus, and
// then polls for updates or registers the webhook; with an Elector and no webhook, only the
// elected replica polls. Replies go out through the platform's Outbox, not here. Run may be
// called once.
func (b *Bot) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("telegram: Run called twice; make a new Bot")
	}
	me, err := b.getMe(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	b.log.Info("connected", "bot", me.UserName)
	b.setCommands()
	defer b.self.Store(nil)

	if b.opts.WebhookURL != "" {
		// From here on updates are taken (the webhook handler answers 503 before).
		b.self.Store(&me)
		if err := b.setWebhook(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		<-ctx.Done()
		return nil
	}
	if b.opts.Elector == nil {
		return b.pollAlone(ctx, me)
	}
	return conversation.RunElected(ctx, b.opts.Elector, electedRole, b.log, func(ctx context.Context) error {
		return b.pollAlone(ctx, me)
	})
}

// pollAlone switches the bot to getUpdates and polls until ctx is done.
func (b *Bot) pollAlone(ctx context.Context, me tgbotapi.User) error {
	if err := b.deleteWebhook(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	b.self.Store(&me)
	defer b.self.Store(nil)
	b.poll(ctx)
	return nil
}

// retry calls f until it succeeds, fails for good, or ctx is done, waiting between tries.
func (b *Bot) retry(ctx context.Context, what string, f func() error) error {
	wait := b.opts.RetryBackoff
	for {
		err := f()
		if err == nil {
			return nil
		}
		var apiErr *tgbotapi.Error
		switch {
		case errors.As(err, &apiErr) && apiErr.RetryAfter > 0:
			if err := sleep(ctx, time.Duration(apiErr.RetryAfter)*time.Second); err != nil {
				return err
			}
			continue
		case errors.As(err, &apiErr) && apiErr.Code == http.StatusUnauthorized:
			return ErrUnauthorized
		case errors.As(err, &apiErr) && apiErr.Code >= 400 && apiErr.Code < 500:
			return fmt.Errorf("telegram: %s: %s", what, apiErr.Message)
		}
		b.log.Warn("telegram request failed; retrying", "call", what, "err", b.scrub(err), "in", wait)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (b *Bot) getMe(ctx context.Context) (tgbotapi.User, error) {
	var me tgbotapi.User
	err := b.retry(ctx, "getMe", func() error {
		var err error
		me, err = b.api.GetMe()
		return err
	})
	return me, err
}

func (b *Bot) setWebhook(ctx context.Context) error {
	if b.opts.WebhookSecret == "" {
		return errors.New("telegram: webhook mode needs a secret")
	}
	params := tgbotapi.Params{
		"url":             b.opts.WebhookURL,
		"secret_token":    b.opts.WebhookSecret,
		"allowed_updates": allowedUpdates,
	}
	return b.retry(ctx, "setWebhook", func() error {
		_, err := b.api.MakeRequest("setWebhook", params)
		return err
	})
}

// deleteWebhook switches the bot (back) to getUpdates; updates waiting are kept.
func (b *Bot) deleteWebhook(ctx context.Context) error {
	return b.retry(ctx, "deleteWebhook", func() error {
		_, err := b.api.MakeRequest("deleteWebhook", tgbotapi.Params{"drop_pending_updates": "false"})
		return err
	})
}

// allowedUpdates are the update kinds the bot asks for, as the JSON array Telegram expects.
const allowedUpdates = `["message","callback_query"]`

// poll runs the getUpdates loop until ctx is done.
func (b *Bot) poll(ctx context.Context) {
	offset := 0 // 0: everything Telegram still holds, which is what was not confirmed
	wait := b.opts.RetryBackoff
	for {
		updates, err := b.getUpdates(ctx, offset)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var apiErr *tgbotapi.Error
			d := wait
			if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
				d = time.Duration(apiErr.RetryAfter) * time.Second
			} else {
				wait = min(2*wait, 30*time.Second)
			}
			b.log.Warn("getUpdates failed; retrying", "err", b.scrub(err), "in", d)
			if sleep(ctx, d) != nil {
				return
			}
			continue
		}
		wait = b.opts.RetryBackoff
		// The batch is handled concurrently (ordered per person by the dispatcher); the
		// offset confirms updates up to the first one that failed, which comes again.
		results := make([]error, len(updates))
		var handled sync.WaitGroup
		for i, u := range updates {
			if u.UpdateID < offset {
				continue
			}
			handled.Add(1)
			b.handleUpdate(ctx, u, func(err error) { results[i] = err; handled.Done() })
		}
		handled.Wait()
		for i, u := range updates {
			if u.UpdateID < offset {
				continue
			}
			if err := results[i]; err != nil {
				if ctx.Err() != nil {
					return
				}
				b.log.Error("handle update; will retry", "update_id", u.UpdateID, "err", b.scrub(err))
				if sleep(ctx, b.opts.RetryBackoff) != nil {
					return
				}
				break
			}
			offset = u.UpdateID + 1
		}
	}
}

// getUpdates calls getUpdates, returning as soon as ctx is done. The library takes no
// context, so a call in flight then is left to finish on its own; its updates are not
// confirmed and come again at the next start. An update that cannot be decoded comes back
// as the zero update with only its id, and is confirmed without being handled.
func (b *Bot) getUpdates(ctx context.Context, offset int) ([]update, error) {
	type result struct {
		updates []update
		err     error
	}
	ch := make(chan result, 1)
	go func() {
		cfg := tgbotapi.UpdateConfig{Offset: offset, Limit: 100, Timeout: int(b.opts.PollTimeout / time.Second)}
		cfg.AllowedUpdates = []string{"message", "callback_query"}
		resp, err := b.api.Request(cfg)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(resp.Result, &raws); err != nil {
			ch <- result{nil, fmt.Errorf("getUpdates: %w", err)}
			return
		}
		updates := make([]update, 0, len(raws))
		for _, raw := range raws {
			u, err := decodeUpdate(raw)
			if err != nil {
				u = update{Update: tgbotapi.Update{UpdateID: undecodableID(raw)}}
				b.log.Warn("update the library cannot decode; confirmed and ignored", "update_id", u.UpdateID, "err", err)
			}
			updates = append(updates, u)
		}
		ch <- result{updates, nil}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		return r.updates, r.err
	}
}

// undecodableID is the update_id of an update that does not decode as a whole, or -1.
func undecodableID(raw []byte) int {
	var id struct {
		UpdateID *int `json:"update_id"`
	}
	if json.Unmarshal(raw, &id) != nil || id.UpdateID == nil {
		return -1
	}
	return *id.UpdateID
}

// handleUpdate hands what u asks for to the hub: a message to a dialog (committed in the
// person's order, a flooding person slowed down), a group migration; a note about someone
// else's button is answered at once. done is called exactly once, when u is committed (nil)
// or not handled and must come again (the error).
func (b *Bot) handleUpdate(ctx context.Context, u update, done func(error)) {
	me := b.self.Load()
	if me == nil {
		done(errNotRunning)
		return
	}
	if in, ok := b.helperAnswer(u, *me); ok {
		b.submit(ctx, *in, done)
		return
	}
	a := translate(u, *me)
	if a.adminOnly != nil {
		admin, err := b.isAdmin(a.chat, a.adminOnly.user)
		if err != nil {
			done(err) // Telegram will offer the press again
			return
		}
		if !admin {
			a.in, a.notice = nil, a.adminOnly.otherwise
		}
	}
	switch {
	case a.move != nil:
		n, err := b.inlet.MoveChat(ctx, Platform, strconv.FormatInt(a.move.from, 10), strconv.FormatInt(a.move.to, 10))
		if err == nil {
			b.log.Info("group became a supergroup", "from", a.move.from, "to", a.move.to, "dialogs", n)
		}
		done(err)
	case a.notice != nil:
		n := *a.notice
		text := ""
		if n.notYourMenu {
			lang, ok := b.opts.KB.MatchLanguage(n.lang)
			if !ok {
				lang = b.opts.Lang
			}
			// Text renders an empty or unknown language in the kb's default.
			text = b.opts.KB.Text(lang, kb.MsgNotYourMenu, nil)
		}
		// Best effort and off the update's path: a press can no longer be answered after
		// about 15 s anyway.
		go b.answerCallback(n.queryID, text, text != "")
		done(nil)
	case a.in != nil:
		// On a stop, Submit reports ErrStopped through done.
		if u.Message != nil && a.in.Input.Kind != conversation.InputButton {
			b.submitPicture(ctx, *a.in, u.Message, done)
			return
		}
		b.submit(ctx, *a.in, done)
	default:
		done(nil)
	}
}

// isAdmin asks Telegram whether user is an administrator of chat.
func (b *Bot) isAdmin(chat, user int64) (bool, error) {
	resp, err := b.api.MakeRequest("getChatMember", tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "user_id": strconv.FormatInt(user, 10)})
	if err != nil {
		var apiErr *tgbotapi.Error
		if errors.As(err, &apiErr) && apiErr.Code >= 400 && apiErr.Code < 500 && apiErr.RetryAfter == 0 {
			return false, nil // not a member, or the chat is gone
		}
		return false, fmt.Errorf("getChatMember: %s", b.scrub(err))
	}
	var member struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(resp.Result, &member); err != nil {
		return false, fmt.Errorf("getChatMember: %w", err)
	}
	return member.Status == "creator" || member.Status == "administrator", nil
}

// answerCallback stops the spinner on a pressed button. It is best effort: a query older
// than about 15 s can no longer be answered, and the reply message is what matters.
func (b *Bot) answerCallback(id, text string, alert bool) {
	cfg := tgbotapi.NewCallback(id, text)
	cfg.ShowAlert = alert
	if _, err := b.api.Request(cfg); err != nil {
		b.log.Debug("answerCallbackQuery", "err", b.scrub(err))
	}
}

// scrub returns err's text without the token: errors of the HTTP client carry the request
// URL, and the token is part of it.
func (b *Bot) scrub(err error) string {
	s := err.Error()
	if b.opts.Token != "" {
		s = strings.ReplaceAll(s, b.opts.Token, "<token>")
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
