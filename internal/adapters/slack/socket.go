package slack

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket holds the Socket Mode connection and handles its envelopes until ctx is done.
// Every envelope is acknowledged once its work is queued; one that cannot be queued is left
// unacknowledged, so that Slack sends it again.
func (a *Adapter) runSocket(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- a.socket.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-a.socket.Events:
			a.onSocketEvent(ctx, evt)
		}
	}
}

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
		if err := a.enqueue(j); err != nil {
			a.log.Warn("socket mode envelope not acknowledged", "err", err)
			return
		}
	}
	if err := a.socket.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
		a.log.Warn("socket mode ack", "err", err)
	}
}
