package slack

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Platform is the platform name of Slack dialogs.
const Platform = "slack"

// api is what the adapter calls of the Slack Web API; *slack.Client implements it.
type api interface {
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
}

// Options configures an Adapter. BotToken, and SigningSecret or AppToken, are required; the
// zero value of everything else works.
type Options struct {
	// BotToken is the bot's xoxb- token.
	BotToken string
	// SigningSecret verifies HTTP requests (HTTP mode). Empty: the HTTP handlers refuse
	// every request.
	SigningSecret string
	// AppToken is the app-level xapp- token; set, the adapter connects in Socket Mode.
	AppToken string
	// APIURL is the Web API base URL, ending in "/"; empty means https://slack.com/api/.
	APIURL string
	// HTTPClient makes the Web API calls; nil means a client with a 30-second timeout.
	HTTPClient *http.Client
	// Log receives what goes wrong, never message text or secrets; nil discards.
	Log *slog.Logger
	// Now is the clock request timestamps are checked against; nil means time.Now.
	// A seam for hermetic tests.
	Now func() time.Time
	// RedeliverInterval is how often the outbox is checked for replies not yet sent: those
	// whose sending failed, and handoff summaries from other platforms' dialogs. Zero means
	// 5 s.
	RedeliverInterval time.Duration
	// Workers is how many replies are delivered at once; a person's always go through the
	// same worker, in order. Zero means 8.
	Workers int
	// QueueSize is how many committed replies wait per worker before new messages are
	// refused with 503 (Slack sends them again); zero means 64.
	QueueSize int
	// FloodLimit and FloodWindow: a person sending more messages than this gets one "slow
	// down" and is ignored until their pace drops (conversation.FloodGuard); zero means 5
	// in 10 seconds.
	FloodLimit  int
	FloodWindow time.Duration
	// ChannelInterval paces replies in one channel; zero means one second, as Slack asks.
	ChannelInterval time.Duration
	// LocaleTTL is how long a person's locale is cached; zero means an hour.
	LocaleTTL time.Duration
	// Metrics is told about messages sent, 429s and retries; nil counts nothing.
	Metrics Metrics
}

// Metrics counts what the adapter sends, for the bot's /metrics. Its methods must be quick
// and safe for concurrent use.
type Metrics interface {
	// MessageSent: Slack accepted a reply.
	MessageSent()
	// RateLimited: Slack answered 429; the call is made again after Retry-After. (Other
	// failures are not retried here: the reply stays in the outbox for the next round.)
	RateLimited()
}

type noMetrics struct{}

func (noMetrics) MessageSent() {}
func (noMetrics) RateLimited() {}

// Adapter connects the conversation service to Slack. It is a conversation.Sender.
type Adapter struct {
	svc    *conversation.Service
	api    api
	socket *socketmode.Client // nil in HTTP mode
	opts   Options
	log    *slog.Logger
	flood  *conversation.FloodGuard

	self atomic.Pointer[slack.AuthTestResponse]
	// accepting is set once the outbox left by an earlier run is delivered, and cleared when
	// Run stops: messages are committed only in between, so that a reply is never sent both
	// by that redelivery and by a worker.
	accepting atomic.Bool
	ready     chan struct{} // closed when accepting is first set
	// Messages are spread over Workers by dialog. stripes[i] orders the commits of worker i's
	// dialogs, so that one person's messages are committed and queued in order; queues[i]
	// holds their replies for delivery, in commit order; slots[i] counts the room left in
	// queues[i], taken before a commit so that queueing its reply never blocks.
	stripes []sync.Mutex
	queues  []chan conversation.Delivery
	slots   []chan struct{}
	stop    chan struct{} // closed when Run ends
	stopped sync.Once
	pace    pacer
	locales localeCache
}

var _ conversation.Sender = (*Adapter)(nil)

