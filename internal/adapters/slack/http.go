package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/ocr"
)

// maxBody bounds a request body; Slack's are a few kilobytes.
const maxBody = 1 << 20

// Register adds the HTTP-mode endpoints to mux: POST /slack/commands, /slack/events and
// /slack/interactions. Each checks the request's signature and timestamp before it parses
// anything, commits the message (its id, the dialog change and the reply, in one store
// transaction) and only then answers 200; the reply is delivered afterwards from the outbox.
func (a *Adapter) Register(mux *http.ServeMux) {
	mux.Handle("POST /slack/commands", a.verified(a.serveParsed(parseCommand)))
	mux.Handle("POST /slack/events", a.verified(a.serveEvent))
	mux.Handle("POST /slack/interactions", a.verified(a.serveParsed(parseInteraction)))
}

// verified reads the body and calls h only if the request is signed with the signing
// secret within MaxRequestAge of now; otherwise it answers 401.
func (a *Adapter) verified(h func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := VerifyRequest(r.Header, body, a.opts.SigningSecret, a.opts.Now()); err != nil {
			a.log.Warn("refused unverified request", "path", r.URL.Path, "err", err)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h(w, r, body)
	})
}

// serveParsed answers a verified request whose body parse reads: 400 if it cannot, 200 if
// it holds nothing for the bot, and otherwise what accept answers.
func (a *Adapter) serveParsed(parse func([]byte) (job, bool, error)) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		j, ok, err := parse(body)
		switch {
		case err != nil:
			http.Error(w, "bad request", http.StatusBadRequest)
		case ok:
			a.accept(w, r, j)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}
}

// parseCommand reads a slash command's form body. ok is false for one not for the bot.
func parseCommand(body []byte) (j job, ok bool, err error) {
	r, err := http.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
	if err != nil {
		return job{}, false, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		return job{}, false, err
	}
	j, ok = commandJob(cmd)
	return j, ok, nil
}

func (a *Adapter) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	j, ok, challenge, err := parseEvent(body)
	switch {
	case err != nil:
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	case challenge != nil:
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, *challenge)
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		a.log.Info("event retried by Slack", "retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	if ok {
		a.accept(w, r, j)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// parseEvent reads an Events API body: a url_verification (its challenge is returned) or an
// event_callback. ok is false for events not for the bot, and for event types slack-go does
// not know.
func parseEvent(body []byte) (j job, ok bool, challenge *string, err error) {
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return job{}, false, nil, err
	}
	if outer.Type == slackevents.URLVerification {
		return job{}, false, &outer.Challenge, nil
	}
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		return job{}, false, nil, nil // nothing for the bot
	}
	j, ok = eventJob(ev)
	return j, ok, nil, nil
}

// parseInteraction reads an interaction's form body (payload=<JSON>). ok is false for
// anything but a press on one of the bot's buttons.
func parseInteraction(body []byte) (j job, ok bool, err error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return job{}, false, err
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		return job{}, false, err
	}
	j, ok = actionJob(cb)
	return j, ok, nil
}

// accept commits j and answers 200 with an empty body once it is committed (or, for a note
// or a home view, once it is started); 503 when the bot is starting, stopping or too busy to
// commit it in time, and 500 when the commit failed, so that Slack sends it again.
func (a *Adapter) accept(w http.ResponseWriter, r *http.Request, j job) {
	err := a.handle(r.Context(), j)
	switch {
	case errors.Is(err, errNotAccepting), errors.Is(err, conversation.ErrStopped), errors.Is(err, ocr.ErrNotRunning), errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "busy", http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, "not handled", http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusOK)
	}
}
