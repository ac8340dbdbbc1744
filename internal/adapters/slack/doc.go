// Package slack is the Slack adapter: a slash command, direct messages and @mentions in
// channels, with Block Kit buttons, and the App Home's Home tab, over the signed HTTP Events
// API or Socket Mode.
//
// It translates and sends, nothing else. A Slack request or Socket Mode envelope becomes a
// conversation.Inbound handed to the hub (conversation.Hub.Submit); a conversation.Delivery
// becomes one Web API call (Adapter.Send, the platform's conversation.Sender). The core does
// the rest: the engine decides what to say, the hub's dispatcher commits one person's
// messages in order and slows down floods, and the platform's conversation.Outbox sends the
// replies in commit order per chat, paced by the limits the adapter declares (Limits: about
// one a second per channel, bursts of three), retries failures and 429s, and sends after a
// restart what was committed but not sent.
//
// Caveats:
//   - Nothing acknowledged is lost: the HTTP 200 or the Socket Mode ack comes only once the
//     hub has committed the message (its id, the dialog change and the reply, in one store
//     transaction). A failed commit answers 500 (or leaves the envelope unacknowledged), so
//     Slack sends it again; a bot starting, stopping, or unable to commit within 2.5 s answers
//     503.
//   - The answer never waits on sending a reply. The one Web API call that may come before
//     it is users.info for a person whose locale is not cached (an hour; a minute after a
//     failure), bounded to half a second; past that the message is committed without a
//     locale and the language comes from the text or the default.
//   - One person's messages are committed and answered in the order they reach the hub, with
//     one exception: two messages of a new person arriving within the first locale lookup
//     may be committed in either order.
//   - Events are deduplicated by event_id in the store, so Slack's retries are answered once,
//     also across restarts, and never count toward the flood limit. Slash commands and button
//     presses carry no event id; they use trigger_id, which Slack makes unique per request.
//   - Send neither waits nor retries: a 429 is returned as a *conversation.RetryAfterError
//     with Slack's Retry-After, a refusal for good (the channel is gone, an expired
//     response_url whose chat.postEphemeral fallback is refused too) wraps
//     conversation.ErrUndeliverable, so that the Outbox logs it and drops it rather than
//     blocking the replies after it, and any other failure is retried by the Outbox.
//   - Two things are sent by the adapter itself, not committed and not through the Outbox,
//     because they are no dialog's reply: the private note to someone pressing a button of
//     another person's menu (chat.postEphemeral; their dialog is neither started nor moved),
//     and the Home tab (views.publish on app_home_opened). Both go out after Slack's answer,
//     best effort, at most maxNotes at a time. A press on the Home tab is a dialog's input: the
//     adapter opens the person's DM with the bot (conversations.open) and commits the press
//     there, keyed and answered like a DM message.
//   - Helpers answer a handoff in the thread of its summary in Options.HandoffChannel: a
//     person's thread reply there is committed on the dialog the thread's first message names
//     ("ref: <key>", read with conversations.replies once per thread, or remembered from
//     posting it), acknowledged in the thread (Turn.ReplyKey); "done" alone closes it. That
//     lookup is the other Web API call that can come before a commit, bounded to a second.
//   - Message text, tokens and the signing secret are never logged.
package slack
