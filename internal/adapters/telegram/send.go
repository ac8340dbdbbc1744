package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/paydoctor/bot/internal/conversation"
)

// Pacing bounds how fast replies are sent. A zero field means Telegram's published limit.
type Pacing struct {
	// Global is the rate over all chats (30 a second), with burst GlobalBurst (3). Telegram
	// publishes the rate but no burst: a burst of 30 sent 60 messages in the first second of
	// a burst of people and drew about 25 429s each time from a server allowing bursts of 5
	// (BenchmarkBurst300 in cmd/bot); a small one costs a tenth of a second and leaves room
	// for jitter on the wire.
	Global      rate.Limit
	GlobalBurst int
	// Chat is the rate per private chat (one a second), with burst ChatBurst (3).
	Chat      rate.Limit
	ChatBurst int
	// Group is the rate per group (20 a minute), with burst GroupBurst (3).
	Group      rate.Limit
	GroupBurst int
}

func (p Pacing) withDefaults() Pacing {
	if p.Global == 0 {
		p.Global = 30
	}
	if p.GlobalBurst <= 0 {
		p.GlobalBurst = 3
	}
	if p.Chat == 0 {
		p.Chat = 1
	}
	if p.ChatBurst <= 0 {
		p.ChatBurst = 3
	}
	if p.Group == 0 {
		p.Group = rate.Every(3 * time.Second)
	}
	if p.GroupBurst <= 0 {
		p.GroupBurst = 3
	}
	return p
}

// pacer holds the limiters: one over all chats and one per chat, plus when each chat may be
// sent to again after a 429.
type pacer struct {
	p      Pacing
	global *rate.Limiter

	mu    sync.Mutex
	chats map[int64]*chatPace
}

type chatPace struct {
	lim          *rate.Limiter
	blockedUntil time.Time
	users        int // sends waiting or in flight; the entry is dropped at zero
}

func newPacer(p Pacing) *pacer {
	p = p.withDefaults()
	return &pacer{p: p, global: rate.NewLimiter(p.Global, p.GlobalBurst), chats: map[int64]*chatPace{}}
}

func (p *pacer) acquire(chat int64, group bool) *chatPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.chats[chat]
	if c == nil {
		c = &chatPace{lim: rate.NewLimiter(p.p.Chat, p.p.ChatBurst)}
		if group {
			c.lim = rate.NewLimiter(p.p.Group, p.p.GroupBurst)
		}
		p.chats[chat] = c
	}
	c.users++
	return c
}

// release forgets the chat's limiter once nobody uses it and it is full again, so the map
// holds only chats sent to recently.
func (p *pacer) release(chat int64, c *chatPace) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.users--
	if c.users == 0 && c.lim.Tokens() >= float64(c.lim.Burst()) && time.Now().After(c.blockedUntil) {
		delete(p.chats, chat)
	}
}