// New returns an Adapter using the real Slack client. It does no I/O; Run connects.
func New(svc *conversation.Service, opts Options) (*Adapter, error) {
	if opts.BotToken == "" {
		return nil, errors.New("slack: a bot token is required")
	}
	if opts.SigningSecret == "" && opts.AppToken == "" {
		return nil, errors.New("slack: a signing secret (HTTP mode) or an app token (Socket Mode) is required")
	}
	if opts.APIURL == "" {
		opts.APIURL = slack.APIURL
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	clientOpts := []slack.Option{slack.OptionAPIURL(opts.APIURL), slack.OptionHTTPClient(hc)}
	if opts.AppToken != "" {
		clientOpts = append(clientOpts, slack.OptionAppLevelToken(opts.AppToken))
	}
	client := slack.New(opts.BotToken, clientOpts...)
	a := newAdapter(svc, client, opts)
	if opts.AppToken != "" {
		a.socket = socketmode.New(client)
	}
	return a, nil
}

// newAdapter returns an Adapter calling api; tests pass their own.
func newAdapter(svc *conversation.Service, api api, opts Options) *Adapter {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.RedeliverInterval <= 0 {
		opts.RedeliverInterval = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 64
	}
	if opts.FloodLimit <= 0 {
		opts.FloodLimit = 5
	}
	if opts.FloodWindow <= 0 {
		opts.FloodWindow = 10 * time.Second
	}
	if opts.ChannelInterval <= 0 {
		opts.ChannelInterval = time.Second
	}
	if opts.LocaleTTL <= 0 {
		opts.LocaleTTL = time.Hour
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	a := &Adapter{
		svc:     svc,
		api:     api,
		opts:    opts,
		log:     opts.Log.With("platform", Platform),
		flood:   conversation.NewFloodGuard(opts.FloodLimit, opts.FloodWindow),
		stop:    make(chan struct{}),
		ready:   make(chan struct{}),
		pace:    pacer{interval: opts.ChannelInterval},
		locales: localeCache{ttl: opts.LocaleTTL},
	}
	a.stripes = make([]sync.Mutex, opts.Workers)
	a.queues = make([]chan conversation.Delivery, opts.Workers)
	a.slots = make([]chan struct{}, opts.Workers)
	for i := range a.queues {
		a.queues[i] = make(chan conversation.Delivery, opts.QueueSize)
		a.slots[i] = make(chan struct{}, opts.QueueSize)
	}
	return a
}

// Run learns the bot's own identity (auth.test), sends the replies a crash left in the
// outbox, and then takes messages, delivering their replies, until ctx is done. In Socket
// Mode it also holds the connection; in HTTP mode requests come through the handlers of
// Register. Replies committed but not yet sent when it stops stay in the outbox for the next
// start. Call it once.
func (a *Adapter) Run(ctx context.Context) error {
	defer a.stopped.Do(func() { close(a.stop) })
	self, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack auth.test: %w", err)
	}
	a.self.Store(self)
	// Socket Mode may fail for good (a revoked token): the workers stop with it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		// What an earlier run committed but did not send goes first, before any new
		// message is taken (until then they are answered 503 and Slack sends them again).
		if err := a.svc.Redeliver(ctx, Platform, a); err != nil && ctx.Err() == nil {
			a.log.Error("deliver replies left from an earlier run", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		a.accepting.Store(true)
		close(a.ready)
		var workers sync.WaitGroup
		for i := range a.queues {
			workers.Go(func() { a.deliver(ctx, i) })
		}
		// Replies whose sending failed for a passing reason, those other replicas committed
		// and could not send, and handoff summaries from other platforms' dialogs.
		workers.Go(func() { a.svc.RedeliverEvery(ctx, Platform, a, a.opts.RedeliverInterval, a.log) })
		workers.Wait()
	})
	if a.socket != nil {
		err = a.runSocket(ctx)
	} else {
		<-ctx.Done()
		err = ctx.Err()
	}
	a.accepting.Store(false)
	a.stopped.Do(func() { close(a.stop) })
	cancel()
	wg.Wait()
	return err
}

// job is one inbound message, translated.
type job struct {
	team  string
	in    conversation.Inbound
	route route
}

var (
	// errOverloaded: too many replies wait for delivery; the message is refused (503, or no
	// Socket Mode ack) and Slack sends it again later.
	errOverloaded = errors.New("slack: too many messages waiting")
	// errNotAccepting: Run is starting (delivering an earlier run's outbox) or stopping.
	errNotAccepting = errors.New("slack: not taking messages now")
)

// startWait is how long a message arriving while Run starts waits for it to take messages,
// before it is refused with 503.
const startWait = time.Second

// worker returns the index of the worker of k's dialog.
func (a *Adapter) worker(k conversation.Key) int {
	h := fnv.New32a()
	h.Write([]byte(k.String()))
	return int(h.Sum32() % uint32(len(a.queues)))
}

// commit runs j through the conversation and commits it: the inbound id, the dialog change
// and the reply (in the outbox) in one store transaction. Only then may Slack be told the
// message was received. The reply is queued for delivery, which never happens here: the
// only Web API call that can come before the commit is the person's first locale lookup,
// bounded by localeWait. A nil error means the message is committed (or deliberately
// ignored: the bot's own, a duplicate, a flood); any other error means nothing was
// committed and Slack must send the message again.
func (a *Adapter) commit(ctx context.Context, j job) error {
	j.in.Key.Platform = Platform
	j.in.Route = j.route.encode()
	if !a.accepting.Load() {
		// Starting: the outbox of an earlier run is usually delivered in moments.
		t := time.NewTimer(startWait)
		defer t.Stop()
		select {
		case <-a.ready:
		case <-a.stop:
		case <-t.C:
		case <-ctx.Done():
		}
		if !a.accepting.Load() {
			return errNotAccepting
		}
	}
	self := a.self.Load()
	if j.in.Key.User == self.UserID {
		return nil // its own message: never answer itself
	}
	var name string
	j.in.Input.LangHint, name = a.locale(ctx, j.team, j.in.Key.User)
	// For a handoff summary: the name users.info gave with the locale, and a mention.
	j.in.Input.From = conversation.Person{Name: name, Reach: "<@" + j.in.Key.User + ">"}
	switch a.flood.Check(j.in.Key, a.opts.Now()) {
	case conversation.FloodIgnore:
		return nil
	case conversation.FloodWarn:
		j.in.Input = conversation.Input{Kind: conversation.InputFlooded, LangHint: j.in.Input.LangHint, From: j.in.Input.From}
	}
	i := a.worker(j.in.Key)
	select {
	case a.slots[i] <- struct{}{}:
	default:
		a.log.Warn("delivery queue full; refusing a message")
		return errOverloaded
	}
	queued := false
	defer func() {
		if !queued {
			<-a.slots[i]
		}
	}()
	a.stripes[i].Lock()
	defer a.stripes[i].Unlock()
	d, err := a.svc.Handle(ctx, j.in)
	var pe *conversation.PanicError
	if errors.As(err, &pe) {
		// Retrying would panic again: answer with an apology, which records the message as
		// handled.
		a.log.Error("panic while handling a message; answering with an apology", "update", j.in.InboundID, "panic", pe.Value, "stack", string(pe.Stack))
		d, err = a.svc.Apologize(ctx, j.in)
	}
	switch {
	case errors.Is(err, conversation.ErrDuplicate):
		return nil
	case err != nil:
		a.log.Error("commit a message; it stays unacknowledged", "update", j.in.InboundID, "err", err)
		return err
	}
	a.svc.Take(d.ID) // just committed: nobody else has it
	a.queues[i] <- d // a slot is held: never blocks
	queued = true
	return nil
}

// deliver sends the replies queued on worker i, in order, until ctx is done. A reply not
// sent then stays in the outbox for the next start.
func (a *Adapter) deliver(ctx context.Context, i int) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-a.queues[i]:
			<-a.slots[i]
			// A send under way when the adapter stops is finished (for a few seconds at
			// most), so that it is also marked delivered and not sent again at the next start.
			sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			stopWatch := context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, cancel) })
			if err := a.svc.DeliverTaken(sendCtx, a, d); err != nil && ctx.Err() == nil {
				a.log.Error("deliver reply; it stays in the outbox", "delivery", d.ID, "err", err)
			}
			stopWatch()
			cancel()
		}
	}
}

