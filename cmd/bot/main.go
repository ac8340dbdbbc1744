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
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"golang.org/x/sync/errgroup"
)

func main() {
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
	Command   string // "" (serve what is configured), "chat"
	DB        string
	Lang      string
	KBDir     string
	DialogTTL time.Duration

	// HTTPAddr is where webhooks (and later /healthz, /metrics) are served. Empty: only when a
	// platform needs it, on defaultHTTPAddr.
	HTTPAddr string

	// chat
	User string
	JSON bool

	Telegram TelegramConfig
	Slack    SlackConfig
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
  bot [flags]          serve the platforms configured below; with none, chat in this terminal
  bot chat [flags]     chat in this terminal (--json: one JSON object per line, for scripts)

Flags:
`

const envHelp = `
Environment (flags win over the environment):
  BOT_DB                   bbolt database file (--db)                        default: paydoctor.db
  BOT_LANG                 default language, zh-Hans or en (--lang)          default: zh-Hans
  BOT_KB_DIR               directory overriding the knowledge base (--kb): flow/flow.toml,
                           locales/active.<lang>.toml, phrases/<lang>.toml   default: built in
  BOT_DIALOG_TTL           idle dialogs are deleted after this (--dialog-ttl) default: 720h
  BOT_HTTP_ADDR            listen address for webhooks                       default: :8080

  TELEGRAM_BOT_TOKEN       serve Telegram with this token (from @BotFather)
  TELEGRAM_API_ENDPOINT    Bot API URL, token and method as %s               default: https://api.telegram.org/bot%s/%s
  TELEGRAM_WEBHOOK_URL     public https URL of /telegram/webhook; unset: long polling
  TELEGRAM_WEBHOOK_SECRET  secret Telegram sends with each webhook call      default: generated

  SLACK_BOT_TOKEN          serve Slack with this bot token (xoxb-...)
  SLACK_SIGNING_SECRET     HTTP mode: verifies /slack/commands, /slack/events, /slack/interactions
  SLACK_APP_TOKEN          Socket Mode app-level token (xapp-...), for workspaces without a public URL
  SLACK_API_URL            Slack Web API base URL                            default: https://slack.com/api/
`

// ParseFlags reads the command line and the environment into m.Config.
func (m *Main) ParseFlags(args []string) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		m.Config.Command, args = args[0], args[1:]
	}
	switch m.Config.Command {
	case "", "chat":
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
	fs.StringVar(&c.DB, "db", m.env("BOT_DB", "paydoctor.db"), "bbolt database `file`")
	fs.StringVar(&c.Lang, "lang", m.env("BOT_LANG", "zh-Hans"), "default `language` (zh-Hans or en)")
	fs.StringVar(&c.KBDir, "kb", m.env("BOT_KB_DIR", ""), "`directory` with knowledge-base files overriding the built-in ones")
	ttl, err := time.ParseDuration(m.env("BOT_DIALOG_TTL", "720h"))
	if err != nil {
		return fmt.Errorf("BOT_DIALOG_TTL: %w", err)
	}
	fs.DurationVar(&c.DialogTTL, "dialog-ttl", ttl, "delete dialogs idle for this long")
	fs.StringVar(&c.User, "user", m.env("USER", "local"), "chat: whose dialog this is; the same name continues it")
	fs.BoolVar(&c.JSON, "json", false, "chat: read and write one JSON object per line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.HTTPAddr = m.getenv("BOT_HTTP_ADDR")
	if c.Telegram, err = telegramConfigFromEnv(m.getenv); err != nil {
		return err
	}
	if c.Slack, err = slackConfigFromEnv(m.getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (run bot --help)", fs.Arg(0))
	}
	if c.DialogTTL <= 0 {
		return fmt.Errorf("--dialog-ttl must be positive, got %s", c.DialogTTL)
	}
	return nil
}

func (m *Main) env(name, def string) string {
	if v := m.getenv(name); v != "" {
		return v
	}
	return def
}

// Run starts what the configuration asks for and returns when it ends or ctx is done.
func (m *Main) Run(ctx context.Context) error {
	log := slog.New(slog.NewTextHandler(m.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	k, err := m.loadKB()
	if err != nil {
		return err
	}
	engine, err := conversation.NewEngine(k, m.Config.Lang)
	if err != nil {
		return err
	}
	store, err := boltstore.Open(m.Config.DB, boltstore.Options{})
	if err != nil {
		return err
	}
	m.closers = append(m.closers, store)
	svc := conversation.NewService(engine, store, nil)

	sweepCtx, stopSweep := context.WithCancel(ctx)
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		svc.SweepExpired(sweepCtx, time.Hour, m.Config.DialogTTL, 24*time.Hour, log)
	}()
	// The sweeper must be gone before Close closes the store under it.
	defer func() { stopSweep(); <-sweepDone }()

	env := platformEnv{svc: svc, store: store, log: log, mux: http.NewServeMux()}
	var platforms []func(context.Context, platformEnv) error
	if m.Config.Command == "" && m.Config.Telegram.enabled() {
		platforms = append(platforms, m.runTelegram)
	}
	if m.Config.Command == "" && m.Config.Slack.enabled() {
		platforms = append(platforms, m.runSlack)
	}
	if len(platforms) == 0 {
		chat := console.New(svc, console.Options{In: m.stdin, Out: m.stdout, JSON: m.Config.JSON, User: m.Config.User})
		return chat.Run(ctx)
	}
	return m.serve(ctx, env, platforms)
}

// platformEnv is what a platform adapter is started with.
type platformEnv struct {
	svc   *conversation.Service
	store conversation.Store
	log   *slog.Logger
	// mux is served on Config.HTTPAddr; adapters register their webhook handlers on it.
	mux *http.ServeMux
}

// serve runs the platforms and, if any registered a handler or BOT_HTTP_ADDR is set, the HTTP
// server, until ctx is done or one of them fails.
func (m *Main) serve(ctx context.Context, env platformEnv, platforms []func(context.Context, platformEnv) error) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, run := range platforms {
		g.Go(func() error { return run(ctx, env) })
	}
	addr := m.Config.HTTPAddr
	if addr == "" {
		addr = defaultHTTPAddr
	}
	srv := &http.Server{Addr: addr, Handler: env.mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("BOT_HTTP_ADDR %s: %w", addr, err)
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	return g.Wait()
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
