package telegram

import (
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/text/language"

	"github.com/paydoctor/bot/internal/kb"
)

// commandMenus returns the setMyCommands requests for the command menus of every language k
// speaks, each for the people whose language_code has its primary subtag, and last the menu
// in defaultLang for everyone else (language_code ""). An empty defaultLang, or one k does
// not speak, means k's default language.
func commandMenus(k *kb.KB, defaultLang string) []tgbotapi.SetMyCommandsConfig {
	var menus []tgbotapi.SetMyCommandsConfig
	seen := map[string]bool{}
	for _, lang := range k.Languages() {
		code := languageCode(lang)
		// Telegram takes only a two-letter ISO 639-1 code, so two languages sharing one (zh-Hans
		// and zh-Hant) share a menu: the first in k's order, the default first. A language
		// without such a code is left to the default menu.
		if len(code) != 2 || seen[code] {
			continue
		}
		seen[code] = true
		menus = append(menus, commandMenu(k, lang, code))
	}
	if lang, ok := k.MatchLanguage(defaultLang); ok {
		defaultLang = lang
	} else {
		defaultLang = k.Languages()[0]
	}
	return append(menus, commandMenu(k, defaultLang, ""))
}

func commandMenu(k *kb.KB, lang, code string) tgbotapi.SetMyCommandsConfig {
	var commands []tgbotapi.BotCommand
	for _, c := range k.CommandMenu(lang) {
		commands = append(commands, tgbotapi.BotCommand{Command: c.Name, Description: c.Description})
	}
	return tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), code, commands...)
}

// languageCode is the ISO 639-1 code of a BCP 47 tag ("zh" for zh-Hans), or a longer
// ISO 639 code when the language has none.
func languageCode(tag string) string {
	base, _ := language.Make(tag).Base()
	return base.String()
}

// setCommands sets the command menus. It is best effort: the bot works without them.
func (b *Bot) setCommands() {
	for _, cfg := range commandMenus(b.opts.KB, b.opts.Lang) {
		if _, err := b.api.Request(cfg); err != nil {
			b.log.Warn("setMyCommands failed", "lang", cfg.LanguageCode, "err", b.scrub(err))
		}
	}
}
