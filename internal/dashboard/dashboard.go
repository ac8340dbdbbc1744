// Package dashboard serves the operators' dashboard: one server-rendered HTML page with the
// figures of "bot stats" drawn as inline SVG charts, in Chinese or English. It has no
// JavaScript and loads nothing: the CSS is inline and the charts are drawn here.
//
// Every figure comes from stats.Compute over the same events as "bot stats --json": each
// bar carries its value in data-series, data-key and data-value attributes (and a <title>
// for the mouse), so a test can read the page's numbers back and compare them.
package dashboard

import (
	"bytes"
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/stats"
)

// Handler serves the dashboard page (GET). Its fields must be set, but for Now.
type Handler struct {
	// Events calls fn for each event recorded at or after since, oldest first, as
	// conversation.Store's Events does.
	Events func(ctx context.Context, since time.Time, fn func(conversation.Event) error) error
	// Lang is the language of the page when neither ?lang= nor the browser's Accept-Language
	// names Chinese or English (BOT_LANG). Neither: English.
	Lang string
	// Period reads ?since= as "bot stats --since" reads its period (7d, 12h, 2w).
	Period func(string) (time.Duration, error)
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Days is how many days the per-day charts show at most, ending today (UTC).
const Days = 30

// MaxHandoffRows is how many handoffs the handoff chart shows, the newest.
const MaxHandoffRows = 20

//go:embed page.html.tmpl
var pageSource string

var page = template.Must(template.New("page").Parse(pageSource))

// periods are the ?since= links offered; "" is everything.
var periods = []string{"24h", "7d", "30d", ""}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang := pickLang(q.Get("lang"), r.Header.Get("Accept-Language"), h.Lang)
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	sinceParam := strings.TrimSpace(q.Get("since"))
	if sinceParam == "all" {
		sinceParam = ""
	}
	var since time.Time
	if sinceParam != "" {
		d, err := h.Period(sinceParam)
		if err != nil {
			http.Error(w, "since: "+err.Error(), http.StatusBadRequest)
			return
		}
		since = now.Add(-d)
	}
	rep, err := stats.Compute(func(since time.Time, fn func(conversation.Event) error) error {
		return h.Events(r.Context(), since, fn)
	}, since)
	if err != nil {
		http.Error(w, "reading the events: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, build(rep, now, lang, sinceParam)); err != nil {
		http.Error(w, "rendering the dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	// Nothing to load and nothing to run: the page is its own HTML, CSS and SVG.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	w.Write(buf.Bytes())
}

// The page's languages, the first the fallback.
var (
	langTags = []language.Tag{language.English, language.SimplifiedChinese}
	matcher  = language.NewMatcher(langTags)
)

// pickLang returns "en" or "zh-Hans": the ?lang= parameter's, else the Accept-Language
// header's, else def's, else English.
func pickLang(param, accept, def string) string {
	if param != "" {
		if t, err := language.Parse(param); err == nil {
			if l, ok := match(t); ok {
				return l
			}
		}
	}
	if tags, _, err := language.ParseAcceptLanguage(accept); err == nil && len(tags) > 0 {
		if l, ok := match(tags...); ok {
			return l
		}
	}
	if t, err := language.Parse(def); err == nil {
		if l, ok := match(t); ok {
			return l
		}
	}
	return langTags[0].String()
}

func match(tags ...language.Tag) (string, bool) {
	_, i, c := matcher.Match(tags...)
	if c == language.No {
		return "", false
	}
	return langTags[i].String(), true
}

// view is what the template renders.
type view struct {
	T         *texts
	Lang      string
	Since     string // the period's description
	Generated string
	Periods   []link
	Langs     []link
	Totals    []total
	Charts    []*chart
}

type link struct {
	Label, Href string
	Current     bool
}

// total is one headline figure.
type total struct {
	Series, Label string
	Value         int
	Note          string
}

func build(rep stats.Report, now time.Time, lang, sinceParam string) view {
	t := textsFor(lang)
	v := view{T: t, Lang: lang, Generated: now.UTC().Format("2006-01-02 15:04") + " UTC"}
	if rep.Since.IsZero() {
		v.Since = t.SinceAll
	} else {
		v.Since = strings.ReplaceAll(t.SinceFmt, "{since}", rep.Since.UTC().Format("2006-01-02 15:04")+" UTC")
	}
	href := func(since, lang string) string {
		q := url.Values{}
		if since != "" {
			q.Set("since", since)
		} else {
			q.Set("since", "all")
		}
		q.Set("lang", lang)
		return "?" + q.Encode()
	}
	known := false
	for _, p := range periods {
		label := p
		if p == "" {
			label = t.All
		}
		known = known || p == sinceParam
		v.Periods = append(v.Periods, link{Label: label, Href: href(p, lang), Current: p == sinceParam})
	}
	if !known {
		v.Periods = append(v.Periods, link{Label: sinceParam, Href: href(sinceParam, lang), Current: true})
	}
	for _, l := range langTags {
		v.Langs = append(v.Langs, link{Label: textsFor(l.String()).LangName, Href: href(sinceParam, l.String()), Current: l.String() == lang})
	}
	tt := rep.Totals
	v.Totals = []total{
		{"started", t.Started, tt.Started, ""},
		{"diagnosed", t.Diagnosed, tt.Diagnosed, percent(tt.Diagnosed, tt.Started, t.OfStarted)},
		{"shown", t.SolutionsShown, tt.Shown, ""},
		{"worked", t.Worked, tt.Worked, percent(tt.Worked, tt.Worked+tt.Failed, t.OfAnswered)},
		{"failed", t.Failed, tt.Failed, ""},
		{"handoffs", t.Handoffs, tt.Handoffs, ""},
	}
	last := now.UTC()
	first := last.AddDate(0, 0, -(Days - 1))
	if !rep.Since.IsZero() && rep.Since.UTC().Format(time.DateOnly) > first.Format(time.DateOnly) {
		first = rep.Since
	}
	days := rep.Daily(first, last)
	v.Charts = []*chart{
		dailyChart(t, days),
		causesChart(t, rep, days),
		solutionsChart(t, rep.Solutions),
		funnelChart(t, rep.Totals),
		handoffsChart(t, rep, now),
		freeTextChart(t, rep.FreeText),
	}
	return v
}
