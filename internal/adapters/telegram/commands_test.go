package telegram

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb"
)

func menusByCode(t *testing.T, menus []tgbotapi.SetMyCommandsConfig) (codes []string, byCode map[string][]tgbotapi.BotCommand) {
	t.Helper()
	byCode = map[string][]tgbotapi.BotCommand{}
	for _, m := range menus {
		if m.Scope == nil || m.Scope.Type != "default" {
			t.Errorf("menu %q: scope %+v, want default", m.LanguageCode, m.Scope)
		}
		codes = append(codes, m.LanguageCode)
		byCode[m.LanguageCode] = m.Commands
	}
	return codes, byCode
}

func wantMenu(k *kb.KB, lang string) []tgbotapi.BotCommand {
	var cmds []tgbotapi.BotCommand
	for _, c := range k.CommandMenu(lang) {
		cmds = append(cmds, tgbotapi.BotCommand{Command: c.Name, Description: c.Description})
	}
	return cmds
}

func TestCommandMenus_Shipped(t *testing.T) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	codes, menus := menusByCode(t, commandMenus(k, ""))
	if !slices.Equal(codes, []string{"zh", "en", ""}) {
		t.Fatalf("language codes %q, want zh, en and the default", codes)
	}
	for code, lang := range map[string]string{"zh": "zh-Hans", "en": "en", "": "zh-Hans"} {
		if got := menus[code]; !slices.Equal(got, wantMenu(k, lang)) {
			t.Errorf("menu %q = %v, want %s's %v", code, got, lang, wantMenu(k, lang))
		}
	}
	if got := menus["en"][0]; got.Command != "start" || got.Description != "Start over: what went wrong with the payment?" {
		t.Errorf("English menu starts with %+v", got)
	}

	_, menus = menusByCode(t, commandMenus(k, "en"))
	if !slices.Equal(menus[""], wantMenu(k, "en")) {
		t.Errorf("BOT_LANG=en: default menu %v, want English", menus[""])
	}
}

// A language added by a BOT_KB_DIR with only its locale file gets its menu with no Go change.
func TestCommandMenus_ThirdLanguage(t *testing.T) {
	k, err := kb.Load(bot.Data(), os.DirFS(filepath.Join("..", "..", "..", "testdata", "kb", "third-language")))
	if err != nil {
		t.Fatal(err)
	}
	codes, menus := menusByCode(t, commandMenus(k, "fr-FR"))
	if !slices.Equal(codes, []string{"zh", "en", "fr", ""}) {
		t.Fatalf("language codes %q, want zh, en, fr and the default", codes)
	}
	want := []tgbotapi.BotCommand{
		{Command: "start", Description: "Recommencer : qu'est-ce qui a échoué lors du paiement ?"},
		{Command: "solutions", Description: "Lister toutes les solutions"},
		{Command: "lang", Description: "Changer de langue : /lang fr, /lang en ou /lang 中文"},
		{Command: "human", Description: "Parler à une personne"},
		{Command: "help", Description: "Ce que fait ce bot"},
	}
	if !slices.Equal(menus["fr"], want) || !slices.Equal(menus[""], want) {
		t.Errorf("French menu %v and default menu %v, want %v", menus["fr"], menus[""], want)
	}
}

func TestLanguageCode(t *testing.T) {
	for tag, want := range map[string]string{"zh-Hans": "zh", "zh-Hant": "zh", "en": "en", "en-GB": "en", "fr": "fr", "fil": "fil"} {
		if got := languageCode(tag); got != want {
			t.Errorf("languageCode(%q) = %q, want %q", tag, got, want)
		}
	}
}
