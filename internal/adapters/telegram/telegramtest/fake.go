// Package telegramtest is an in-process fake of the Telegram Bot API for tests: it speaks the
// real wire protocol (form-encoded or JSON parameters in, {"ok": ..., "result": ...} out),
// holds updates for getUpdates with long polling and offsets, records every call, and can
// answer sendMessage with 429 Too Many Requests and retry_after as Telegram does: on demand
// (RateLimit) or whenever the bot sends faster than Telegram allows (EnforceLimits). It
// stores the files people send (AddFile), for getFile and the file download URL.
//
// Point the bot at it with Server.Endpoint, in the library's
// "https://api.telegram.org/bot%s/%s" format.
package telegramtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the token the fake accepts.
const Token = "123456:TEST-token-do-not-log"

// The bot the fake serves, as getMe returns it.
const (
	BotID       int64 = 7000000001
	BotUserName       = "paydoctor_bot"
)

// Call is one request the fake received.
type Call struct {
	Method string
	Params url.Values
	At     time.Time
}

// Button is an inline keyboard button of a sent message.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// Message is a message the bot sent with sendMessage and the fake accepted.
type Message struct {
	MessageID int
	ChatID    int64
	Thread    int    // the forum topic it was filed in; 0: General, or not a forum
	Text      string // as sent, with the parse mode's escaping
	ParseMode string
	ReplyTo   int
	Keyboard  [][]Button
	At        time.Time
}

// Buttons returns the keyboard's buttons in order.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// Server is the fake Bot API.
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	updates    []json.RawMessage // not yet confirmed, in update_id order
	ids        []int
	all        map[int]json.RawMessage // every update ever added, by update_id
	nextUpdate int
	nextMsg    int
	wake       chan struct{} // closed and replaced when an update arrives
	closing    chan struct{}
	calls      []Call
	sent       []Message
	limits     map[int64]*limit
	violations []string
	violated   int // sends before a retry_after ran out, all of them
	tooMany    int // 429s answered
	enforce    *enforcer
	msgWaiters []chan struct{}
	polling    int // getUpdates calls in flight
	// People's messages in forum topics (chat and message id to message_thread_id), those
	// deleted since, and chat members' statuses (getChatMember; "member" when not set).
	topics  map[chatMessage]int
	deleted map[chatMessage]bool
	members map[chatMember]string
	// files people sent (AddFile), by file_id, and how many were downloaded.
	files     map[string]*file
	downloads int
}

type chatMessage struct {
	chat int64
	id   int
}

type chatMember struct{ chat, user int64 }

type limit struct {
	times      int // how many more sends get a 429
	retryAfter int
	until      time.Time // sends before this are violations
}

// NewServer starts a fake Bot API, closed when the test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{nextUpdate: 100000, nextMsg: 1, wake: make(chan struct{}), closing: make(chan struct{}), limits: map[int64]*limit{}, all: map[int]json.RawMessage{},
		topics: map[chatMessage]int{}, deleted: map[chatMessage]bool{}, members: map[chatMember]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.closing)
		s.Server.Close()
	})
	return s
}

// Endpoint is the API endpoint in the library's format.
func (s *Server) Endpoint() string { return s.URL + "/bot%s/%s" }

