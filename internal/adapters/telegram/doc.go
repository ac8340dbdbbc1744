// Package telegram is the Telegram adapter: it turns Bot API updates into conversation
// inputs and replies into sendMessage calls with inline keyboards.
//
// It uses github.com/go-telegram-bot-api/telegram-bot-api/v5 (v5.5.1) for the wire format but
// not its conveniences that are unsafe in a long-running bot:
//
//   - Updates come from its own getUpdates loop (through Request), not GetUpdatesChan, and
//     are decoded twice: by the library, and for the fields v5.5.1 lacks (forum topics'
//     message_thread_id, which replies are sent back to through MakeRequest). An update is
//     confirmed (by the offset of the next getUpdates call) only after the conversation store
//     committed it, together with its update_id, in one transaction; so after a restart
//     Telegram sends again what was not committed, and what was committed is refused by the
//     store as a duplicate. No update is handled twice and none is skipped, without a separate
//     offset record.
//   - The BotAPI value is built without the getMe its constructors do; Run calls getMe.
//   - The HTTP client has a timeout longer than the long-poll timeout.
//   - answerCallbackQuery goes through Request (Send fails on its result, true).
//   - setWebhook's secret_token, missing from v5.5.1's WebhookConfig, goes through
//     MakeRequest.
//
// The adapter translates and sends, nothing else: updates become conversation.Inbound
// messages handed to the hub, and Send delivers one reply, returning a 429 as a
// conversation.RetryAfterError and a refusal for good as conversation.ErrUndeliverable.
// Ordering per chat, pacing under Telegram's limits (Limits: about 30 messages a second
// overall, one a second per chat, 20 a minute per group), retries and the outbox are the
// core's (conversation.Outbox).
//
// Groups: the bot answers a message only when it @mentions the bot (entity offsets are UTF-16
// units), replies to one of the bot's messages, or is a command addressed to the bot
// (/start@botname). A bare /start in a group may be meant for another bot, so it is answered
// only in private chats, or in a group as a reply to the bot. Every person has a dialog of
// their own; a button pressed by someone other than the person whose menu it is gets a short
// note and moves nobody's dialog.
//
// Webhook mode: Telegram may post updates over several connections at once; the handler takes
// one chat's updates one at a time, so replies keep the order of messages. It answers 503
// while the bot starts or stops and 500 when an update could not be committed, so Telegram
// sends it again.
//
// Caveats: a getUpdates call in flight at shutdown is abandoned rather than cancelled (the
// library takes no context); its updates are not confirmed, so they come again at the next
// start. A reply split into several messages is sent again in full if a later part is rate
// limited or the bot stops between parts.
// Edited messages and channel posts are not answered.
//
// Nothing people write, and not the token, is ever logged: errors from the HTTP client carry
// the request URL, which contains the token, so they are scrubbed first.
package telegram