// stopGrace is how long a send under way may go on once the adapter is stopping.
const stopGrace = 3 * time.Second

// localeWait bounds the users.info call made before committing the first message of a person
// whose locale is not cached. Slack wants its answer within 3 seconds; this keeps the commit
// and the answer well inside that even when the Web API is slow, and the answer is cached
// (an hour, or a minute after a failure), so a person costs at most one such wait.
const localeWait = 500 * time.Millisecond

// locale returns the person's Slack locale and real name, or "" when they cannot be had.
func (a *Adapter) locale(ctx context.Context, team, user string) (locale, name string) {
	key := team + "/" + user
	if e, ok := a.locales.get(key, a.opts.Now()); ok {
		return e.locale, e.name
	}
	ctx, cancel := context.WithTimeout(ctx, localeWait)
	defer cancel()
	u, err := a.api.GetUserInfoContext(ctx, user, slack.GetUserInfoOptionIncludeLocale(true))
	if err != nil {
		// Fall back to the text and the default language; ask again in a minute.
		a.log.Warn("users.info", "err", err)
		now := a.opts.Now()
		a.locales.put(key, localeEntry{}, now, now.Add(time.Minute))
		return "", ""
	}
	name = u.RealName
	if name == "" {
		name = u.Profile.RealName
	}
	if name == "" {
		name = u.Profile.DisplayName
	}
	now := a.opts.Now()
	a.locales.put(key, localeEntry{locale: u.Locale, name: name}, now, now.Add(a.opts.LocaleTTL))
	return u.Locale, name
}

// maxCached bounds the locale cache and the per-channel pacers.
const maxCached = 10000

// localeCache maps team/user to a locale until an expiry.
type localeCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]localeEntry
}

type localeEntry struct {
	locale  string
	name    string // the person's real name, for handoff summaries
	expires time.Time
}

func (c *localeCache) get(key string, now time.Time) (localeEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.After(e.expires) {
		return localeEntry{}, false
	}
	return e, true
}

func (c *localeCache) put(key string, e localeEntry, now, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]localeEntry)
	}
	if len(c.m) >= maxCached {
		for k, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCached {
			clear(c.m)
		}
	}
	e.expires = expires
	c.m[key] = e
}