// AddUpdate queues an update for getUpdates. update is the update without its update_id,
// which AddUpdate assigns and returns.
func (s *Server) AddUpdate(update map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdate++
	id := s.nextUpdate
	u := map[string]any{"update_id": id}
	for k, v := range update {
		u[k] = v
	}
	b, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	s.all[id] = b
	var m struct {
		Message *struct {
			MessageID       int  `json:"message_id"`
			MessageThreadID int  `json:"message_thread_id"`
			IsTopicMessage  bool `json:"is_topic_message"`
			Chat            struct {
				ID int64 `json:"id"`
			} `json:"chat"`
		} `json:"message"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != nil && m.Message.IsTopicMessage {
		s.topics[chatMessage{m.Message.Chat.ID, m.Message.MessageID}] = m.Message.MessageThreadID
	}
	s.updates = append(s.updates, b)
	s.ids = append(s.ids, id)
	close(s.wake)
	s.wake = make(chan struct{})
	return id
}

// DeleteMessage deletes message id of chat, as its author, an admin or an anti-spam bot does:
// a reply quoting it afterwards is filed as Telegram files it (see sendMessage).
func (s *Server) DeleteMessage(chat int64, id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted[chatMessage{chat, id}] = true
}

// SetMember sets what getChatMember says of user in chat: "creator", "administrator",
// "member", "left"...
func (s *Server) SetMember(chat, user int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[chatMember{chat, user}] = status
}

// Requeue offers the update with id again, as Telegram does with an update whose
// confirmation never reached it (the bot stopped after handling it, before its next
// getUpdates).
func (s *Server) Requeue(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.all[id]
	if !ok || slices.Contains(s.ids, id) {
		return
	}
	i, _ := slices.BinarySearch(s.ids, id)
	s.ids = slices.Insert(s.ids, i, id)
	s.updates = slices.Insert(s.updates, i, b)
	close(s.wake)
	s.wake = make(chan struct{})
}

// Polling returns how many getUpdates calls are in flight. A bot that stopped may leave one
// behind (the library's GetUpdates takes no context); its offset still confirms updates, so
// wait for it to end before Requeue.
func (s *Server) Polling() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polling
}

// Unconfirmed returns how many updates getUpdates has not had confirmed by an offset.
func (s *Server) Unconfirmed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// RateLimit makes the next times sendMessage calls to chat fail with 429 and retry_after
// seconds. A send to chat before retry_after ran out is recorded as a violation.
func (s *Server) RateLimit(chat int64, times, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[chat] = &limit{times: times, retryAfter: retryAfter}
}

// Limits are the sendMessage rates the fake enforces with EnforceLimits: token buckets, one
// over all chats and one per chat. A zero rate is not enforced.
type Limits struct {
	Global      float64 // messages a second over all chats
	GlobalBurst int     // at least 1
	Chat        float64 // messages a second to one chat
	ChatBurst   int     // at least 1
}

// TelegramLimits are Telegram's published limits for private chats, about 30 messages a
// second overall and about one a second per chat, with small bursts (Telegram does not publish
// its burst sizes; these allow a multi-part reply and a little jitter on the wire).
func TelegramLimits() Limits {
	return Limits{Global: 30, GlobalBurst: 5, Chat: 1, ChatBurst: 3}
}

// EnforceLimits makes sendMessage answer 429 Too Many Requests, with retry_after (whole
// seconds, at least 1, as Telegram gives it), whenever a send exceeds l; a send to that chat
// before its retry_after ran out is a violation, as with RateLimit. A refused send uses no
// token.
func (s *Server) EnforceLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.enforce = &enforcer{l: l, global: newBucket(l.Global, l.GlobalBurst, now), chats: map[int64]*bucket{}}
}

// TooMany returns how many 429 answers sendMessage gave.
func (s *Server) TooMany() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// ViolationCount returns how many sends came before a retry_after ran out (Violations lists
// only the first ten).
func (s *Server) ViolationCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violated
}

type enforcer struct {
	l      Limits
	global *bucket
	chats  map[int64]*bucket
}

// take returns how long a send to chat at now must wait, or 0 after taking its tokens.
func (e *enforcer) take(chat int64, now time.Time) time.Duration {
	c := e.chats[chat]
	if c == nil {
		c = newBucket(e.l.Chat, e.l.ChatBurst, now)
		e.chats[chat] = c
	}
	w := max(c.wait(now), e.global.wait(now))
	if w > 0 {
		return w
	}
	c.take()
	e.global.take()
	return 0
}

// bucket is a token bucket; a nil bucket (rate 0) never limits.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	if rate <= 0 {
		return nil
	}
	b := float64(max(burst, 1))
	return &bucket{rate: rate, burst: b, tokens: b, last: now}
}

// wait refills the bucket to now and returns how long until it holds a token.
func (b *bucket) wait(now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

func (b *bucket) take() {
	if b != nil {
		b.tokens--
	}
}

// Violations lists (the first ten) sends that came before a retry_after ran out.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Calls returns the calls of method received so far ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns the messages sent so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// MessagesTo returns the messages sent to chat so far.
func (s *Server) MessagesTo(chat int64) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.ChatID == chat {
			out = append(out, m)
		}
	}
	return out
}

// WaitMessages waits until at least n messages were sent in all and returns them, failing t
// after timeout.
func (s *Server) WaitMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		if len(s.sent) >= n {
			out := append([]Message(nil), s.sent...)
			s.mu.Unlock()
			return out
		}
		ch := make(chan struct{})
		s.msgWaiters = append(s.msgWaiters, ch)
		got := len(s.sent)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("telegramtest: %d messages sent, want at least %d within %s", got, n, timeout)
		}
	}
}

type response struct {
	OK          bool            `json:"ok"`
	Result      any             `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *map[string]int `json:"parameters,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/file/bot") {
		s.serveFile(w, r)
		return
	}
	// /bot<token>/<method>
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeJSON(w, http.StatusNotFound, response{ErrorCode: 404, Description: "Not Found"})
		return
	}
	if token != Token {
		writeJSON(w, http.StatusUnauthorized, response{ErrorCode: 401, Description: "Unauthorized"})
		return
	}
	params, err := readParams(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: " + err.Error()})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Params: params, At: time.Now()})
	s.mu.Unlock()

	switch method {
	case "getMe":
		writeJSON(w, http.StatusOK, response{OK: true, Result: map[string]any{
			"id": BotID, "is_bot": true, "first_name": "PayDoctor", "username": BotUserName,
			"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
		}})
	case "getUpdates":
		s.getUpdates(w, r, params)
	case "sendMessage":
		s.sendMessage(w, params)
	case "getChatMember":
		s.getChatMember(w, params)
	case "getFile":
		s.getFile(w, params)
	case "answerCallbackQuery", "setMyCommands", "setWebhook", "deleteWebhook":
		if method == "answerCallbackQuery" && params.Get("callback_query_id") == "" {
			writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: query is too old and response timeout expired or query ID is invalid"})
			return
		}
		writeJSON(w, http.StatusOK, response{OK: true, Result: true})
	default:
		writeJSON(w, http.StatusNotFound, response{ErrorCode: 404, Description: "Not Found: method not found"})
	}
}

func readParams(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.PostForm, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	v := url.Values{}
	for k, x := range m {
		if s, ok := x.(string); ok {
			v.Set(k, s)
			continue
		}
		enc, _ := json.Marshal(x)
		v.Set(k, string(enc))
	}
	return v, nil
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p url.Values) {
	offset, _ := strconv.Atoi(p.Get("offset"))
	timeout, _ := strconv.Atoi(p.Get("timeout"))
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	deadline := time.After(time.Duration(timeout) * time.Second)
	s.mu.Lock()
	s.polling++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.polling--
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		if offset > 0 { // confirm everything before offset
			i := 0
			for i < len(s.ids) && s.ids[i] < offset {
				i++
			}
			s.ids, s.updates = s.ids[i:], s.updates[i:]
		}
		if len(s.updates) > 0 || timeout == 0 {
			n := min(limit, len(s.updates))
			out := append([]json.RawMessage{}, s.updates[:n]...)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, response{OK: true, Result: out})
			return
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			writeJSON(w, http.StatusOK, response{OK: true, Result: []json.RawMessage{}})
			return
		case <-s.closing:
			writeJSON(w, http.StatusOK, response{OK: true, Result: []json.RawMessage{}})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) sendMessage(w http.ResponseWriter, p url.Values) {
	chat, err := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: chat not found"})
		return
	}
	text := p.Get("text")
	if err := checkText(text, p.Get("parse_mode")); err != nil {
		writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: " + err.Error()})
		return
	}
	var markup struct {
		InlineKeyboard [][]Button `json:"inline_keyboard"`
	}
	if m := p.Get("reply_markup"); m != "" {
		if err := json.Unmarshal([]byte(m), &markup); err != nil {
			writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: can't parse reply keyboard markup JSON object"})
			return
		}
		for _, row := range markup.InlineKeyboard {
			for _, b := range row {
				if n := len(b.CallbackData); n < 1 || n > 64 {
					writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: BUTTON_DATA_INVALID"})
					return
				}
			}
		}
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.limits[chat]; l != nil {
		if now.Before(l.until) {
			s.violated++
			if len(s.violations) < 10 {
				s.violations = append(s.violations, fmt.Sprintf("chat %d: send %s before retry_after ran out", chat, l.until.Sub(now)))
			}
			retry := int(l.until.Sub(now)/time.Second) + 1
			s.writeTooMany(w, retry)
			return
		}
		if l.times > 0 {
			l.times--
			l.until = now.Add(time.Duration(l.retryAfter) * time.Second)
			s.writeTooMany(w, l.retryAfter)
			return
		}
	}
	if s.enforce != nil {
		if wait := s.enforce.take(chat, now); wait > 0 {
			retry := int((wait + time.Second - 1) / time.Second) // whole seconds, rounded up
			l := s.limits[chat]
			if l == nil {
				l = &limit{}
				s.limits[chat] = l
			}
			l.until = now.Add(time.Duration(retry) * time.Second)
			s.writeTooMany(w, retry)
			return
		}
	}
	replyTo, _ := strconv.Atoi(p.Get("reply_to_message_id"))
	// The topic: message_thread_id, else the quoted message's, else General (0). A quoted
	// message that was deleted files the reply under General, or refuses it without
	// allow_sending_without_reply.
	thread, _ := strconv.Atoi(p.Get("message_thread_id"))
	if quoted := (chatMessage{chat, replyTo}); replyTo != 0 && s.deleted[quoted] {
		if p.Get("allow_sending_without_reply") != "true" {
			writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: message to be replied not found"})
			return
		}
		replyTo = 0
	} else if thread == 0 && replyTo != 0 {
		thread = s.topics[quoted]
	}
	msg := Message{MessageID: s.nextMsg, ChatID: chat, Thread: thread, Text: text, ParseMode: p.Get("parse_mode"), ReplyTo: replyTo, Keyboard: markup.InlineKeyboard, At: now}
	s.nextMsg++
	s.sent = append(s.sent, msg)
	for _, ch := range s.msgWaiters {
		close(ch)
	}
	s.msgWaiters = nil
	result := map[string]any{
		"message_id": msg.MessageID,
		"from":       map[string]any{"id": BotID, "is_bot": true, "first_name": "PayDoctor", "username": BotUserName},
		"chat":       map[string]any{"id": chat, "type": "private"},
		"date":       now.Unix(),
		"text":       text,
	}
	writeJSON(w, http.StatusOK, response{OK: true, Result: result})
}

func (s *Server) getChatMember(w http.ResponseWriter, p url.Values) {
	chat, err1 := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	user, err2 := strconv.ParseInt(p.Get("user_id"), 10, 64)
	if err1 != nil || err2 != nil {
		writeJSON(w, http.StatusBadRequest, response{ErrorCode: 400, Description: "Bad Request: invalid user_id specified"})
		return
	}
	s.mu.Lock()
	status, ok := s.members[chatMember{chat, user}]
	s.mu.Unlock()
	if !ok {
		status = "member"
	}
	writeJSON(w, http.StatusOK, response{OK: true, Result: map[string]any{
		"status": status, "user": map[string]any{"id": user, "is_bot": false, "first_name": "Member"},
	}})
}

// writeTooMany answers 429; s.mu is held.
func (s *Server) writeTooMany(w http.ResponseWriter, retryAfter int) {
	s.tooMany++
	writeJSON(w, http.StatusTooManyRequests, tooMany(retryAfter))
}

func tooMany(retryAfter int) response {
	return response{ErrorCode: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), Parameters: &map[string]int{"retry_after": retryAfter}}
}

// checkText refuses what Telegram refuses: empty text, text over 4096 UTF-16 units after
// entity parsing, and with parse_mode HTML, unescaped '<' or '&' that do not start a tag or
// an entity Telegram knows.
func checkText(text, parseMode string) error {
	plain := text
	if strings.EqualFold(parseMode, "HTML") {
		var err error
		if plain, err = parseHTML(text); err != nil {
			return err
		}
	}
	if strings.TrimSpace(plain) == "" {
		return fmt.Errorf("message text is empty")
	}
	if n := utf16Len(plain); n > 4096 {
		return fmt.Errorf("message is too long")
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

var allowedTags = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true, "del": true, "code": true, "pre": true, "a": true, "tg-spoiler": true, "span": true}

// parseHTML returns the text of Telegram-HTML s, or the error Telegram gives.
func parseHTML(s string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("can't parse entities: unclosed start tag at byte offset %d", i)
			}
			name := strings.TrimPrefix(s[i+1:i+end], "/")
			name, _, _ = strings.Cut(name, " ")
			if !allowedTags[name] {
				return "", fmt.Errorf("can't parse entities: unsupported start tag %q at byte offset %d", name, i)
			}
			i += end + 1
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				return "", fmt.Errorf("can't parse entities: unexpected end of name token at byte offset %d", i)
			}
			switch ent := s[i+1 : i+end]; {
			case ent == "lt":
				out.WriteByte('<')
			case ent == "gt":
				out.WriteByte('>')
			case ent == "amp":
				out.WriteByte('&')
			case ent == "quot":
				out.WriteByte('"')
			case strings.HasPrefix(ent, "#"):
				n, err := strconv.Atoi(strings.TrimPrefix(ent, "#"))
				if err != nil {
					return "", fmt.Errorf("can't parse entities: unsupported entity at byte offset %d", i)
				}
				out.WriteRune(rune(n))
			default:
				return "", fmt.Errorf("can't parse entities: unsupported HTML entity %q at byte offset %d", ent, i)
			}
			i += end + 1
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	return out.String(), nil
}

func writeJSON(w http.ResponseWriter, status int, v response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
