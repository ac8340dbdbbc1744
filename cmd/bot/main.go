// Command bot is the payment-failure support bot. With nothing configured it starts a chat in
// the terminal; with platform credentials it serves them. Run "bot --help" for the commands
// and every setting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/console"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/gctune"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/ocr"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/paydoctor/bot/internal/store/pgstore"
	"golang.org/x/sync/errgroup"
)

func main() {
	gctune.Apply(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	err := m.ParseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "bot:", err)
		os.Exit(1)
	}
}

// Config is everything the bot is configured with, from flags and the environment.
type Config struct {
	Command string // "" (serve what is configured), "chat", "stats", "backup", "migrate-store"
	DB      string
	// PostgresURL selects PostgreSQL instead of the bbolt file DB (BOT_POSTGRES_URL).
	PostgresURL string
	Lang        string
	KBDir       string
	DialogTTL   time.Duration
	EventsTTL   time.Duration

	// HTTPAddr is where webhooks, /healthz and /metrics are served while serving a platform.
	// Empty: defaultHTTPAddr.
	HTTPAddr string
	// Admin is where a serving bot answers "bot stats" and "bot backup" (BOT_ADMIN_ADDR).
	Admin AdminAddr
	// Tesseract is the OCR program reading screenshots (BOT_TESSERACT), or "off".
	Tesseract string
	// OCRTimeout bounds the reading of one picture (BOT_OCR_TIMEOUT); zero: ocr's default.
	OCRTimeout time.Duration

	// LogFormat is "text" or "json"; empty: text on a terminal, JSON otherwise.
	LogFormat string
	// LogLevel is the least level logged: info when serving, warn otherwise, unless set.
	LogLevel slog.Level

	// chat
	User string
	JSON bool // chat, stats

	// stats: events of the last Since (zero: all)
	Since time.Duration
	// backup: the file to write
	Out string
	// migrate-store: where from and where to
	From, To endpoint

	Telegram TelegramConfig
	Slack    SlackConfig
	Handoff  HandoffConfig
}

const defaultHTTPAddr = ":8080"

// Main is the program, separated from main() so that end-to-end tests run it in-process.
type Main struct {
	Config Config

	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	closers        []io.Closer
}

// NewMain returns a Main reading the environment through getenv.
func NewMain(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
}

const usage = `bot: a support bot for failed OpenAI API payments with Chinese bank cards.

Usage:
  bot [flags]                    serve the platforms configured below; with none, chat in this terminal
  bot chat [flags]               chat in this terminal (--json: one JSON object per line, for scripts)
  bot stats [--since 7d] [--json] [--db FILE]
                                 dialogs, diagnoses, solutions shown / worked / did not work, handoffs
  bot backup [--db FILE] OUT     write a consistent copy of the bbolt database to OUT, a new
                                 file or an earlier backup, or - for standard output
                                 (bbolt only; for PostgreSQL use pg_dump, see docs/postgres.md)
  bot migrate-store --from STORE --to STORE
                                 move dialogs, handled update ids, pending replies and events
                                 into an empty store; STORE is bolt:FILE, postgres:URL (postgres
                                 alone: BOT_POSTGRES_URL) or jsonl:FILE. Stop the bot(s) first.
  bot help                       this text

With BOT_POSTGRES_URL (or --postgres) set, serving, chat and stats use PostgreSQL and --db is
ignored. Without it, stats and backup ask a running bot through BOT_ADMIN_ADDR; with none
running they read the file.

Flags:
`

