package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackadapter "github.com/paydoctor/bot/internal/adapters/slack"
	"github.com/paydoctor/bot/internal/adapters/telegram"
	"github.com/paydoctor/bot/internal/conversation"
)

// HandoffConfig is where /human posts its summary: at most one of the two is set.
type HandoffConfig struct {
	TelegramChat   int64  // BOT_HANDOFF_TELEGRAM_CHAT; 0: none
	TelegramThread int    // its forum topic (chat_id/thread_id); 0: none
	SlackChannel   string // BOT_HANDOFF_SLACK_CHANNEL; "": none
	// TTL is how long a handoff stays open (BOT_HANDOFF_TTL); zero: the engine's default.
	TTL time.Duration
	// Signature signs the helpers' answers to the person (BOT_HANDOFF_SIGNATURE): empty,
	// the helper's first name.
	Signature string
}

// target returns the conversation.HandoffTarget, addressed the way the target platform's
// adapter reads routes, and whether one is configured.
func (c HandoffConfig) target() (conversation.HandoffTarget, bool) {
	switch {
	case c.TelegramChat != 0:
		key, route := telegram.HandoffRoute(c.TelegramChat, c.TelegramThread)
		return conversation.HandoffTarget{Key: key, Route: route}, true
	case c.SlackChannel != "":
		key, route := slackadapter.HandoffRoute(c.SlackChannel)
		return conversation.HandoffTarget{Key: key, Route: route}, true
	}
	return conversation.HandoffTarget{}, false
}

var slackChannelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

func handoffConfigFromEnv(getenv func(string) string, tg TelegramConfig, sl SlackConfig) (HandoffConfig, error) {
	var c HandoffConfig
	tgChat := strings.TrimSpace(getenv("BOT_HANDOFF_TELEGRAM_CHAT"))
	slChannel := strings.TrimSpace(getenv("BOT_HANDOFF_SLACK_CHANNEL"))
	if tgChat != "" && slChannel != "" {
		return c, errors.New("BOT_HANDOFF_TELEGRAM_CHAT and BOT_HANDOFF_SLACK_CHANNEL are both set: summaries go to one place, set only one")
	}
	if tgChat != "" {
		chat, topic, hasTopic := strings.Cut(tgChat, "/")
		id, err := strconv.ParseInt(chat, 10, 64)
		thread := 0
		if err == nil && hasTopic {
			thread, err = strconv.Atoi(topic)
			if thread <= 0 {
				err = errors.New("not a topic")
			}
		}
		if err != nil || id == 0 {
			return c, fmt.Errorf("BOT_HANDOFF_TELEGRAM_CHAT %q: want a Telegram chat id, an integer such as -1001234567890 (a group) or 123456789 (a person), optionally with a forum topic's thread id, as in -1001234567890/42", tgChat)
		}
		c.TelegramThread = thread
		if !tg.enabled() {
			return c, errors.New("BOT_HANDOFF_TELEGRAM_CHAT is set but TELEGRAM_BOT_TOKEN is not: the summaries are posted by the bot's Telegram account")
		}
		c.TelegramChat = id
	}
	if ttl := strings.TrimSpace(getenv("BOT_HANDOFF_TTL")); ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("BOT_HANDOFF_TTL %q: want a duration such as 72h", ttl)
		}
		c.TTL = d
	}
	c.Signature = strings.TrimSpace(getenv("BOT_HANDOFF_SIGNATURE"))
	if slChannel != "" {
		if !slackChannelID.MatchString(slChannel) {
			return c, fmt.Errorf("BOT_HANDOFF_SLACK_CHANNEL %q: want a channel id such as C0123ABCD or G0123ABCD (in Slack: the channel's details, at the bottom), not its name", slChannel)
		}
		if !sl.enabled() {
			return c, errors.New("BOT_HANDOFF_SLACK_CHANNEL is set but SLACK_BOT_TOKEN is not: the summaries are posted by the bot's Slack app")
		}
		c.SlackChannel = slChannel
	}
	return c, nil
}

func logConfigFromEnv(getenv func(string) string, serving bool) (format string, level slog.Level, err error) {
	format = strings.ToLower(strings.TrimSpace(getenv("BOT_LOG_FORMAT")))
	switch format {
	case "", "text", "json":
	default:
		return "", 0, fmt.Errorf("BOT_LOG_FORMAT %q: want text or json", format)
	}
	level = slog.LevelWarn
	if serving {
		level = slog.LevelInfo
	}
	if v := strings.TrimSpace(getenv("BOT_LOG_LEVEL")); v != "" {
		switch strings.ToLower(v) {
		case "debug":
			level = slog.LevelDebug
		case "info":
			level = slog.LevelInfo
		case "warn", "warning":
			level = slog.LevelWarn
		case "error":
			level = slog.LevelError
		default:
			return "", 0, fmt.Errorf("BOT_LOG_LEVEL %q: want debug, info, warn or error", v)
		}
	}
	return format, level, nil
}

// AdminAddr is where a running bot answers "bot stats" and "bot backup": a Unix socket or
// a loopback TCP address, never a public one.
type AdminAddr struct {
	Network string // "unix" or "tcp"; "" when off
	Addr    string
}

func (a AdminAddr) String() string {
	if a.Network == "" {
		return "off"
	}
	return a.Network + ":" + a.Addr
}

// parseAdminAddr reads BOT_ADMIN_ADDR: empty means a Unix socket next to the database file.
func parseAdminAddr(s, db string) (AdminAddr, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return AdminAddr{Network: "unix", Addr: db + ".admin.sock"}, nil
	case s == "off":
		return AdminAddr{}, nil
	case strings.HasPrefix(s, "unix:"):
		s = strings.TrimPrefix(s, "unix:")
		if s == "" {
			return AdminAddr{}, errors.New("unix: needs a socket path, such as unix:/run/paydoctor/admin.sock")
		}
		return AdminAddr{Network: "unix", Addr: s}, nil
	case filepath.IsAbs(s) || strings.HasPrefix(s, "."):
		return AdminAddr{Network: "unix", Addr: s}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return AdminAddr{}, fmt.Errorf("%q: want a Unix socket path (unix:PATH) or a loopback address such as 127.0.0.1:9091", s)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return AdminAddr{}, fmt.Errorf("%q: the admin listener hands out the whole database, so it listens only on a Unix socket or loopback (127.0.0.1, ::1, localhost), never on %q", s, host)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return AdminAddr{}, fmt.Errorf("%q: bad port", s)
	}
	return AdminAddr{Network: "tcp", Addr: s}, nil
}

// parsePeriod reads "7d", "2w", "12h", "90m" and anything time.ParseDuration reads.
func parsePeriod(s string) (time.Duration, error) {
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	var d time.Duration
	if unit != 0 {
		n, err := strconv.ParseFloat(s[:len(s)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%q: want a period such as 7d, 2w or 12h", s)
		}
		d = time.Duration(n * float64(unit))
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: want a period such as 7d, 2w or 12h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: want a positive period", s)
	}
	return d, nil
}
