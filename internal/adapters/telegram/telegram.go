package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/conversation"
)

// Platform is the platform name of Telegram dialogs.
const Platform = "telegram"

// WebhookPath is where the webhook handler is served.
const WebhookPath = "/telegram/webhook"

// ChatMover re-keys the dialogs of a chat; conversation.Store implements it.
type ChatMover interface {
	MoveChat(ctx context.Context, platform, from, to string) (int, error)
}

// Options configures a Bot. Only Token is required; the zero value of every other field
// works.
type Options struct {
	Token string
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
	// Pacing bounds the send rate; the zero value means Telegram's published limits.
	Pacing Pacing
	// Workers bounds how many chats are sent to at once; zero means 32.
	Workers int
	// DrainTimeout is how long Run keeps sending queued replies after its context is done;
	// what is left stays in the outbox for the next start. Zero means 3s.
	DrainTimeout time.Duration
	// RetryBackoff is the first wait after a network or server error; zero means 1s.
	RetryBackoff time.Duration
	// Elector, when several replicas share one database, elects the one replica that polls
	// (Telegram allows one getUpdates consumer per token) and sends: every reply goes out
	// through the elected sender, so adding replicas never multiplies the send rate. Other
	// replicas still commit webhook updates; their replies wait in the outbox for the sender.
	// Nil: this process is the only one.
	Elector Elector
	// Flood slows down a person who sends too much; nil means 5 messages in 10 s.
	Flood *conversation.FloodGuard
	// Now is the clock of the flood guard; nil means time.Now.
	Now func() time.Time
	// Metrics is told about messages sent, 429s and retries; nil counts nothing.
	Metrics Metrics
}

// Metrics counts what the adapter sends, for the bot's /metrics. Its methods must be quick
// and safe for concurrent use.
type Metrics interface {
	// MessageSent: Telegram accepted a message.
	MessageSent()
	// RateLimited: Telegram answered 429 Too Many Requests; the call is made again later.
	RateLimited()
	// Retried: a call failed with a network or server error and is made again.
	Retried()
}

type noMetrics struct{}

func (noMetrics) MessageSent() {}
func (noMetrics) RateLimited() {}
func (noMetrics) Retried()     {}

// Elector hands out a role that one replica holds at a time.
type Elector interface {
	// Campaign blocks until this replica holds role, or ctx is done.
	Campaign(ctx context.Context, role string) (Role, error)
}

// Role is held until Release, or until Lost is closed because the holder's claim broke.
type Role interface {
	Lost() <-chan struct{}
	Release()
}

// electedInterval is how often the elected sender looks for replies other replicas committed.
const electedInterval = 250 * time.Millisecond

