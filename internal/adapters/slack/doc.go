// Package slack is the Slack adapter: a slash command, direct messages and @mentions in
// channels, with Block Kit buttons, over the signed HTTP Events API or Socket Mode.
//
// It translates and nothing else: a Slack request becomes a conversation.Inbound, and a
// conversation.Delivery becomes a Web API call. The conversation core decides what to say.
//
// Caveats:
//   - Nothing acknowledged is lost: a message is committed (its id, the dialog change and the
//     reply, in one store transaction of a millisecond or two) before the HTTP 200 or the
//     Socket Mode ack. A failed commit answers 500 (or leaves the envelope unacknowledged), so
//     Slack sends it again. Replies are delivered afterwards, from the outbox, by a bounded
//     pool of workers; what is committed but not sent when the bot stops is sent at the next
//     start, before any new message is taken (one arriving until then waits up to a second,
//     then gets 503).
//   - The answer never waits on sending a reply. The one Web API call that may come before
//     it is users.info for a person whose locale is not cached (an hour; a minute after a
//     failure), bounded to half a second; past that the message is committed without a
//     locale and the language comes from the text or the default.
//   - One person's messages are committed and answered in order, with one exception: two
//     messages of a new person arriving within the first locale lookup may be committed in
//     either order.
//   - Events are deduplicated by event_id in the store, so Slack's retries are answered once,
//     also across restarts. Slash commands and button presses carry no event id; they use
//     trigger_id, which Slack makes unique per request.
//   - A reply that Slack rate-limits waits for Retry-After and is sent again; it is never
//     dropped. Replies are paced to about one a second per channel.
//   - A reply that Slack refuses for good (the channel is gone, the response_url expired) is
//     logged and taken out of the outbox, so that it does not block the ones after it.
//   - Message text, tokens and the signing secret are never logged.
package slack
