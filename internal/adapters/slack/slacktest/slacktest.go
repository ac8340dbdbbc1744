// Package slacktest is an in-process fake of the parts of Slack the bot talks to: the Web API
// methods it calls (auth.test, users.info, chat.postMessage, chat.postEphemeral, chat.update,
// views.publish, conversations.open, conversations.replies, apps.connections.open),
// response_url endpoints, shared files' url_private and a Socket Mode websocket. It records
// every message and view the bot sends, can answer with 429 rate limits, 5xx and Slack's
// errors, and builds signed requests as Slack sends them.
// The adapter's tests and the bot's end-to-end tests share it.
package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Identities the fake workspace answers with.
const (
	Team      = "T0TEAM"
	BotUserID = "U0BOT"
	BotID     = "B0BOT"
	// HomeViewID is the id of every Home tab view the fake stores.
	HomeViewID = "V0HOME"
)

// Message is one message the bot sent.
type Message struct {
	// Method is "chat.postMessage", "chat.postEphemeral", "chat.update" or "response_url".
	Method  string
	Channel string
	// User is the recipient of chat.postEphemeral, or who wrote a message recorded with Said.
	User     string
	ThreadTS string
	// TS is the message updated by chat.update, or the ts given to a new message.
	TS string
	// Text is the fallback text; BlockText the text of the section blocks.
	Text      string
	BlockText string
	Buttons   []Button
	// ResponseURL is the response_url posted to; ResponseType and ReplaceOriginal what was
	// asked of it.
	ResponseURL     string
	ResponseType    string
	ReplaceOriginal bool
	At              time.Time
	blocks          string // as sent, for conversations.replies
}

// View is a view the bot published with views.publish.
type View struct {
	// UserID is whose Home tab it is.
	UserID string
	// Type is the view's type, "home" for a Home tab.
	Type string
	// BlockText is the text of the section blocks, one line each; Buttons the buttons of
	// the actions blocks, in order.
	BlockText string
	Buttons   []Button
	// Blocks is the view's blocks as the bot sent them (JSON).
	Blocks json.RawMessage
	At     time.Time
}

// Button is a Block Kit button of a Message.
type Button struct {
	ActionID, BlockID, Value, Text string
}

// Server is a fake Slack.
type Server struct {
	// URL is the Web API base URL ("http://127.0.0.1:port/api/"), for SLACK_API_URL.
	URL string

	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced whenever something is recorded
	messages  []Message
	views     []View
	dms       map[string]string // user -> their DM with the bot
	opened    []string          // users conversations.open was called for
	calls     map[string]int
	locales   map[string]string
	names     map[string]string
	said      []Message            // people's messages, recorded with Said
	limited   map[string][]int     // method -> Retry-After seconds of the next answers
	failing   map[string][]failure // method -> how its next calls fail
	expired   map[string]bool      // response_url ids that answer 404
	nextTS    int
	nextResp  int
	conn      *websocket.Conn
	connWrite sync.Mutex
	acks      map[string]bool
	nextEnv   int
	files     map[string]*file // files people shared (AddFile), by id
	downloads int
}

// NewServer starts a fake Slack, closed when the test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{
		t:       t,
		changed: make(chan struct{}),
		calls:   make(map[string]int),
		locales: make(map[string]string),
		names:   make(map[string]string),
		limited: make(map[string][]int),
		failing: make(map[string][]failure),
		expired: make(map[string]bool),
		dms:     make(map[string]string),
		acks:    make(map[string]bool),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.serveAPI)
	mux.HandleFunc("POST /response/{id}", s.serveResponse)
	mux.HandleFunc("GET /socket", s.serveSocket)
	mux.HandleFunc("GET /files-pri/{id}/{name}", s.serveFile)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/api/"
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and drops the Socket Mode connection.
func (s *Server) Close() {
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetLocale makes users.info report locale (such as "en-US") for user.
func (s *Server) SetLocale(user, locale string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locales[user] = locale
}

// SetName makes users.info report name as user's real name.
func (s *Server) SetName(user, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names[user] = name
}

// Said records that user wrote text in channel as message ts (in thread threadTS if not
// empty), for conversations.replies; the event itself is the test's to send.
func (s *Server) Said(channel, user, text, ts, threadTS string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.said = append(s.said, Message{Method: "said", Channel: channel, User: user, Text: text, TS: ts, ThreadTS: threadTS, At: time.Now()})
}

// DMChannel is the id of user's DM with the bot, as conversations.open answers it: "D" +
// user unless SetDM said otherwise.
func (s *Server) DMChannel(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmChannel(user)
}

func (s *Server) dmChannel(user string) string {
	if ch, ok := s.dms[user]; ok {
		return ch
	}
	return "D" + user
}

// SetDM makes conversations.open answer channel for user's DM with the bot.
func (s *Server) SetDM(user, channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dms[user] = channel
}

// Opened returns the users conversations.open was called for, in order.
func (s *Server) Opened() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.opened...)
}

