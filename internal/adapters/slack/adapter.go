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
	// Workers is how many messages are handled at once (locale lookups, and the
	// conversation.Dispatcher's workers); zero means 8.
	Workers int
	// QueueSize is how many messages wait per worker before requests are refused with
	// 503 (Slack retries them); zero means 64.
	QueueSize int
	// FloodLimit and FloodWindow: a person sending more messages than this gets one "slow
	// down" and is ignored until their pace drops (conversation.DispatcherOptions); zero
	// means the dispatcher's defaults.
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
	// RateLimited: Slack answered 429; the call is made again after Retry-After.
	RateLimited()
	// Retried: a call is made again after a failure other than a 429. The Slack adapter
	// does not retry such calls itself (the reply stays in the outbox and goes out with the
	// next delivery round), so it never calls it; it is here to match the Telegram adapter's.
	Retried()
}

type noMetrics struct{}

func (noMetrics) MessageSent() {}
func (noMetrics) RateLimited() {}
func (noMetrics) Retried()     {}

// Adapter connects the conversation service to Slack. It is a conversation.Sender.
type Adapter struct {
	svc    *conversation.Service
	api    api
	socket *socketmode.Client // nil in HTTP mode
	opts   Options
	log    *slog.Logger

	self atomic.Pointer[slack.AuthTestResponse]
	// queues feed the lookup of each person's locale (a Web API call, so never made while
	// Slack waits for the HTTP answer); one person's messages share a queue, in order, and go
	// on to dispatch, which commits and delivers them.
	queues   []chan job
	dispatch *conversation.Dispatcher
	stop     chan struct{} // closed when Run ends; enqueue refuses then
	stopped  sync.Once
	pace     pacer
	locales  localeCache
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 64
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
		stop:    make(chan struct{}),
		pace:    pacer{interval: opts.ChannelInterval},
		locales: localeCache{ttl: opts.LocaleTTL},
	}
	a.queues = make([]chan job, opts.Workers)
	for i := range a.queues {
		a.queues[i] = make(chan job, opts.QueueSize)
	}
	a.dispatch = conversation.NewDispatcher(svc, a, conversation.DispatcherOptions{
		Workers:     opts.Workers,
		QueueLen:    opts.QueueSize,
		FloodLimit:  opts.FloodLimit,
		FloodWindow: opts.FloodWindow,
		Log:         opts.Log,
	})
	return a
}

// Run learns the bot's own identity (auth.test), sends the replies a crash left in the
// outbox, and handles queued messages until ctx is done. In Socket Mode it also holds the
// connection; in HTTP mode requests come through the handlers of Register. Call it once.
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
	// The dispatcher first sends what a crash left in the outbox, then what is submitted.
	wg.Go(func() { a.dispatch.Run(ctx, Platform) })
	for _, q := range a.queues {
		wg.Go(func() { a.work(ctx, q) })
	}
	if a.socket != nil {
		err = a.runSocket(ctx)
	} else {
		<-ctx.Done()
		err = ctx.Err()
	}
	a.stopped.Do(func() { close(a.stop) })
	cancel()
	wg.Wait()
	return err
}

// job is one inbound message waiting for a worker.
type job struct {
	team  string
	in    conversation.Inbound
	route route
}

var errOverloaded = errors.New("slack: too many messages waiting")

// enqueue queues j on the worker of its dialog, so one person's messages stay in order. It
// waits a little for room, never as long as Slack's 3-second limit.
func (a *Adapter) enqueue(j job) error {
	j.in.Key.Platform = Platform
	j.in.Route = j.route.encode()
	h := fnv.New32a()
	h.Write([]byte(j.in.Key.String()))
	q := a.queues[h.Sum32()%uint32(len(a.queues))]
	select {
	case <-a.stop:
		return errOverloaded
	default:
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case q <- j:
		return nil
	case <-a.stop:
		return errOverloaded
	case <-t.C:
		a.log.Warn("queue full; refusing a message")
		return errOverloaded
	}
}

// work looks up the locale of each job of q and submits it to the dispatcher, until ctx is
// done.
func (a *Adapter) work(ctx context.Context, q chan job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-q:
			if ctx.Err() != nil {
				return
			}
			a.submit(ctx, j)
		}
	}
}

func (a *Adapter) submit(ctx context.Context, j job) {
	if self := a.self.Load(); self != nil && j.in.Key.User == self.UserID {
		return // its own message: never answer itself
	}
	var name string
	j.in.Input.LangHint, name = a.locale(ctx, j.team, j.in.Key.User)
	// For a handoff summary: the name users.info gave with the locale, and a mention.
	j.in.Input.From = conversation.Person{Name: name, Reach: "<@" + j.in.Key.User + ">"}
	if err := a.dispatch.Submit(ctx, j.in, nil); err != nil {
		a.log.Warn("message dropped: stopping", "chat", j.in.Key.Chat, "err", err)
	}
}

// locale returns the person's Slack locale and real name, or "" when they cannot be had.
func (a *Adapter) locale(ctx context.Context, team, user string) (locale, name string) {
	key := team + "/" + user
	if e, ok := a.locales.get(key, a.opts.Now()); ok {
		return e.locale, e.name
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
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
