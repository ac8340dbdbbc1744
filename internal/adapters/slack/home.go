package slack

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/slack-go/slack"
)

// The App Home and the notes the adapter sends by itself: neither is a reply of a dialog, so
// neither is committed. They are sent after Slack has its answer, best effort (a failure is
// logged; the next app_home_opened publishes the home again).

// Texts of the home view and of the note, from the knowledge base.
const (
	// msgHomeIntro says what the bot does, at the top of the Home tab.
	msgHomeIntro = kb.MsgGreeting
	// msgHomeStart labels the Home tab's button starting a diagnosis.
	msgHomeStart = kb.MsgHomeStart
	// msgHomeSolutions heads the Home tab's solution buttons.
	msgHomeSolutions = kb.MsgAllSolutions
	// msgNotYourMenu tells someone that the menu they pressed is another person's.
	msgNotYourMenu = kb.MsgSlackNotYourMenu
	// msgHomeHint says where the conversation goes on, at the foot of the Home tab.
	msgHomeHint = kb.MsgHomeHint
)

// Block Kit identifiers of the home view. Its buttons' values are "<flow version>|<id>" like
// those of messages: conversation.ButtonRestart, or conversation.OpenButton of a solution.
const (
	homeBlockPrefix = "pdhome|"
	// maxViewBlocks is Block Kit's limit for a view.
	maxViewBlocks = 100
)

// homeView is the Home tab in lang: what the bot does, a button starting a diagnosis and a
// button per solution. Each button continues the person's dialog in their DM with the bot.
func homeView(k *kb.KB, lang string) slack.HomeTabViewRequest {
	var blocks []slack.Block
	section := func(text string) {
		for _, chunk := range splitText(escape(text), maxSectionText) {
			blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, chunk, false, false), nil, nil))
		}
	}
	button := func(action, id, label string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(action, k.Version+valueSep+id,
			slack.NewTextBlockObject(slack.PlainTextType, truncate(label, maxButtonText), false, false))
	}
	section(k.Text(lang, msgHomeIntro, nil))
	start := button(actionPrefix+"home:start", conversation.ButtonRestart, k.Text(lang, msgHomeStart, nil)).WithStyle(slack.StylePrimary)
	blocks = append(blocks, slack.NewActionBlock(homeBlockPrefix+"start", start), slack.NewDividerBlock())
	section(k.Text(lang, msgHomeSolutions, nil))
	var elems []slack.BlockElement
	for i, sol := range k.Solutions {
		elems = append(elems, button(actionPrefix+"home:"+strconv.Itoa(i), conversation.OpenButton(sol), k.Text(lang, kb.SolutionTitle(sol), nil)))
		if len(elems) == maxActionsBlock || i == len(k.Solutions)-1 {
			blocks = append(blocks, slack.NewActionBlock(homeBlockPrefix+"solutions|"+strconv.Itoa(len(blocks)), elems...))
			elems = nil
		}
	}
	section(k.Text(lang, msgHomeHint, nil))
	if len(blocks) > maxViewBlocks {
		blocks = blocks[:maxViewBlocks]
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// publishHome publishes the Home tab for user, in their language.
func (a *Adapter) publishHome(ctx context.Context, team, user string) error {
	locale, _ := a.locale(ctx, team, user)
	_, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: homeView(a.opts.KB, a.language(locale))})
	return err
}

// notYourMenu tells j.user privately, where the menu is, that it belongs to someone else and
// how to start their own.
func (a *Adapter) notYourMenu(ctx context.Context, j job) error {
	locale, _ := a.locale(ctx, j.team, j.user)
	text := escape(a.opts.KB.Text(a.language(locale), msgNotYourMenu, nil))
	msg := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if j.route.Thread != "" {
		msg = append(msg, slack.MsgOptionTS(j.route.Thread))
	}
	_, err := a.api.PostEphemeralContext(ctx, j.route.Channel, j.user, msg...)
	return err
}

// dmWait bounds conversations.open before a home press is committed, within commitWait.
const dmWait = time.Second

// commitHomePress commits a press on the App Home in the person's DM with the bot, the chat
// their DM messages are keyed to, so that it continues the same dialog; the reply is posted
// there.
func (a *Adapter) commitHomePress(ctx context.Context, j job) error {
	if _, err := a.ready(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, commitWait)
	defer cancel()
	channel, err := a.openDM(ctx, j.team, j.user)
	if err != nil {
		a.log.Warn("home button not handled", "err", err)
		return err
	}
	j.in.Key = conversation.Key{Chat: chatID(j.team, channel), User: j.user}
	j.route = route{Mode: modePost, Channel: channel}
	return a.commit(ctx, j)
}

// openDM returns the id of user's DM with the bot, opening it if need be.
func (a *Adapter) openDM(ctx context.Context, team, user string) (string, error) {
	key := team + "/" + user
	if ch, ok := a.dms.get(key); ok {
		return ch, nil
	}
	ctx, cancel := context.WithTimeout(ctx, dmWait)
	defer cancel()
	ch, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
	if err != nil {
		return "", fmt.Errorf("slack conversations.open: %w", err)
	}
	if ch == nil || ch.ID == "" {
		return "", fmt.Errorf("slack conversations.open: no channel")
	}
	a.dms.put(key, ch.ID)
	return ch.ID, nil
}

// dmCache maps team/user to their DM with the bot, which never changes.
type dmCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *dmCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.m[key]
	return ch, ok
}

func (c *dmCache) put(key, channel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[string]string)
	}
	c.m[key] = channel
}

// maxNotes bounds the notes and home views being sent at once; more are dropped (and logged),
// so that presses on other people's menus cannot pile up calls.
const maxNotes = 32

// noteWait bounds one note or home view, users.info included.
const noteWait = 10 * time.Second

// background runs the sends that come after Slack's answer, while Run runs: stop cancels
// them and waits for them.
type background struct {
	log *slog.Logger
	sem chan struct{}

	mu     sync.Mutex
	ctx    context.Context // nil unless running
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (b *background) start(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ctx, b.cancel = context.WithCancel(ctx)
}

func (b *background) stop() {
	b.mu.Lock()
	if b.cancel != nil {
		b.cancel()
	}
	b.ctx, b.cancel = nil, nil
	b.mu.Unlock()
	b.wg.Wait()
}

// spawn runs send in a goroutine, or drops it when not running or too many are running.
func (b *background) spawn(what string, send func(context.Context) error) {
	b.mu.Lock()
	ctx := b.ctx
	if ctx == nil {
		b.mu.Unlock()
		return
	}
	select {
	case b.sem <- struct{}{}:
	default:
		b.mu.Unlock()
		b.log.Warn("too many notes being sent; dropped one", "what", what)
		return
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		defer func() { <-b.sem }()
		sendCtx, cancel := context.WithTimeout(ctx, noteWait)
		defer cancel()
		if err := send(sendCtx); err != nil && ctx.Err() == nil { // not stopping
			b.log.Warn(what, "err", err)
		}
	}()
}
