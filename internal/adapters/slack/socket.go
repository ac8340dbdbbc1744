package slack

import (
	"context"
	"fmt"
	"sync"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket holds the Socket Mode connection and handles its envelopes until ctx is done.
// An envelope is acknowledged once its message is committed; one that cannot be committed
// is left unacknowledged, so that Slack sends it again. Envelopes are committed
// concurrently, at most socketConcurrency at a time.
func (a *Adapter) runSocket(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- a.socket.RunContext(ctx) }()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	sem := make(chan struct{}, socketConcurrency)
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The socket client gives up only on errors it takes for fatal; a refused token
			// is the app-level one, which apps.connections.open is called with.
			if refused, ok := refusal(err, true); ok {
				return refused
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-a.socket.Events:
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			inflight.Go(func() {
				defer func() { <-sem }()
				a.onSocketEvent(ctx, evt)
			})
		}
	}
}

// socketConcurrency bounds the Socket Mode envelopes being committed at once; the next one
// waits for room.
const socketConcurrency = 32

func (a *Adapter) onSocketEvent(ctx context.Context, evt socketmode.Event) {
	var (
		j  job
		ok bool
	)
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ev, _ := evt.Data.(slackevents.EventsAPIEvent)
		j, ok = eventJob(ev)
	case socketmode.EventTypeSlashCommand:
		cmd, _ := evt.Data.(slack.SlashCommand)
		j, ok = commandJob(cmd)
	case socketmode.EventTypeInteractive:
		cb, _ := evt.Data.(slack.InteractionCallback)
		j, ok = actionJob(cb)
	case socketmode.EventTypeConnected:
		a.log.Info("socket mode connected")
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeInvalidAuth:
		if ctx.Err() != nil {
			return // the connection closing on shutdown
		}
		a.log.Warn("socket mode", "event", string(evt.Type), "err", fmt.Sprint(evt.Data))
		return
	default:
		return
	}
	if evt.Request == nil {
		return
	}
	if ok {
		if err := a.handle(ctx, j); err != nil {
			a.log.Warn("socket mode envelope not acknowledged", "err", err)
			return
		}
	}
	if err := a.socket.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
		a.log.Warn("socket mode ack", "err", err)
	}
}