const envHelp = `
Environment (flags win over the environment):
  BOT_DB                   bbolt database file (--db)                        default: paydoctor.db
  BOT_POSTGRES_URL         use PostgreSQL instead of BOT_DB, for several replicas (--postgres):
                           postgres://user@host:5432/db?search_path=bot      default: unset, bbolt
  BOT_LANG                 default language, one the knowledge base speaks   default: zh-Hans
                           (zh-Hans, en, or one added in BOT_KB_DIR) (--lang)
  BOT_KB_DIR               directory overriding the knowledge base (--kb): flow/flow.toml,
                           locales/active.<lang>.toml, phrases/<lang>.toml   default: built in
  BOT_DIALOG_TTL           idle dialogs are deleted after this (--dialog-ttl) default: 720h
  BOT_EVENTS_TTL           events behind bot stats are kept this long (--events-ttl); 0 keeps
                           them forever                                      default: 4320h (180 days)
  BOT_HTTP_ADDR            listen address for webhooks, /healthz, /metrics   default: :8080
  BOT_ADMIN_ADDR           where a running bot answers stats, backup and /dashboard: a Unix socket
                           path (unix:PATH or /PATH), a loopback host:port, another host:port
                           with a token (see below), or off                  default: <BOT_DB>.admin.sock
  BOT_ADMIN_TOKEN          bearer token every admin request must then carry (Authorization:
                           Bearer ...); needed for a BOT_ADMIN_ADDR that is not loopback;
                           16+ characters                                    default: unset
  BOT_TESSERACT            the tesseract program that reads screenshots (with its chi_sim and
                           eng models), or off; missing: photos get the request for text
                                                                             default: tesseract
  BOT_OCR_TIMEOUT          how long one picture may take to read (a slow machine wants more)
                                                                             default: 10s
  BOT_LOG_FORMAT           text or json                                      default: text on a terminal, else json
  BOT_LOG_LEVEL            debug, info, warn or error                        default: info when serving, else warn

  BOT_HANDOFF_TELEGRAM_CHAT  Telegram chat id (e.g. -1001234567890, or -1001234567890/42 for a
                           forum topic) where /human posts a summary
  BOT_HANDOFF_SLACK_CHANNEL  Slack channel id (e.g. C0123ABCD) where /human posts a summary
                           unset: /human points people to OpenAI support
  BOT_HANDOFF_TTL          how long a handoff stays open unanswered or unclosed default: 72h
  BOT_HANDOFF_SIGNATURE    how the helpers' answers are signed: empty for the helper's first
                           name, or anonymous for "Support team"             default: first name

  TELEGRAM_BOT_TOKEN       serve Telegram with this token (from @BotFather)
  TELEGRAM_API_ENDPOINT    Bot API URL, token and method as %s               default: https://api.telegram.org/bot%s/%s
  TELEGRAM_WEBHOOK_URL     public https URL of /telegram/webhook; unset: long polling
  TELEGRAM_WEBHOOK_SECRET  secret Telegram sends with each webhook call      default: generated

  SLACK_BOT_TOKEN          serve Slack with this bot token (xoxb-...)
  SLACK_SIGNING_SECRET     HTTP mode: verifies /slack/commands, /slack/events, /slack/interactions
  SLACK_APP_TOKEN          Socket Mode app-level token (xapp-...), for workspaces without a public URL
  SLACK_API_URL            Slack Web API base URL                            default: https://slack.com/api/
`

