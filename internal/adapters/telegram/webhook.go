package telegram

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/ocr"
)

// errNotRunning: an update arrived while Run is not serving.
var errNotRunning = errors.New("telegram: not running")

// maxUpdateBytes bounds a webhook request body; updates are a few kilobytes.
const maxUpdateBytes = 1 << 20

// WebhookHandler returns the handler for WebhookPath. It refuses requests without the right
// X-Telegram-Bot-Api-Secret-Token (403), answers 503 while Run is not serving and 500 when
// the update could not be committed, so that Telegram sends it again; 200 means the update is
// handled (its reply is committed and queued) or deliberately ignored.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if b.opts.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(b.opts.WebhookSecret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		u, err := decodeUpdate(body)
		if err != nil {
			// Sending it again will not help, and Telegram would: acknowledge it.
			b.log.Warn("webhook update the library cannot decode; acknowledged and ignored", "update_id", undecodableID(body), "err", err)
			w.WriteHeader(http.StatusOK)
			return
		}
		// Telegram may send updates over several connections at once; one chat's are
		// handled one at a time, so that its replies keep the order of its messages.
		unlock := b.chatLocks.lock(updateChat(u))
		result := make(chan error, 1)
		b.handleUpdate(r.Context(), u, func(err error) { result <- err })
		err = <-result
		unlock()
		switch {
		case errors.Is(err, errNotRunning), errors.Is(err, conversation.ErrStopped), errors.Is(err, ocr.ErrNotRunning):
			http.Error(w, "starting or stopping", http.StatusServiceUnavailable)
		case err != nil:
			b.log.Error("handle webhook update", "update_id", u.UpdateID, "err", b.scrub(err))
			http.Error(w, "update not handled", http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
}

// updateChat returns the chat an update belongs to, or 0.
func updateChat(u update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	}
	return 0
}

// keyedMutex is a mutex per chat, forgotten when nobody holds or waits for it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[int64]*keyedEntry
}

type keyedEntry struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(chat int64) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[int64]*keyedEntry{}
	}
	e := k.locks[chat]
	if e == nil {
		e = &keyedEntry{}
		k.locks[chat] = e
	}
	e.refs++
	k.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.locks, chat)
		}
		k.mu.Unlock()
	}
}
