// Package slack is the Slack adapter: a slash command, direct messages and @mentions in
// channels, with Block Kit buttons, over the signed HTTP Events API or Socket Mode.
//
// It translates and nothing else: a Slack request becomes a conversation.Inbound, and a
// conversation.Delivery becomes a Web API call. The conversation core decides what to say.
//
// Caveats:
//   - Every HTTP request is answered before any Web API call is made: the signature is
//     checked, the work is queued and the request acknowledged. A bounded pool of workers
//     then looks up the person's locale (users.info, cached) and hands the message to a
//     conversation.Dispatcher, which commits the turn and sends the reply. One person's
//     messages are handled in order (they always go to the same worker, in both stages).
//   - Events are deduplicated by event_id in the store, so Slack's retries are answered once,
//     also across restarts. Slash commands and button presses carry no event id; they use
//     trigger_id, which Slack makes unique per request.
//   - A reply that Slack rate-limits waits for Retry-After and is sent again; it is never
//     dropped. Replies are paced to about one a second per channel.
//   - A reply that Slack refuses for good (the channel is gone, the response_url expired) is
//     logged and taken out of the outbox, so that it does not block the ones after it.
//   - Message text, tokens and the signing secret are never logged.
package slack
