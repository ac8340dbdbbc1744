package slack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/ocr"
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
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
}

// Options configures an Adapter. BotToken, KB, and SigningSecret or AppToken, are required;
// the zero value of everything else works.
type Options struct {
	// BotToken is the bot's xoxb- token.
	BotToken string
	// KB is the knowledge base the bot answers from: its flow version goes into button values.
	KB *kb.KB
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
	// LocaleTTL is how long a person's locale is cached; zero means an hour.
	LocaleTTL time.Duration
	// Lang is the language of the App Home and of notes (which no dialog's language applies
	// to) for a person whose Slack locale the knowledge base does not speak; empty means the
	// knowledge base's default.
	Lang string
	// HandoffChannel is the helpers' channel (BOT_HANDOFF_SLACK_CHANNEL, the channel of
	// HandoffRoute): a person's reply in the thread of one of the bot's handoff messages
	// there is a helper's answer to the person the message is about. Empty: none is relayed.
	HandoffChannel string
	// Pictures reads the images people share (OCR), off the request's path. Nil: images are
	// unsupported, as without Tesseract.
	Pictures *ocr.Queue
	// RetryBackoff is the first wait after auth.test fails at start for a reason that may
	// pass (Slack unreachable, 5xx); it doubles up to 30 s. Zero means 1 s.
	RetryBackoff time.Duration
}

// inlet is where the adapter hands inbound messages: conversation.Hub.
type inlet interface {
	Submit(ctx context.Context, in conversation.Inbound, done func(error)) error
}

// Adapter connects Slack to the conversation hub: it turns requests and Socket Mode
// envelopes into conversation.Inbound messages and sends replies (it is the platform's
// conversation.Sender).
type Adapter struct {
	inlet  inlet
	api    api
	client *http.Client       // downloads shared pictures
	socket *socketmode.Client // nil in HTTP mode
	opts   Options
	log    *slog.Logger

	// self is the bot's identity, set by Run; until then messages wait (startWait) and are
	// then refused with 503, and Slack sends them again.
	self    atomic.Pointer[slack.AuthTestResponse]
	started chan struct{} // closed once self is first set
	once    sync.Once
	locales localeCache
	dms     dmCache
	threads threadCache
	starts  startCache
	notes   background
}

var _ conversation.Sender = (*Adapter)(nil)

// New returns an Adapter using the real Slack client, handing messages to hub. It does no
// I/O; Run connects.
func New(hub inlet, opts Options) (*Adapter, error) {
	if opts.BotToken == "" {
		return nil, errors.New("slack: a bot token is required")
	}
	if opts.KB == nil {
		return nil, errors.New("slack: a knowledge base is required")
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
	opts.HTTPClient = hc
	a := newAdapter(hub, client, opts)
	if opts.AppToken != "" {
		a.socket = socketmode.New(client)
	}
	return a, nil
}

// newAdapter returns an Adapter calling api; tests pass their own.
func newAdapter(hub inlet, api api, opts Options) *Adapter {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LocaleTTL <= 0 {
		opts.LocaleTTL = time.Hour
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	log := opts.Log.With("platform", Platform)
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: downloadTimeout}
	}
	return &Adapter{
		inlet:   hub,
		api:     api,
		client:  client,
		opts:    opts,
		log:     log,
		locales: localeCache{ttl: opts.LocaleTTL},
		started: make(chan struct{}),
		notes:   background{log: log, sem: make(chan struct{}, maxNotes)},
	}
}

// Limits are Slack's: about one message a second per channel, with short bursts allowed.
func (a *Adapter) Limits() conversation.Limits {
	return conversation.Limits{
		Chat: func(conversation.Delivery) conversation.Rate {
			return conversation.Rate{Every: time.Second, Burst: 3}
		},
	}
}

// Run learns the bot's own identity (auth.test, tried again while Slack is unreachable) and
// then takes messages until ctx is done: in Socket Mode it holds the connection; in HTTP mode
// requests come through the handlers of Register. Replies go out through the platform's
// Outbox, not here. A token Slack refuses ends it with a *RefusedError. Call it once.
func (a *Adapter) Run(ctx context.Context) error {
	self, err := a.authTest(ctx)
	if err != nil {
		return err
	}
	a.notes.start(ctx)
	defer a.notes.stop() // after self is cleared: nothing is started once stop waits
	a.self.Store(self)
	a.once.Do(func() { close(a.started) })
	defer a.self.Store(nil)
	if a.socket != nil {
		return a.runSocket(ctx)
	}
	<-ctx.Done()
	return ctx.Err()
}

// job is one inbound payload, translated: most are a message to commit (jobCommit).
type job struct {
	kind jobKind
	team string
	// user is who the job is for, in jobs that carry no message (in is empty), and the
	// helper who wrote a jobHelper.
	user string
	// threadReply: an @mention written in a thread, not as its first message.
	threadReply bool
	// files are the files the message shares; an image among them is read (OCR).
	files []slack.File
	in    conversation.Inbound
	route route
}