// wait blocks until chat may be sent to.
func (p *pacer) wait(ctx context.Context, c *chatPace) error {
	for {
		p.mu.Lock()
		until := c.blockedUntil
		p.mu.Unlock()
		d := time.Until(until)
		if d <= 0 {
			break
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	if err := c.lim.Wait(ctx); err != nil {
		return err
	}
	return p.global.Wait(ctx)
}

func (p *pacer) block(c *chatPace, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := time.Now().Add(d); until.After(c.blockedUntil) {
		c.blockedUntil = until
	}
}

// Send delivers one reply: it answers the button press it answers, if any, and sends the
// text in as many messages as it takes, paced, waiting out 429s. It returns an error only
// if ctx ends first; the reply then stays in the outbox. A reply Telegram refuses for good
// (the person blocked the bot, the chat is gone) is logged and counted as delivered.
func (b *Bot) Send(ctx context.Context, d conversation.Delivery) error {
	var r route
	if err := json.Unmarshal(d.Route, &r); err != nil || r.Chat == 0 {
		b.log.Error("reply without a usable route; dropped", "delivery", d.ID)
		return nil
	}
	if r.Callback != "" {
		b.answerCallback(r.Callback, "", false)
	}
	msgs, dropped := render(r, d.Reply, b.svc.Engine().KB().Version)
	if len(dropped) > 0 {
		b.log.Error("buttons whose IDs do not fit in callback_data were left out", "buttons", dropped)
	}
	for _, m := range msgs {
		if err := b.sendMessage(ctx, r.Group, m); err != nil {
			if ctx.Err() != nil {
				return err
			}
			b.log.Warn("reply refused by Telegram; dropped", "delivery", d.ID, "chat", r.Chat, "err", b.scrub(err))
			return nil
		}
	}
	return nil
}

// errRefused wraps errors that sending again cannot fix.
var errRefused = errors.New("refused")

// sendMessage sends one message, retrying until it is sent, refused for good, or ctx ends.
func (b *Bot) sendMessage(ctx context.Context, group bool, m tgbotapi.MessageConfig) error {
	chat := m.ChatID
	pace := b.pacer.acquire(chat, group)
	defer func() { b.pacer.release(chat, pace) }()
	wait := b.opts.RetryBackoff
	for {
		if err := b.pacer.wait(ctx, pace); err != nil {
			return err
		}
		_, err := b.api.Request(m)
		if err == nil {
			b.opts.Metrics.MessageSent()
			return nil
		}
		var apiErr *tgbotapi.Error
		switch {
		case errors.As(err, &apiErr) && apiErr.RetryAfter > 0:
			d := time.Duration(apiErr.RetryAfter) * time.Second
			b.log.Warn("rate limited by Telegram", "chat", chat, "retry_after", d)
			b.opts.Metrics.RateLimited()
			b.pacer.block(pace, d)
			continue
		case errors.As(err, &apiErr) && apiErr.MigrateToChatID != 0:
			// The group became a supergroup; its dialogs move when the update saying so arrives.
			b.pacer.release(chat, pace)
			chat, m.ChatID = apiErr.MigrateToChatID, apiErr.MigrateToChatID
			pace = b.pacer.acquire(chat, group)
			continue
		case errors.As(err, &apiErr) && apiErr.Code >= 400 && apiErr.Code < http.StatusInternalServerError:
			return errors.Join(errRefused, err)
		}
		// Network errors and 5xx: Telegram may come back.
		b.log.Warn("sendMessage failed; retrying", "chat", chat, "err", b.scrub(err), "in", wait)
		b.opts.Metrics.Retried()
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// queue runs jobs in order per chat, on a fixed number of workers, so that one person's
// replies never overtake each other and a slow chat holds one worker, not all.
type queue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending map[int64][]func(context.Context)
	ready   []int64 // chats with pending jobs and no worker
	busy    map[int64]bool
	closed  bool
}

func newQueue() *queue {
	q := &queue{pending: map[int64][]func(context.Context){}, busy: map[int64]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues job for chat. It reports false if the queue is closed; the job is not run.
func (q *queue) push(chat int64, job func(context.Context)) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if len(q.pending[chat]) == 0 && !q.busy[chat] {
		q.ready = append(q.ready, chat)
		q.cond.Signal()
	}
	q.pending[chat] = append(q.pending[chat], job)
	return true
}

// close makes work return once every job queued is done.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// work runs jobs until the queue is closed and empty. Jobs get ctx.
func (q *queue) work(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for len(q.ready) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.ready) == 0 {
			return
		}
		chat := q.ready[0]
		q.ready = q.ready[1:]
		jobs := q.pending[chat]
		delete(q.pending, chat)
		q.busy[chat] = true
		q.mu.Unlock()
		for _, job := range jobs {
			job(ctx)
		}
		q.mu.Lock()
		delete(q.busy, chat)
		if len(q.pending[chat]) > 0 {
			q.ready = append(q.ready, chat)
			q.cond.Signal()
		}
	}
}