// Views returns the views published so far, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// WaitViews waits until at least n views were published and returns them all; it fails the
// test after timeout.
func (s *Server) WaitViews(n int, timeout time.Duration) []View {
	s.t.Helper()
	ok := s.wait(timeout, func() bool { return len(s.views) >= n })
	views := s.Views()
	if !ok {
		s.t.Fatalf("slacktest: %d views after %s, want %d: %+v", len(views), timeout, n, views)
	}
	return views
}

// WaitCalls waits until method was called at least n times, failing the test after timeout.
func (s *Server) WaitCalls(method string, n int, timeout time.Duration) {
	s.t.Helper()
	if !s.wait(timeout, func() bool { return s.calls[method] >= n }) {
		s.t.Fatalf("slacktest: %s called %d times after %s, want %d", method, s.Calls(method), timeout, n)
	}
}

// RateLimit makes the next call of method (such as "chat.postMessage", or "response_url")
// answer 429 with Retry-After retryAfter seconds; call it again for more.
func (s *Server) RateLimit(method string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited[method] = append(s.limited[method], retryAfter)
}

// failure is how a call answers instead of doing what it asks: an HTTP status other than
// 200, or Slack's {"ok":false,"error":code}.
type failure struct {
	status int
	code   string
}

// Fail makes the next call of method answer with HTTP status (such as 500, or 503 as Slack's
// edge answers during an outage); call it again for more.
func (s *Server) Fail(method string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[method] = append(s.failing[method], failure{status: status})
}

// Refuse makes the next call of method answer {"ok":false,"error":code}, as Slack refuses a
// token (invalid_auth, token_revoked) or fails inside (internal_error); call it again for
// more.
func (s *Server) Refuse(method, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[method] = append(s.failing[method], failure{status: http.StatusOK, code: code})
}

// failed answers the call of method with the next failure set for it, if any.
func (s *Server) failed(w http.ResponseWriter, method string) bool {
	s.mu.Lock()
	q := s.failing[method]
	if len(q) > 0 {
		s.failing[method] = q[1:]
	}
	s.mu.Unlock()
	if len(q) == 0 {
		return false
	}
	if f := q[0]; f.status != http.StatusOK {
		http.Error(w, http.StatusText(f.status), f.status)
	} else {
		writeJSON(w, map[string]any{"ok": false, "error": f.code})
	}
	return true
}

// ResponseURL returns a fresh response_url.
func (s *Server) ResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextResp++
	return fmt.Sprintf("%s/response/%d", s.srv.URL, s.nextResp)
}

// Expire makes responseURL answer 404, as Slack's do after 30 minutes.
func (s *Server) Expire(responseURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired[responseURL[strings.LastIndex(responseURL, "/")+1:]] = true
}

// Calls returns how many times method was called, including rate-limited and failed calls.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Messages returns the messages sent so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitMessages waits until at least n messages were sent and returns them all; it fails the
// test after timeout.
func (s *Server) WaitMessages(n int, timeout time.Duration) []Message {
	s.t.Helper()
	ok := s.wait(timeout, func() bool { return len(s.messages) >= n })
	msgs := s.Messages()
	if !ok {
		s.t.Fatalf("slacktest: %d messages after %s, want %d: %+v", len(msgs), timeout, n, msgs)
	}
	return msgs
}

// wait waits until cond, called with s.mu held, is true, or timeout passes.
func (s *Server) wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