// ParseFlags reads the command line and the environment into m.Config, and checks them.
func (m *Main) ParseFlags(args []string) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		m.Config.Command, args = args[0], args[1:]
	}
	switch m.Config.Command {
	case "", "chat", "stats", "backup", "migrate-store":
	case "help":
		m.Config.Command, args = "", []string{"--help"}
	default:
		return fmt.Errorf("unknown command %q (run bot --help)", m.Config.Command)
	}
	fs := flag.NewFlagSet("bot", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	fs.Usage = func() {
		fmt.Fprint(m.stderr, usage)
		fs.PrintDefaults()
		io.WriteString(m.stderr, envHelp)
	}
	c := &m.Config
	fs.StringVar(&c.DB, "db", m.env("BOT_DB", "paydoctor.db"), "bbolt database `file` (ignored with --postgres)")
	// No default from the environment here: --help prints defaults, and the URL may hold a
	// password. BOT_POSTGRES_URL applies after parsing.
	fs.StringVar(&c.PostgresURL, "postgres", "",
		"PostgreSQL `URL` to use instead of --db (prefer BOT_POSTGRES_URL: a password here shows in ps)")
	from := fs.String("from", "", "migrate-store: the `store` to read: bolt:FILE, postgres:URL or jsonl:FILE")
	to := fs.String("to", "", "migrate-store: the empty `store` to write: bolt:FILE, postgres:URL or jsonl:FILE")
	fs.StringVar(&c.Lang, "lang", m.env("BOT_LANG", "zh-Hans"), "default `language`: one the knowledge base speaks, such as zh-Hans or en")
	fs.StringVar(&c.KBDir, "kb", m.env("BOT_KB_DIR", ""), "`directory` with knowledge-base files overriding the built-in ones")
	ttl, err := time.ParseDuration(m.env("BOT_DIALOG_TTL", "720h"))
	if err != nil {
		return fmt.Errorf("BOT_DIALOG_TTL: %w", err)
	}
	fs.DurationVar(&c.DialogTTL, "dialog-ttl", ttl, "delete dialogs idle for this long")
	eventsTTL, err := time.ParseDuration(m.env("BOT_EVENTS_TTL", "4320h"))
	if err != nil {
		return fmt.Errorf("BOT_EVENTS_TTL: %w", err)
	}
	fs.DurationVar(&c.EventsTTL, "events-ttl", eventsTTL, "keep the events behind bot stats this long (0: forever)")
	fs.StringVar(&c.User, "user", m.env("USER", "local"), "chat: whose dialog this is; the same name continues it")
	fs.BoolVar(&c.JSON, "json", false, "chat: read and write one JSON object per line; stats: print JSON")
	since := fs.String("since", "", "stats: only the last `period`, such as 7d, 12h or 2w (default: everything)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.PostgresURL == "" {
		c.PostgresURL = strings.TrimSpace(m.getenv("BOT_POSTGRES_URL"))
	}
	if c.Command == "backup" && fs.NArg() > 0 {
		// bot backup OUT --db FILE: flags may follow the file name.
		c.Out = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (run bot --help)", fs.Arg(0))
	}
	if c.DialogTTL <= 0 {
		return fmt.Errorf("--dialog-ttl must be positive, got %s", c.DialogTTL)
	}
	if c.EventsTTL < 0 {
		return fmt.Errorf("--events-ttl must not be negative, got %s", c.EventsTTL)
	}
	if *since != "" {
		if c.Since, err = parsePeriod(*since); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
	}
	switch {
	case c.Command == "backup" && c.Out == "":
		return errors.New("backup: name the file to write, as in: bot backup --db paydoctor.db paydoctor-backup.db")
	case c.Command != "backup" && c.Out != "":
		return fmt.Errorf("unexpected argument %q (run bot --help)", c.Out)
	case *since != "" && c.Command != "stats":
		return errors.New("--since is for bot stats")
	case (*from != "" || *to != "") && c.Command != "migrate-store":
		return errors.New("--from and --to are for bot migrate-store")
	case c.Command == "migrate-store" && (*from == "" || *to == ""):
		return errors.New("migrate-store: name both stores, as in: bot migrate-store --from bolt:paydoctor.db --to postgres")
	case c.Command == "backup" && c.PostgresURL != "":
		return errors.New("backup copies the bbolt file, but BOT_POSTGRES_URL is set: back PostgreSQL up with pg_dump (docs/postgres.md), or unset it to back up --db")
	}
	if c.Command == "migrate-store" {
		if c.From, err = m.parseEndpoint(*from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		if c.To, err = m.parseEndpoint(*to); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}

	c.HTTPAddr = strings.TrimSpace(m.getenv("BOT_HTTP_ADDR"))
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			return fmt.Errorf("BOT_HTTP_ADDR %q: want host:port or :port, such as :8080", c.HTTPAddr)
		}
	}
	c.Tesseract = tesseractFromEnv(m.getenv)
	if v := strings.TrimSpace(m.getenv("BOT_OCR_TIMEOUT")); v != "" {
		if c.OCRTimeout, err = time.ParseDuration(v); err != nil || c.OCRTimeout <= 0 {
			return fmt.Errorf("BOT_OCR_TIMEOUT %q: want a positive duration such as 10s", v)
		}
	}
	if c.Admin, err = adminAddrFromEnv(m.getenv, c.DB); err != nil {
		return fmt.Errorf("BOT_ADMIN_ADDR: %w", err)
	}
	if c.Telegram, err = telegramConfigFromEnv(m.getenv); err != nil {
		return err
	}
	if c.Slack, err = slackConfigFromEnv(m.getenv); err != nil {
		return err
	}
	if c.Handoff, err = handoffConfigFromEnv(m.getenv, c.Telegram, c.Slack); err != nil {
		return err
	}
	if c.LogFormat, c.LogLevel, err = logConfigFromEnv(m.getenv, m.serving()); err != nil {
		return err
	}
	return nil
}

// serving reports whether Run serves platforms rather than running a command.
func (m *Main) serving() bool {
	return m.Config.Command == "" && (m.Config.Telegram.enabled() || m.Config.Slack.enabled())
}