// startWait is how long a message arriving while Run starts waits for it to learn who the
// bot is, before it is refused with 503.
const startWait = time.Second

// errNotAccepting: Run has not learnt who the bot is yet, or stopped.
var errNotAccepting = errors.New("slack: not taking messages now")

// commitWait bounds how long a message waits for its commit. Slack wants an answer within 3
// seconds; past this it is answered "not handled" and Slack sends it again (a commit that
// lands meanwhile makes that a duplicate).
const commitWait = 2500 * time.Millisecond

// commit hands j to the hub and waits until it is committed: the inbound id, the dialog
// change and the reply (in the outbox) in one store transaction. Only then may Slack be told
// the message was received. The Web API calls that can come before the commit are the
// person's first locale lookup, bounded by localeWait, and for a mention in a thread its
// first message, bounded by quoteWait. A nil error means the message is
// committed (or deliberately ignored: the bot's own, a duplicate, a flood); any other error
// means Slack must send the message again.
func (a *Adapter) commit(ctx context.Context, j job) error {
	self, err := a.ready(ctx)
	if err != nil {
		return err
	}
	j.in.Key.Platform = Platform
	j.in.Route = j.route.encode()
	if j.in.Key.User == self.UserID {
		return nil // its own message: never answer itself
	}
	ctx, cancel := context.WithTimeout(ctx, commitWait)
	defer cancel()
	var name string
	j.in.Input.LangHint, name = a.locale(ctx, j.team, j.in.Key.User)
	// For a handoff summary: the name users.info gave with the locale, and a mention.
	j.in.Input.From = conversation.Person{Name: name, Reach: "<@" + j.in.Key.User + ">"}
	if j.threadReply {
		a.quoteThreadStart(ctx, self, &j)
	}
	if f, ok := a.picture(j.files); ok && j.in.Input.Kind != conversation.InputButton {
		return a.submitPicture(ctx, j.in, f)
	}
	return a.submit(ctx, j.in)
}

// submit hands in to the hub and waits until it is committed, or ctx is done.
func (a *Adapter) submit(ctx context.Context, in conversation.Inbound) error {
	submit := a.inlet.Submit
	if a.opts.Pictures != nil {
		// A person's messages wait behind their own picture being read.
		submit = a.opts.Pictures.Submit
	}
	return await(ctx, func(done func(error)) error { return submit(ctx, in, done) })
}

// await calls submit with a done function and waits for it to be called, as long as ctx
// lasts: Slack is answered only once what it sent is committed.
func await(ctx context.Context, submit func(done func(error)) error) error {
	result := make(chan error, 1)
	if err := submit(func(err error) { result <- err }); err != nil {
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ready returns who the bot is, waiting up to startWait while Run learns it; errNotAccepting
// when it does not know (starting, or stopped).
func (a *Adapter) ready(ctx context.Context) (*slack.AuthTestResponse, error) {
	self := a.self.Load()
	if self == nil {
		// Starting: auth.test usually answers in moments.
		t := time.NewTimer(startWait)
		defer t.Stop()
		select {
		case <-a.started:
		case <-t.C:
		case <-ctx.Done():
		}
		self = a.self.Load()
	}
	if self == nil {
		return nil, errNotAccepting
	}
	return self, nil
}

// handle does what j asks: commits its message (jobCommit, jobHomePress), or starts a note
// or a home view, which are sent after the answer to Slack and never committed. A nil error
// means Slack may be told the payload was received.
func (a *Adapter) handle(ctx context.Context, j job) error {
	switch j.kind {
	case jobCommit:
		if skip, err := a.handoffMention(ctx, j); skip || err != nil {
			return err
		}
		return a.commit(ctx, j)
	case jobHelper:
		return a.commitHelper(ctx, j)
	case jobHomePress:
		return a.commitHomePress(ctx, j)
	case jobNotYourMenu:
		return a.later(ctx, "not-your-menu note", func(ctx context.Context) error { return a.notYourMenu(ctx, j) })
	case jobHome:
		return a.later(ctx, "views.publish", func(ctx context.Context) error { return a.publishHome(ctx, j.team, j.user) })
	}
	return nil
}

// later runs send after the answer to Slack, when the adapter is running. It is best effort:
// a failure is logged, not retried.
func (a *Adapter) later(ctx context.Context, what string, send func(context.Context) error) error {
	if _, err := a.ready(ctx); err != nil {
		return err
	}
	a.notes.spawn(what, send)
	return nil
}

// language is the language of the knowledge base matching a person's Slack locale, else
// Options.Lang, else the knowledge base's default.
func (a *Adapter) language(locale string) string {
	if lang, ok := a.opts.KB.MatchLanguage(locale); ok {
		return lang
	}
	if lang, ok := a.opts.KB.MatchLanguage(a.opts.Lang); ok {
		return lang
	}
	return a.opts.KB.Languages()[0]
}

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

// maxCached bounds the locale cache.
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
