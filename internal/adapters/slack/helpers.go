package slack

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/redact"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The helpers' side of a handoff. The bot posts each handoff's summary (and the person's
// messages while it is open) to the helpers' channel, Options.HandoffChannel, ending with a
// line "ref: <the person's dialog key>". A person's reply in the thread of such a message is
// a helper's answer to that person: the adapter reads the thread's first message
// (conversations.replies, once per thread) for its ref and commits the answer on the person's
// dialog, acknowledged in the thread. "done" or "/done" alone closes the handoff.

// helperJob: a message event outside DMs. Only a thread reply by a person can be a helper's
// answer; whether it is (the handoff channel, a thread of the bot's handoff messages) the
// adapter decides, in commitHelper.
func helperJob(team, inbound string, e *slackevents.MessageEvent) (job, bool) {
	if e.ChannelType == "im" || e.BotID != "" || e.User == "" || e.Channel == "" {
		return job{}, false
	}
	switch e.SubType {
	case "", "thread_broadcast", "file_share":
	default:
		return job{}, false // edits, deletions, bot messages, joins...
	}
	if e.ThreadTimeStamp == "" || e.ThreadTimeStamp == e.TimeStamp {
		return job{}, false // a top-level message: the bot answers only @mentions there
	}
	text := unescape(stripMentions(e.Text))
	if text == "" {
		return job{}, false
	}
	in := conversation.Input{Kind: conversation.InputHelperReply, Text: text}
	if strings.EqualFold(text, "done") || strings.EqualFold(text, "/done") {
		in = conversation.Input{Kind: conversation.InputHelperDone}
	}
	return job{
		kind: jobHelper,
		team: team,
		user: e.User,
		in: conversation.Inbound{
			Turn:  conversation.Turn{InboundID: inbound},
			Input: in,
			At:    tsTime(e.TimeStamp),
		},
		route: route{Mode: modePost, Channel: e.Channel, Thread: e.ThreadTimeStamp},
	}, true
}

// unescape undoes Slack's escaping of &, < and > in message text.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// commitHelper commits a helper's answer (j from helperJob) on the dialog of the person the
// thread is about. A message anywhere but in a thread of the bot's handoff messages in the
// handoff channel relays nothing.
func (a *Adapter) commitHelper(ctx context.Context, j job) error {
	channel := a.opts.HandoffChannel
	if channel == "" || j.route.Channel != channel {
		return nil
	}
	self, err := a.ready(ctx)
	if err != nil {
		return err
	}
	if j.user == self.UserID {
		return nil // its own message
	}
	ctx, cancel := context.WithTimeout(ctx, commitWait)
	defer cancel()
	person, ok, err := a.threadRef(ctx, self, channel, j.route.Thread)
	if err != nil || !ok {
		return err
	}
	_, name := a.locale(ctx, j.team, j.user)
	in := j.in
	in.Key = person
	in.ReplyKey = conversation.Key{Platform: Platform, Chat: chatID(j.team, channel), User: j.user}
	in.Route = j.route.encode()
	in.Input.From = conversation.Person{Name: name, Reach: "<@" + j.user + ">"}
	return a.submit(ctx, in)
}

// handoffMention reports whether j, an @mention, was written in a thread of a handoff in the
// handoff channel: the message event for the same message relays it to the person, so the
// mention is not answered.
func (a *Adapter) handoffMention(ctx context.Context, j job) (bool, error) {
	if !j.threadReply || a.opts.HandoffChannel == "" || j.route.Channel != a.opts.HandoffChannel {
		return false, nil
	}
	self, err := a.ready(ctx)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, commitWait)
	defer cancel()
	_, ok, err := a.threadRef(ctx, self, j.route.Channel, j.route.Thread)
	return ok, err
}

// threadWait bounds the conversations.replies call that finds what a thread is about.
const threadWait = time.Second

// threadRef returns the dialog the thread thread of channel is about: the ref of its first
// message, if the bot posted it. ok is false for any other thread. An error means it could
// not be known now (Slack is to send the message again).
func (a *Adapter) threadRef(ctx context.Context, self *slack.AuthTestResponse, channel, thread string) (key conversation.Key, ok bool, err error) {
	if e, found := a.threads.get(channel, thread); found {
		return e.key, e.ok, nil
	}
	ctx, cancel := context.WithTimeout(ctx, threadWait)
	defer cancel()
	msgs, _, _, err := a.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: thread, Limit: 1,
	})
	if err != nil {
		if permanent(err) {
			// missing_scope, not_in_channel, thread_not_found...: asking again cannot help.
			a.log.Warn("conversations.replies refused; helper's message not relayed", "err", err)
			return conversation.Key{}, false, nil
		}
		return conversation.Key{}, false, err
	}
	if len(msgs) > 0 && msgs[0].Timestamp == thread && (msgs[0].User == self.UserID || msgs[0].BotID != "" && msgs[0].BotID == self.BotID) {
		key, ok = messageRef(msgs[0])
	}
	a.threads.put(channel, thread, threadEntry{key: key, ok: ok})
	return key, ok, nil
}