func (m *Main) env(name, def string) string {
	if v := m.getenv(name); v != "" {
		return v
	}
	return def
}

// Run starts what the configuration asks for and returns when it ends or ctx is done.
func (m *Main) Run(ctx context.Context) error {
	log := newLogger(m.stderr, m.Config.LogFormat, m.Config.LogLevel)
	switch m.Config.Command {
	case "stats":
		return m.runStats(ctx)
	case "backup":
		return m.runBackup(ctx)
	case "migrate-store":
		return m.runMigrateStore(ctx)
	}

	k, err := m.loadKB()
	if err != nil {
		return err
	}
	serving := m.serving()
	engineOpts := conversation.EngineOptions{Lang: m.Config.Lang, HandoffTTL: m.Config.Handoff.TTL, HandoffSignature: m.Config.Handoff.Signature}
	var serviceOpts conversation.ServiceOptions
	if target, ok := m.Config.Handoff.target(); ok && serving {
		engineOpts.Handoff = true
		serviceOpts.Handoff = &target
	}
	engine, err := conversation.NewEngine(k, engineOpts)
	if err != nil {
		return err
	}
	store, err := m.openStore(ctx, log, serving)
	if err != nil {
		return err
	}
	m.closers = append(m.closers, store)
	var metrics *metrics
	var health *health
	if serving {
		metrics = newMetrics(time.Now)
		health = newHealth(storeHealth{store, m.Config.PostgresURL != ""})
		serviceOpts.Observe = func(in conversation.Inbound, res conversation.Result, err error, took time.Duration) {
			metrics.observe(in, res, err, took)
			health.commitDone(err)
		}
	}
	svc := conversation.NewService(engine, store, serviceOpts)

	sweepCtx, stopSweep := context.WithCancel(ctx)
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		svc.SweepExpired(sweepCtx, time.Hour, conversation.Retention{Dialogs: m.Config.DialogTTL, Inbound: 24 * time.Hour, Events: m.Config.EventsTTL}, log)
	}()
	// The sweeper must be gone before Close closes the store under it.
	defer func() { stopSweep(); <-sweepDone }()

	if !serving {
		return m.chat(ctx, svc, store, log)
	}
	// One hub for every platform; with several replicas on PostgreSQL, one replica sends
	// each platform's replies at a time.
	hub := conversation.NewHub(svc, conversation.DispatcherOptions{Log: log})
	var elector conversation.Elector
	if pg, ok := store.(*pgstore.Store); ok {
		elector = pgElector{pg}
	}
	env := platformEnv{hub: hub, kb: k, lang: engine.DefaultLang(), store: store, elector: elector, log: log, mux: http.NewServeMux(), metrics: metrics, health: health}
	var platforms []func(context.Context) error
	if env.pictures = m.pictures(ctx, hub, log); env.pictures != nil {
		// Stopping, it hands the pictures still waiting to the hub, which stops after it.
		platforms = append(platforms, func(ctx context.Context) error { env.pictures.Run(ctx); return nil })
	}
	for _, p := range []struct {
		enabled bool
		setup   func(platformEnv) (func(context.Context) error, error)
	}{
		{m.Config.Telegram.enabled(), m.setupTelegram},
		{m.Config.Slack.enabled(), m.setupSlack},
	} {
		if !p.enabled {
			continue
		}
		run, err := p.setup(env)
		if err != nil {
			return err
		}
		platforms = append(platforms, run)
	}
	env.mux.Handle("GET /healthz", env.health)
	env.mux.Handle("GET /metrics", metrics.handler())
	return m.serve(ctx, env, platforms)
}

// chat runs the terminal chat: the console adapter on a hub of its own, without a flood
// guard (its input may be a script), until the input ends. On bbolt it serves the admin
// listener too: the chat holds the file locked, and "bot stats" and "bot backup" ask there.
func (m *Main) chat(ctx context.Context, svc *conversation.Service, store servingStore, log *slog.Logger) error {
	if bolt, ok := store.(*boltstore.Store); ok {
		admin, err := m.listenAdmin(bolt, log)
		if err != nil {
			return err
		}
		if admin != nil {
			go func() {
				if err := admin.srv.Serve(admin.ln); !errors.Is(err, http.ErrServerClosed) {
					log.Error("admin listener", "err", err)
				}
			}()
			defer func() {
				// A backup in progress finishes, as when a served bot stops.
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
				defer cancel()
				_ = admin.srv.Shutdown(ctx) // the chat has ended either way
			}()
		}
	}
	hub := conversation.NewHub(svc, conversation.DispatcherOptions{FloodLimit: -1, Workers: 1, Log: log})
	chat := console.New(hub, console.Options{In: m.stdin, Out: m.stdout, JSON: m.Config.JSON, User: m.Config.User})
	if _, err := hub.AddPlatform(conversation.OutboxOptions{Platform: console.Platform, Sender: chat, Log: log}); err != nil {
		return err
	}
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	hubDone := make(chan struct{})
	go func() { hub.Run(hubCtx); close(hubDone) }()
	err := chat.Run(ctx)
	stopHub()
	<-hubDone
	return err
}