// botAPI is the part of the Bot API library the adapter uses.
type botAPI interface {
	GetMe() (tgbotapi.User, error)
	GetUpdates(config tgbotapi.UpdateConfig) ([]tgbotapi.Update, error)
	Request(c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
	MakeRequest(endpoint string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

// Bot serves one Telegram bot. It implements conversation.Sender.
type Bot struct {
	api      botAPI
	svc      *conversation.Service
	chats    ChatMover
	opts     Options
	log      *slog.Logger
	pacer    *pacer
	queue    *queue
	dispatch *conversation.Dispatcher

	self      atomic.Pointer[tgbotapi.User] // set by Run after getMe
	sending   atomic.Bool                   // this replica sends (always, without an Elector)
	chatLocks keyedMutex                    // webhook: one update per chat at a time
	started   atomic.Bool                   // Run runs once
}

var _ conversation.Sender = (*Bot)(nil)

// New returns a Bot talking to the Bot API with opts.Token. It does no I/O; Run checks the
// token.
func New(svc *conversation.Service, chats ChatMover, opts Options) *Bot {
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
	return newBot(api, svc, chats, opts)
}

func withDefaults(opts Options) Options {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = 30 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 32
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 3 * time.Second
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	if opts.Flood == nil {
		opts.Flood = conversation.NewFloodGuard(5, 10*time.Second)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	return opts
}

func newBot(api botAPI, svc *conversation.Service, chats ChatMover, opts Options) *Bot {
	opts = withDefaults(opts)
	b := &Bot{
		api:   api,
		svc:   svc,
		chats: chats,
		opts:  opts,
		log:   opts.Log.With("platform", Platform),
		pacer: newPacer(opts.Pacing),
		queue: newQueue(),
	}
	b.dispatch = conversation.NewDispatcher(svc, b.enqueue, conversation.DispatcherOptions{Flood: opts.Flood, Now: opts.Now, Log: b.log})
	return b
}

// redeliverInterval is how often the outbox is checked for replies not yet sent.
const redeliverInterval = 5 * time.Second

// ErrUnauthorized: Telegram refused the token.
var ErrUnauthorized = errors.New("telegram: the bot token was refused (check TELEGRAM_BOT_TOKEN)")

// Run serves the bot until ctx is done: it checks the token, sets the command menu, sends
// replies left in the outbox, and then polls for updates or registers the webhook. With an
// Elector, only the elected replica polls and sends. After ctx
// is done it stops taking updates, keeps sending queued replies for at most
// Options.DrainTimeout, and returns nil. Run may be called once.
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

	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()
	var workers sync.WaitGroup
	for range b.opts.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			b.queue.work(sendCtx)
		}()
	}
	defer func() {
		b.self.Store(nil)
		b.queue.close()
		done := make(chan struct{})
		go func() { workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(b.opts.DrainTimeout):
			b.log.Warn("shutdown: replies still queued are left in the outbox for the next start")
			stopSending()
			<-done
		}
	}()

	// Messages go through the dispatcher, which hands replies to the send queue: it stops
	// before the queue is closed (defers run last first).
	dispatching := make(chan struct{})
	go func() {
		defer close(dispatching)
		b.dispatch.Run(ctx)
	}()
	defer func() { <-dispatching }()

	if b.opts.Elector == nil {
		return b.serveAlone(ctx, me)
	}
	return b.serveElected(ctx, me)
}

// serveAlone serves as the only replica: it sends what an earlier run left, then takes
// updates, and delivers the outbox every few seconds (replies whose sending failed, handoff
// summaries committed by other platforms' dialogs).
func (b *Bot) serveAlone(ctx context.Context, me tgbotapi.User) error {
	// Replies committed before a crash but never sent go first, in commit order, and before
	// any new update is taken, so none is sent twice.
	if err := b.svc.Redeliver(ctx, Platform, b); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("telegram: redeliver outbox: %s", b.scrub(err))
	}
	b.sending.Store(true)
	redelivering := make(chan struct{})
	go func() {
		defer close(redelivering)
		b.svc.RedeliverEvery(ctx, Platform, b, redeliverInterval, b.log)
	}()
	defer func() { <-redelivering }()

	// From here on updates are taken (the webhook handler answers 503 before).
	b.self.Store(&me)
	if b.opts.WebhookURL != "" {
		if err := b.setWebhook(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		<-ctx.Done()
		return nil
	}
	if err := b.deleteWebhook(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	b.poll(ctx)
	return nil
}

// serveElected serves as one of several replicas. With a webhook every replica commits the
// updates it receives; the elected one alone polls (without a webhook) and sends, taking
// replies from the outbox, and another takes over when it dies.
func (b *Bot) serveElected(ctx context.Context, me tgbotapi.User) error {
	if b.opts.WebhookURL != "" {
		b.self.Store(&me)
		if err := b.setWebhook(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	for ctx.Err() == nil {
		role, err := b.opts.Elector.Campaign(ctx, "telegram-sender")
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("telegram: campaign for the sender role: %w", err)
		}
		b.log.Info("elected to poll and send")
		b.lead(ctx, role, me)
		role.Release()
	}
	return nil
}

// lead polls (without a webhook) and sends until ctx is done or role is lost.
func (b *Bot) lead(ctx context.Context, role Role, me tgbotapi.User) {
	leadCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-role.Lost():
			b.log.Warn("lost the sender role; another replica takes over")
			stop()
		case <-leadCtx.Done():
		}
	}()
	b.sending.Store(true)
	defer b.sending.Store(false)
	var wg sync.WaitGroup
	wg.Go(func() { b.svc.RedeliverEvery(leadCtx, Platform, b, electedInterval, b.log) })
	if b.opts.WebhookURL == "" {
		if err := b.deleteWebhook(leadCtx); err != nil {
			if leadCtx.Err() == nil {
				b.log.Error("deleteWebhook failed; not polling", "err", b.scrub(err))
			}
		} else {
			b.self.Store(&me)
			wg.Go(func() { b.poll(leadCtx) })
		}
	}
	<-leadCtx.Done()
	if b.opts.WebhookURL == "" {
		b.self.Store(nil)
	}
	wg.Wait()
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
			b.opts.Metrics.RateLimited()
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
		b.opts.Metrics.Retried()
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
				b.opts.Metrics.RateLimited()
			} else {
				wait = min(2*wait, 30*time.Second)
				b.opts.Metrics.Retried()
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
// confirmed and come again at the next start.
func (b *Bot) getUpdates(ctx context.Context, offset int) ([]tgbotapi.Update, error) {
	type result struct {
		updates []tgbotapi.Update
		err     error
	}
	ch := make(chan result, 1)
	go func() {
		cfg := tgbotapi.UpdateConfig{Offset: offset, Limit: 100, Timeout: int(b.opts.PollTimeout / time.Second)}
		cfg.AllowedUpdates = []string{"message", "callback_query"}
		u, err := b.api.GetUpdates(cfg)
		ch <- result{u, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		return r.updates, r.err
	}
}

// handleUpdate commits what u asks for: a message to a dialog through the dispatcher (one
// person's in order, different people's concurrently, a flooding person slowed down), the
// rest (a group migration, a note about someone else's button) at once. done is called
// exactly once, when u is committed (nil) or not handled and must come again (the error).
func (b *Bot) handleUpdate(ctx context.Context, u tgbotapi.Update, done func(error)) {
	me := b.self.Load()
	if me == nil {
		done(errNotRunning)
		return
	}
	a := translate(u, *me)
	switch {
	case a.move != nil:
		n, err := b.chats.MoveChat(ctx, Platform, strconv.FormatInt(a.move.from, 10), strconv.FormatInt(a.move.to, 10))
		if err == nil {
			b.log.Info("group became a supergroup", "from", a.move.from, "to", a.move.to, "dialogs", n)
		}
		done(err)
	case a.notice != nil:
		n := *a.notice
		b.push(n.chat, func(context.Context) { b.answerCallback(n.queryID, n.text, n.text != "") })
		done(nil)
	case a.in != nil:
		// On a stop, Submit reports ErrStopped through done.
		b.dispatch.Submit(ctx, *a.in, done)
	default:
		done(nil)
	}
}

// enqueue is the dispatcher's deliver: it queues a committed reply for its chat's sender,
// which paces it and marks it delivered; on a replica that is not the elected sender it
// leaves the reply in the outbox, for the elected sender to take at once.
func (b *Bot) enqueue(ctx context.Context, d conversation.Delivery) {
	if !b.sending.Load() {
		// Another replica sends: it takes the reply from the outbox, as soon as this one
		// gives up the hold its commit put on it (else only once that lease runs out).
		if err := b.svc.Leave(ctx, d); err != nil && ctx.Err() == nil {
			b.log.Warn("reply left in the outbox held until its lease runs out", "delivery", d.ID, "err", b.scrub(err))
		}
		return
	}
	var r route
	if err := json.Unmarshal(d.Route, &r); err != nil {
		b.log.Error("reply with an unreadable route; left in the outbox", "delivery", d.ID, "err", err)
		return
	}
	if !b.svc.Take(d.ID) {
		return // already queued or being sent here
	}
	queued := b.push(r.Chat, func(ctx context.Context) {
		if err := b.svc.DeliverTaken(ctx, b, d); err != nil && ctx.Err() == nil {
			b.log.Error("deliver reply", "delivery", d.ID, "err", b.scrub(err))
		}
	})
	if !queued {
		b.svc.Release(d.ID)
		b.log.Warn("stopping: reply left in the outbox for the next start", "delivery", d.ID)
	}
}

// push queues job for chat's worker. A panic in job is logged and does not stop the worker;
// the reply it was sending stays in the outbox.
func (b *Bot) push(chat int64, job func(context.Context)) bool {
	return b.queue.push(chat, func(ctx context.Context) {
		defer func() {
			if p := recover(); p != nil {
				b.log.Error("panic while sending", "chat", chat, "panic", p, "stack", string(debug.Stack()))
			}
		}()
		job(ctx)
	})
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
