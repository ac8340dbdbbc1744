// Package conversation is the core of the bot: the platform-neutral dialog, the engine that
// moves it on, and the store contract that keeps it.
//
// An adapter turns a platform event into an Inbound (a Key naming the person and chat, the
// Input, the platform's update id and an opaque Route) and calls Service.Handle. The engine's
// Step is a pure function of (dialog, input, time) to (dialog, reply); the Store commits the
// inbound id, the new dialog and the reply in one transaction, the reply going to an outbox
// that the adapter drains through Service.Deliver. After a crash, Service.Redeliver sends
// what was committed but not delivered, and the platform's redelivery of an update already
// committed is refused with ErrDuplicate.
//
// Nothing here knows Telegram or Slack, does I/O other than through Store and Sender, or
// keeps what people type: text is cleaned and card data redacted before the engine reads it,
// and a Dialog holds only where the conversation stands.
package conversation
