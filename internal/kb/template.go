package kb

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// fieldTemplate is a message whose placeholders are all plain fields ({{.Name}}), as every
// shipped message is, split at them once at load: filling one in is then a concatenation
// instead of a template execution (a twentieth of the CPU of a message under load).
type fieldTemplate struct {
	text   []string // len(fields)+1 pieces of text, between the fields
	fields []string
	// size is the length of the text plus room for short values, so that fill mostly
	// allocates once.
	size int
}

// compileFieldTemplate splits message m at its fields. It reports false when the message is
// anything but text and plain fields (a condition, a function, other delimiters, plural
// forms); Text then goes on rendering it with go-i18n. The split form is checked against
// go-i18n's rendering (l, id) once, which must agree.
func compileFieldTemplate(m *i18n.Message, l *i18n.Localizer, id string) (fieldTemplate, bool) {
	if m == nil || m.LeftDelim != "" || m.RightDelim != "" || m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
		return fieldTemplate{}, false
	}
	tmpl, err := template.New(id).Parse(m.Other)
	if err != nil {
		return fieldTemplate{}, false
	}
	t := fieldTemplate{text: []string{""}}
	if tmpl.Tree != nil {
		for _, node := range tmpl.Tree.Root.Nodes {
			switch n := node.(type) {
			case *parse.TextNode:
				t.text[len(t.text)-1] += string(n.Text)
			case *parse.ActionNode:
				name, ok := plainField(n)
				if !ok {
					return fieldTemplate{}, false
				}
				t.fields = append(t.fields, name)
				t.text = append(t.text, "")
			default:
				return fieldTemplate{}, false
			}
		}
	}
	for _, s := range t.text {
		t.size += len(s)
	}
	t.size += 32 * len(t.fields)
	values := map[string]any{}
	for i, name := range t.fields {
		values[name] = "v" + strconv.Itoa(i)
	}
	want, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: values})
	if got, ok := t.fill(values); err != nil || !ok || got != want {
		return fieldTemplate{}, false
	}
	return t, true
}

// plainField returns Name if n is exactly {{.Name}}.
func plainField(n *parse.ActionNode) (string, bool) {
	if len(n.Pipe.Decl) != 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
		return "", false
	}
	f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return "", false
	}
	return f.Ident[0], true
}

// fill returns the message with data's values in its fields; false if data lacks one.
func (t fieldTemplate) fill(data map[string]any) (string, bool) {
	var b strings.Builder
	b.Grow(t.size)
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
