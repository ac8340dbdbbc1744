// Package kb loads the knowledge base the bot answers from: the diagnosis flow (questions,
// options, outcomes with a cause and ranked solutions), the texts in every language (go-i18n
// message files) and the phrases it recognises in free text. All of it is data: operators
// correct or extend it without touching Go code.
//
// Load validates everything once, at start: every question and outcome reachable, no dead
// ends, every cause leading to solutions, every solution reachable, every message present
// and renderable in every language. A KB is immutable afterwards, so conversations never
// meet a missing text or a dangling reference at run time.
//
// A language is its locale file alone: besides the conversation's texts it names itself
// (MsgLangName, MsgLangNames, which /lang matches) and describes the platforms' command
// menus (CommandMenu), so an overlay holding only locales/active.<tag>.toml adds one.
//
// Caveat: go-i18n reads nested TOML tables as dotted message IDs and treats a table with a
// key such as "other", "one" or "description" as a plural message, so flow IDs must not use
// those words.
package kb
