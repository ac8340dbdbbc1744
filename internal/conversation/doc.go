// Package conversation is the core of the bot: the platform-neutral dialog, the engine that
// moves it on, the store contract that keeps it, and the one delivery path every platform
// shares.
//
// An adapter turns a platform event into an Inbound (a Key naming the person and chat, the
// Input, the platform's update id and an opaque Route) and hands it to the Hub. The Hub's
// Dispatcher commits one person's messages in order and different people's concurrently,
// slowing down a person who floods the bot; the engine's Step is a pure function of (dialog,
// input, time) to (dialog, reply); the Store commits the inbound id, the new dialog and the
// reply in one transaction, the reply going to an outbox. Each platform's Outbox claims the
// replies from the store in commit order and sends them through the adapter's Sender, paced
// by the adapter's Limits, retrying passing failures and waiting out 429s, and marks them
// delivered; after a crash it sends what was committed but not delivered, and the platform's
// redelivery of an update already committed is refused with ErrDuplicate. docs/adapters.md
// has the contract an adapter implements.
//
// The engine's files, in the order a message goes through them: engine.go (Step: cleaning,
// the language, the handoff, then dispatch), commands.go (commands and button presses),
// freetext.go (free text: courtesy, corrections, questions about the solution shown, typed
// answers), verdicts.go (whether the solution shown worked), latefeedback.go (feedback with
// no solution shown), understand.go (what the model's reading leads to, or the question to
// ask), goto.go (going there, with what the dialog already knows), flow.go (questions,
// diagnoses, solutions and their results), picture.go (screenshots); beneath them turn.go
// (one step in progress and its rendering), reading.go (the recognizer as the dialog stands)
// and language.go.
//
// Nothing here knows Telegram or Slack, does I/O other than through Store and Sender, or
// keeps what people type: text is cleaned and card data redacted before the engine reads it,
// and a Dialog holds only where the conversation stands.
package conversation
