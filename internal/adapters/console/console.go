// Package console is the terminal adapter: the same conversation as on Telegram and Slack,
// in a shell. Interactive mode numbers the choices; JSON mode (for scripts and tests) reads
// one input per line, plain text or {"text": "..."} or {"button": "<id>"}, and writes one
// JSON reply per line.
package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/paydoctor/bot/internal/conversation"
)

// Platform is the platform name of terminal dialogs.
const Platform = "console"

// maxLine bounds what is kept of one input line; the rest of a longer line is read and
// dropped (the engine reads only the first few kilobytes anyway).
const maxLine = 1 << 20

// Options configures a Chat.
type Options struct {
	In  io.Reader
	Out io.Writer
	// JSON selects the line-oriented JSON protocol instead of the interactive one.
	JSON bool
	// User names whose dialog this is; the same name continues the same dialog.
	User string
}

// inlet is where the chat hands what is typed: conversation.Hub.
type inlet interface {
	Submit(ctx context.Context, in conversation.Inbound, done func(error)) error
}

// Chat is one terminal conversation, and the console platform's conversation.Sender: the
// smallest adapter there is (docs/adapters.md). What is typed goes to the hub as an Inbound;
// replies come back through the platform's Outbox to Send, which prints them.
type Chat struct {
	inlet inlet
	opts  Options
	key   conversation.Key

	mu sync.Mutex
	// last holds the buttons of the last reply printed, so that "2" presses its second.
	last []conversation.Button
	// waiting counts inputs whose reply is not printed yet; printed is signalled at each
	// reply, so that the prompt comes after the answer.
	waiting int
	printed chan struct{}
}

// New returns a Chat for opts.User, handing input to hub.
func New(hub inlet, opts Options) *Chat {
	if opts.User == "" {
		opts.User = "local"
	}
	return &Chat{inlet: hub, opts: opts, key: conversation.Key{Platform: Platform, Chat: opts.User, User: opts.User}, printed: make(chan struct{}, 1)}
}

// Run talks until the input ends, "quit" or "exit" is typed, or ctx is done. The hub must be
// running.
func (c *Chat) Run(ctx context.Context) error {
	if !c.opts.JSON {
		// Interactive: greet a new user, or show a returning one where they left off.
		if err := c.handle(ctx, conversation.Input{Kind: conversation.InputResume}); err != nil {
			return err
		}
	}
	in := bufio.NewReader(c.opts.In)
	for {
		if !c.opts.JSON {
			fmt.Fprint(c.opts.Out, "> ")
		}
		raw, err := readLine(in, maxLine)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		line := strings.TrimSpace(raw)
		if line == "" && !c.opts.JSON {
			continue
		}
		if !c.opts.JSON && (line == "quit" || line == "exit") {
			return nil
		}
		in, err := c.parse(line)
		if err != nil {
			return err
		}
		if err := c.handle(ctx, in); err != nil {
			return err
		}
	}
}

// readLine returns the next line without its end, keeping at most limit bytes of it. At the
// end of the input it returns the last line if there is one, then io.EOF.
func readLine(r *bufio.Reader, limit int) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line) < limit {
			line = append(line, chunk[:min(len(chunk), limit-len(line))]...)
		}
		switch {
		case err == nil:
			return strings.TrimRight(string(line), "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return string(line), nil
		default:
			return "", err
		}
	}
}

func (c *Chat) parse(line string) (conversation.Input, error) {
	if c.opts.JSON && line == "" {
		// A script reads one reply per line it writes: a blank one gets where the dialog stands.
		return conversation.Input{Kind: conversation.InputResume}, nil
	}
	if c.opts.JSON && strings.HasPrefix(line, "{") {
		var msg map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &msg); err == nil {
			_, hasText := msg["text"]
			_, hasButton := msg["button"]
			// A field set to null is one not given, so that {"text": "hi", "button": null}
			// is text.
			given := func(key string) bool { v, ok := msg[key]; return ok && string(v) != "null" }
			var text, button string
			switch {
			case given("button") && json.Unmarshal(msg["button"], &button) == nil:
				return conversation.Input{Kind: conversation.InputButton, Text: button}, nil
			case !given("button") && given("text") && json.Unmarshal(msg["text"], &text) == nil:
				return conversation.Input{Kind: conversation.InputText, Text: text}, nil
			case hasText || hasButton:
				// {"button": 123}, {"button": null}: a message of the protocol with no text
				// to read and no button anyone was shown. Not text typed: its words would be
				// read as a description.
				return conversation.Input{Kind: conversation.InputUnsupported}, nil
			}
		}
		// Anything else that merely starts with "{" is text someone typed.
	}
	if !c.opts.JSON {
		c.mu.Lock()
		last := c.last
		c.mu.Unlock()
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(last) {
			return conversation.Input{Kind: conversation.InputButton, Text: last[n-1].ID}, nil
		}
	}
	return conversation.Input{Kind: conversation.InputText, Text: line}, nil
}

// handle commits one input and waits until its reply is printed.
func (c *Chat) handle(ctx context.Context, in conversation.Input) error {
	c.mu.Lock()
	c.waiting++
	c.mu.Unlock()
	committed := make(chan error, 1)
	if err := c.inlet.Submit(ctx, conversation.Inbound{Turn: conversation.Turn{Key: c.key}, Input: in}, func(err error) { committed <- err }); err != nil {
		return err
	}
	select {
	case err := <-committed:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		c.mu.Lock()
		done := c.waiting == 0
		c.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-c.printed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Send prints a reply. A reply committed for another terminal user but never printed (their
// chat ended first) is dropped: the dialog itself is stored, and reopening shows it.
func (c *Chat) Send(_ context.Context, d conversation.Delivery) error {
	if d.Key != c.key {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		c.waiting = max(c.waiting-1, 0)
		select {
		case c.printed <- struct{}{}:
		default:
		}
	}()
	if c.opts.JSON {
		// The format promises arrays, even empty; a reply read back from a store may hold
		// nil slices.
		r := d.Reply
		if r.Buttons == nil {
			r.Buttons = []conversation.Button{}
		}
		if r.Solutions == nil {
			r.Solutions = []string{}
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.opts.Out, "%s\n", b)
		return err
	}
	c.last = d.Reply.Buttons
	var b strings.Builder
	b.WriteString("\n")
	b.WriteString(d.Reply.Text)
	b.WriteString("\n")
	for i, btn := range d.Reply.Buttons {
		fmt.Fprintf(&b, "  %d) %s\n", i+1, btn.Label)
	}
	b.WriteString("\n")
	_, err := io.WriteString(c.opts.Out, b.String())
	return err
}
