package telegram

import (
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// commandMenus are the command menus Telegram shows, per language_code; "" is everyone else
// (Chinese, the language of most people the bot is for). The commands are the core's.
var commandMenus = []struct {
	lang     string
	commands []tgbotapi.BotCommand
}{
	{"zh", zhCommands},
	{"en", []tgbotapi.BotCommand{
		{Command: "start", Description: "Start over: what went wrong with the payment?"},
		{Command: "solutions", Description: "List every solution"},
		{Command: "lang", Description: "Change language: /lang en or /lang 中文"},
		{Command: "human", Description: "Talk to a human"},
		{Command: "help", Description: "What this bot does"},
	}},
	{"", zhCommands},
}

var zhCommands = []tgbotapi.BotCommand{
	{Command: "start", Description: "重新开始：付款遇到了什么问题？"},
	{Command: "solutions", Description: "列出所有解决方法"},
	{Command: "lang", Description: "切换语言：/lang en 或 /lang 中文"},
	{Command: "human", Description: "找人工帮助"},
	{Command: "help", Description: "这个机器人能做什么"},
}

// setCommands sets the command menus. It is best effort: the bot works without them.
func (b *Bot) setCommands() {
	for _, menu := range commandMenus {
		cfg := tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), menu.lang, menu.commands...)
		if _, err := b.api.Request(cfg); err != nil {
			b.log.Warn("setMyCommands failed", "lang", menu.lang, "err", b.scrub(err))
		}
	}
}