// platformEnv is what a platform's setup is given.
type platformEnv struct {
	hub     *conversation.Hub
	kb      *kb.KB
	lang    string // the default language, matched to the kb's (BOT_LANG)
	store   servingStore
	elector conversation.Elector // nil: this process is the only replica
	log     *slog.Logger
	// mux is served on Config.HTTPAddr; adapters register their webhook handlers on it.
	mux     *http.ServeMux
	metrics *metrics
	// health is told whether each platform answers; it serves /healthz.
	health *health
	// pictures reads the screenshots people send; nil: Tesseract is not there.
	pictures *ocr.Queue
}

// addOutbox adds the Outbox of an adapter's platform to the hub, with its limits, its
// metrics and, among several replicas, the election of its one sender.
func (env platformEnv) addOutbox(platform string, sender conversation.Sender, limits conversation.Limits) error {
	env.metrics.serve(platform)
	_, err := env.hub.AddPlatform(conversation.OutboxOptions{
		Platform: platform,
		Sender:   sender,
		Limits:   limits,
		Elector:  env.elector,
		Metrics:  env.metrics.platform(platform),
		Log:      env.log,
	})
	return err
}

// serve runs the hub, the platforms, the HTTP server (webhooks, /healthz, /metrics) and the
// admin listener until ctx is done or one of them fails.
func (m *Main) serve(ctx context.Context, env platformEnv, platforms []func(context.Context) error) error {
	addr := m.Config.HTTPAddr
	if addr == "" {
		addr = defaultHTTPAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("BOT_HTTP_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Addr: addr, Handler: env.mux, ReadHeaderTimeout: 10 * time.Second}
	// The admin listener hands out the bbolt file a running bot holds locked; PostgreSQL
	// needs none: stats read it directly, and pg_dump backs it up.
	var admin *adminServer
	if bolt, ok := env.store.(*boltstore.Store); ok {
		if admin, err = m.listenAdmin(bolt, env.log); err != nil {
			ln.Close()
			return err
		}
	}

	// The hub stops last: first the adapters stop taking updates and the HTTP server its
	// requests, each waiting for the commits it asked for; then the dispatcher and the
	// outboxes, which send what they can.
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	hubDone := make(chan struct{})
	go func() { env.hub.Run(hubCtx); close(hubDone) }()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { env.health.probe(ctx, healthProbeEvery); return nil })
	for _, run := range platforms {
		g.Go(func() error { return run(ctx) })
	}
	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	if admin != nil {
		servers, listeners = append(servers, admin.srv), append(listeners, admin.ln)
	}
	for i, s := range servers {
		g.Go(func() error {
			if err := s.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		var errs []error
		for _, s := range servers {
			errs = append(errs, s.Shutdown(shutdownCtx))
		}
		return errors.Join(errs...)
	})
	adminAddr := "off"
	if admin != nil {
		adminAddr = m.Config.Admin.String()
	}
	env.log.Info("serving", "http", ln.Addr().String(), "admin", adminAddr, "store", m.storeName())
	err = g.Wait()
	stopHub()
	<-hubDone
	return err
}

func (m *Main) loadKB() (*kb.KB, error) {
	if m.Config.KBDir == "" {
		return kb.Load(bot.Data(), nil)
	}
	if _, err := os.Stat(m.Config.KBDir); err != nil {
		return nil, fmt.Errorf("knowledge-base directory: %w", err)
	}
	return kb.Load(bot.Data(), os.DirFS(m.Config.KBDir))
}

// Close releases what Run opened.
func (m *Main) Close() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i].Close())
	}
	m.closers = nil
	return errors.Join(errs...)
}