// notify wakes the waiters; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// rateLimited counts a call of method and reports whether it must be answered with 429.
func (s *Server) rateLimited(w http.ResponseWriter, method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	s.notify()
	q := s.limited[method]
	if len(q) == 0 {
		return false
	}
	s.limited[method] = q[1:]
	w.Header().Set("Retry-After", strconv.Itoa(q[0]))
	http.Error(w, "rate limited", http.StatusTooManyRequests)
	return true
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.rateLimited(w, method) || s.failed(w, method) {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if token == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "user_id": BotUserID, "bot_id": BotID, "team_id": Team, "user": "paydoctor", "team": "Test"})
	case "users.info":
		user := r.PostForm.Get("user")
		s.mu.Lock()
		locale, name := s.locales[user], s.names[user]
		s.mu.Unlock()
		u := map[string]any{"id": user, "name": strings.ToLower(user)}
		if name != "" {
			u["real_name"] = name
			u["profile"] = map[string]any{"real_name": name, "display_name": name}
		}
		if r.PostForm.Get("include_locale") == "true" && locale != "" {
			u["locale"] = locale
		}
		writeJSON(w, map[string]any{"ok": true, "user": u})
	case "apps.connections.open":
		if !strings.HasPrefix(token, "xapp-") {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"})
	case "chat.postMessage", "chat.postEphemeral", "chat.update":
		f := r.PostForm
		if f.Get("channel") == "" {
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		m := Message{Method: method, Channel: f.Get("channel"), User: f.Get("user"), ThreadTS: f.Get("thread_ts"), TS: f.Get("ts"), Text: f.Get("text"), blocks: f.Get("blocks")}
		m.BlockText, m.Buttons = parseBlocks(f.Get("blocks"))
		s.mu.Lock()
		if m.TS == "" {
			s.nextTS++
			m.TS = fmt.Sprintf("1700000000.%06d", s.nextTS)
		}
		s.record(m)
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "message_ts": m.TS})
	case "conversations.open":
		// Only 1:1 DMs with the bot: users is one user (Slack also takes a comma-separated
		// list for a group DM, or channel to resume one).
		users := r.PostForm.Get("users")
		switch {
		case users == "" && r.PostForm.Get("channel") == "":
			writeJSON(w, map[string]any{"ok": false, "error": "users_list_not_supplied"})
			return
		case users == "" || strings.Contains(users, ","):
			writeJSON(w, map[string]any{"ok": false, "error": "method_not_supported_for_channel_type"})
			return
		}
		s.mu.Lock()
		s.opened = append(s.opened, users)
		ch := s.dmChannel(users)
		s.notify()
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "no_op": true, "already_open": true, "channel": map[string]any{"id": ch}})
	case "views.publish":
		s.servePublish(w, r)
	case "conversations.replies":
		s.serveReplies(w, r)
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// serveReplies answers conversations.replies: the thread of message ts in channel, its first
// message first, then its replies, at most limit (default 1000) of them, as Slack answers
// it. The bot's messages come from chat.postMessage (user BotUserID, bot_id BotID), people's
// from Said.
func (s *Server) serveReplies(w http.ResponseWriter, r *http.Request) {
	channel, ts := r.PostForm.Get("channel"), r.PostForm.Get("ts")
	if channel == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	if ts == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	limit := 1000
	if n, err := strconv.Atoi(r.PostForm.Get("limit")); err == nil && n > 0 {
		limit = n
	}
	s.mu.Lock()
	var all []Message
	for _, m := range s.messages {
		if m.Method == "chat.postMessage" && m.Channel == channel {
			m.User = ""
			all = append(all, m)
		}
	}
	for _, m := range s.said {
		if m.Channel == channel {
			all = append(all, m)
		}
	}
	s.mu.Unlock()
	var parent *Message
	var replies []Message
	for i, m := range all {
		switch {
		case m.TS == ts:
			parent = &all[i]
		case m.ThreadTS == ts:
			replies = append(replies, m)
		}
	}
	if parent == nil {
		writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	if parent.ThreadTS != "" && parent.ThreadTS != parent.TS {
		// A reply: Slack answers its thread.
		replies = nil
	}
	thread := append([]Message{*parent}, replies...)
	hasMore := len(thread) > limit
	if hasMore {
		thread = thread[:limit]
	}
	parentUser := parent.User
	if parentUser == "" {
		parentUser = BotUserID
	}
	msgs := make([]map[string]any, 0, len(thread))
	for i, m := range thread {
		js := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
		if m.User == "" {
			js["user"], js["bot_id"] = BotUserID, BotID
			if m.blocks != "" {
				js["blocks"] = json.RawMessage(m.blocks)
			}
		} else {
			js["user"] = m.User
		}
		switch {
		case i == 0 && len(replies) > 0:
			js["thread_ts"], js["reply_count"] = m.TS, len(replies)
		case i > 0 || m.ThreadTS != "":
			js["thread_ts"], js["parent_user_id"] = m.ThreadTS, parentUser
		}
		msgs = append(msgs, js)
	}
	resp := map[string]any{"ok": true, "messages": msgs, "has_more": hasMore}
	if hasMore {
		resp["response_metadata"] = map[string]any{"next_cursor": "bmV4dA=="}
	}
	writeJSON(w, resp)
}

// servePublish answers views.publish: user_id and view (a JSON object, or a form field
// holding it encoded, as Slack takes both), answered with the view as Slack stores it.
func (s *Server) servePublish(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string          `json:"user_id"`
		View   json.RawMessage `json:"view"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_json"})
			return
		}
	} else {
		req.UserID, req.View = r.PostForm.Get("user_id"), json.RawMessage(r.PostForm.Get("view"))
	}
	var view struct {
		Type   string          `json:"type"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if req.UserID == "" || json.Unmarshal(req.View, &view) != nil || view.Type != "home" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	var blocks []json.RawMessage
	if json.Unmarshal(view.Blocks, &blocks) != nil || len(blocks) == 0 || len(blocks) > 100 {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_blocks"})
		return
	}
	v := View{UserID: req.UserID, Type: view.Type, Blocks: view.Blocks}
	v.BlockText, v.Buttons = parseBlocks(string(view.Blocks))
	s.mu.Lock()
	v.At = time.Now()
	s.views = append(s.views, v)
	s.notify()
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "view": map[string]any{
		"id": HomeViewID, "team_id": Team, "type": view.Type, "blocks": view.Blocks, "hash": "1700000000.00000000",
		"app_id": "A0APP", "bot_id": BotID, "root_view_id": HomeViewID, "private_metadata": "", "callback_id": "", "external_id": "",
	}})
}

