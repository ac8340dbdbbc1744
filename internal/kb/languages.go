package kb

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Command is an entry of a platform's command menu.
type Command struct {
	Name        string // what follows the slash
	Description string
}

// menuCommands are the commands a platform's menu offers, in its order. The conversation
// engine implements them, so the list is code; what each is called in a language is data.
var menuCommands = []struct{ name, message string }{
	{"start", MsgCommandStart},
	{"solutions", MsgCommandSolutions},
	{"lang", MsgCommandLang},
	{"human", MsgCommandHuman},
	{"help", MsgCommandHelp},
}

// maxCommandDescription is Telegram's limit on a command's description, the strictest of
// the platforms: a longer one makes the whole menu fail to register.
const maxCommandDescription = 256

// CommandMenu returns the command menu in lang: one entry per command, described in that
// language. A language the knowledge base does not speak gets the default language's menu,
// as Text does.
func (k *KB) CommandMenu(lang string) []Command {
	menu := make([]Command, len(menuCommands))
	for i, c := range menuCommands {
		menu[i] = Command{Name: c.name, Description: k.Text(lang, c.message, nil)}
	}
	return menu
}

// LanguageName returns the name of lang in lang itself ("English", "简体中文").
func (k *KB) LanguageName(lang string) string { return k.Text(lang, MsgLangName, nil) }

// LanguageByName maps what someone typed after /lang to a language the knowledge base
// speaks: one of the names a locale gives its language (MsgLangName, MsgLangNames), in any
// language, compared after Normalize; else a tag, as MatchLanguage reads it.
func (k *KB) LanguageByName(name string) (string, bool) {
	if lang, ok := k.langNames[Normalize(name)]; ok {
		return lang, true
	}
	return k.MatchLanguage(name)
}

// indexLanguages collects every language's names for LanguageByName and checks what the
// validation of single messages cannot: that no name is claimed by two languages, and that
// command descriptions fit a platform's menu.
func (k *KB) indexLanguages() error {
	var problems []string
	k.langNames = map[string]string{}
	for _, lang := range k.names {
		names := append(strings.Split(k.Text(lang, MsgLangNames, nil), ","), k.LanguageName(lang))
		for _, name := range names {
			n := Normalize(name)
			if n == "" {
				continue
			}
			if other, ok := k.langNames[n]; ok && other != lang {
				problems = append(problems, fmt.Sprintf("locale %s: message %q: %q is a name of %s too", lang, MsgLangNames, strings.TrimSpace(name), other))
				continue
			}
			// Names are looked up before tags: one that is another language's tag would take
			// "/lang <tag>" away from it.
			if other, ok := k.MatchLanguage(name); ok && other != lang {
				problems = append(problems, fmt.Sprintf("locale %s: message %q: %q is the tag of %s", lang, MsgLangNames, strings.TrimSpace(name), other))
				continue
			}
			k.langNames[n] = lang
		}
		if Normalize(k.LanguageName(lang)) == "" {
			problems = append(problems, fmt.Sprintf("locale %s: message %q is empty", lang, MsgLangName))
		}
		for _, c := range k.CommandMenu(lang) {
			if strings.ContainsAny(c.Description, "\r\n") || utf8.RuneCountInString(c.Description) > maxCommandDescription {
				problems = append(problems, fmt.Sprintf("locale %s: the description of /%s must be one line of at most %d characters", lang, c.Name, maxCommandDescription))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}
