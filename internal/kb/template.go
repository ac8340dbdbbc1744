package kb

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// fieldTemplate is a message whose placeholders are all plain fields ({{.Name}}), as every
// shipped message is, split at them once at load: filling one in is then a concatenation
// instead of a template execution (a twentieth of the CPU of a message under load).
type fieldTemplate struct {
	text   []string // len(fields)+1 pieces of text, between the fields
	fields []string
}

// marker stands for field name in a render that finds where the fields are.
func marker(name string) string { return "\x00" + name + "\x00" }

// compileFieldTemplate finds the fields of message id by rendering it with a marker for
// each of names, and checks the result against go-i18n with two other sets of values, one
// of them empty (so a condition on a value is caught). It reports false when the message is
// anything but text and fields; Text then goes on rendering it with go-i18n.
func compileFieldTemplate(l *i18n.Localizer, id string, names []string) (fieldTemplate, bool) {
	markers, values, empty := map[string]any{}, map[string]any{}, map[string]any{}
	for i, name := range names {
		markers[name] = marker(name)
		values[name] = "v" + strconv.Itoa(i)
		empty[name] = ""
	}
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: markers})
	if err != nil {
		return fieldTemplate{}, false
	}
	var t fieldTemplate
	for {
		before, rest, found := strings.Cut(s, "\x00")
		if !found {
			t.text = append(t.text, s)
			break
		}
		name, after, found := strings.Cut(rest, "\x00")
		if !found {
			return fieldTemplate{}, false
		}
		t.text = append(t.text, before)
		t.fields = append(t.fields, name)
		s = after
	}
	for _, data := range []map[string]any{values, empty} {
		want, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
		got, ok := t.fill(data)
		if err != nil || !ok || got != want {
			return fieldTemplate{}, false
		}
	}
	return t, true
}

// fill returns the message with data's values in its fields; false if data lacks one.
func (t fieldTemplate) fill(data map[string]any) (string, bool) {
	var b strings.Builder
	for i, name := range t.fields {
		v, ok := data[name]
		if !ok {
			return "", false
		}
		b.WriteString(t.text[i])
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			fmt.Fprint(&b, v) // as text/template prints a value
		}
	}
	b.WriteString(t.text[len(t.fields)])
	return b.String(), true
}