// quoteThreadStart gives a person's first @mention in a thread the thread's first message to
// read with it (Input.Quoted): "@bot?" under a pasted checkout error asks about the error.
// Their later mentions there are read on their own words ("@bot it worked"), and the first
// message is fetched once per thread. A bot's first message, a deleted one, or one that
// mentions this bot (answered already) is not read; nor is anything when Slack does not
// tell within quoteWait, and the mention is answered on its own words.
func (a *Adapter) quoteThreadStart(ctx context.Context, self *slack.AuthTestResponse, j *job) {
	in := &j.in.Input
	if in.Kind == conversation.InputText && strings.HasPrefix(in.Text, "/") || in.Kind != conversation.InputText && in.Kind != conversation.InputResume {
		return
	}
	start, found := a.starts.read(j.route.Channel, j.route.Thread, j.in.Key.User)
	if !found {
		ctx, cancel := context.WithTimeout(ctx, quoteWait)
		defer cancel()
		msgs, _, _, err := a.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: j.route.Channel, Timestamp: j.route.Thread, Limit: 1,
		})
		if err != nil {
			a.log.Warn("conversations.replies failed; the mention is read without its thread", "err", err)
			return
		}
		if len(msgs) > 0 && quotable(msgs[0], self, j.route.Thread) {
			start = threadStart{text: unescape(stripMentions(msgs[0].Text)), author: msgs[0].User}
		}
		// The memory keeps it redacted; this mention gets it whole, for the engine to redact
		// and, if it is the asker's own message, to warn about the card data in it.
		kept := start
		kept.text, _ = redact.RedactKeys(start.text) // keys first, as the engine does
		kept.text, _ = redact.Redact(kept.text)
		a.starts.put(j.route.Channel, j.route.Thread, kept, j.in.Key.User)
	}
	if start.text == "" {
		return
	}
	in.Quoted, in.QuotedOwn = start.text, start.author == j.in.Key.User
	if in.Kind == conversation.InputResume {
		in.Kind = conversation.InputText
	}
}

// quoteWait bounds the conversations.replies call for a thread's first message: the commit
// that follows has to fit in commitWait with the locale lookup before it.
const quoteWait = 500 * time.Millisecond

// quotable reports whether m, the first message of thread, is one a mention in the thread
// asks about: a person's message as they wrote it (not a deleted one's placeholder, an edit
// or a join), that did not mention the bot itself.
func quotable(m slack.Message, self *slack.AuthTestResponse, thread string) bool {
	switch m.SubType {
	case "", "file_share", "thread_broadcast":
	default:
		return false // tombstone (deleted, replies kept), bot_message, channel_join...
	}
	return m.Timestamp == thread && m.BotID == "" && m.User != "" && m.User != "USLACKBOT" &&
		m.User != self.UserID && !strings.Contains(m.Text, "<@"+self.UserID+">")
}

// startCache remembers threads' first messages as a mention reads them (redacted, or "" when
// not to be read) and who has had them read. Bounded like threadCache.
type startCache struct {
	mu sync.Mutex
	m  map[string]*startEntry
}

// threadStart is a thread's first message as a mention reads it: its text (empty when it is
// not to be read; redacted in startCache) and who wrote it.
type threadStart struct {
	text, author string
}

type startEntry struct {
	threadStart
	readBy []string
}

// read returns the first message of thread for user to read (an empty one when they read it
// already), and found false when it is not known.
func (c *startCache) read(channel, thread, user string) (start threadStart, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[channel+"/"+thread]
	if !ok {
		return threadStart{}, false
	}
	if slices.Contains(e.readBy, user) {
		return threadStart{}, true
	}
	e.readBy = append(e.readBy, user)
	return e.threadStart, true
}

// put remembers start as thread's first message, read by user.
func (c *startCache) put(channel, thread string, start threadStart, user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxThreads {
		c.m = make(map[string]*startEntry)
	}
	c.m[channel+"/"+thread] = &startEntry{threadStart: start, readBy: []string{user}}
}

// messageRef is the ref of one of the bot's messages: in its text, or, when the fallback text
// was cut short, in its section blocks.
func messageRef(m slack.Message) (conversation.Key, bool) {
	if key, ok := conversation.HandoffRef(unescape(m.Text)); ok {
		return key, true
	}
	var b strings.Builder
	for _, block := range m.Blocks.BlockSet {
		if s, ok := block.(*slack.SectionBlock); ok && s.Text != nil {
			b.WriteString(s.Text.Text)
		}
	}
	return conversation.HandoffRef(unescape(b.String()))
}

// rememberPosted notes the ref of a message the bot just posted at the top of the handoff
// channel as ts, so that the first answer in its thread needs no conversations.replies.
func (a *Adapter) rememberPosted(r route, ts string, reply conversation.Reply) {
	if ts == "" || a.opts.HandoffChannel == "" || r.Mode != modePost || r.Channel != a.opts.HandoffChannel || r.Thread != "" {
		return
	}
	if key, ok := conversation.HandoffRef(reply.Text); ok {
		a.threads.put(r.Channel, ts, threadEntry{key: key, ok: true})
	}
}

// maxThreads bounds the thread cache.
const maxThreads = 10000

// threadCache maps a thread of the handoff channel to the dialog it is about, or to nothing
// (ok false) for a thread that is not a handoff's.
type threadCache struct {
	mu sync.Mutex
	m  map[string]threadEntry
}

type threadEntry struct {
	key conversation.Key
	ok  bool
}

func (c *threadCache) get(channel, thread string) (threadEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[channel+"/"+thread]
	return e, ok
}

func (c *threadCache) put(channel, thread string, e threadEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxThreads {
		c.m = make(map[string]threadEntry)
	}
	c.m[channel+"/"+thread] = e
}