// record adds m; s.mu must be held.
func (s *Server) record(m Message) {
	m.At = time.Now()
	s.messages = append(s.messages, m)
	s.notify()
}

func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, "response_url") {
		return
	}
	s.mu.Lock()
	expired := s.expired[r.PathValue("id")]
	s.mu.Unlock()
	if expired {
		http.Error(w, "expired_url", http.StatusNotFound)
		return
	}
	var body struct {
		Text            string          `json:"text"`
		ThreadTS        string          `json:"thread_ts"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m := Message{Method: "response_url", ResponseURL: s.srv.URL + r.URL.Path, Text: body.Text, ThreadTS: body.ThreadTS,
		ResponseType: body.ResponseType, ReplaceOriginal: body.ReplaceOriginal}
	m.BlockText, m.Buttons = parseBlocks(string(body.Blocks))
	s.mu.Lock()
	s.record(m)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true})
}

func parseBlocks(js string) (text string, buttons []Button) {
	if js == "" || js == "null" {
		return "", nil
	}
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Text    struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(js), &blocks); err != nil {
		return "unparseable blocks: " + err.Error(), nil
	}
	var texts []string
	for _, b := range blocks {
		switch b.Type {
		case "section":
			texts = append(texts, b.Text.Text)
		case "actions":
			for _, e := range b.Elements {
				if e.Type == "button" {
					buttons = append(buttons, Button{ActionID: e.ActionID, BlockID: b.BlockID, Value: e.Value, Text: e.Text.Text})
				}
			}
		}
	}
	return strings.Join(texts, "\n"), buttons
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// formBody encodes values as a form.
func formBody(values map[string]string) []byte {
	f := url.Values{}
	for k, v := range values {
		f.Set(k, v)
	}
	return []byte(f.Encode())
}
