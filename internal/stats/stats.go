// Package stats adds up the events dialogs record (conversation.Event) into the figures a
// community needs to improve the knowledge base: dialogs started, diagnoses by cause, and per
// solution how often it was shown, worked and did not work, per platform and language, plus
// handoffs to humans. "bot stats" prints them, and the admin listener's dashboard draws them
// (internal/dashboard): both from one Report, so the page and "bot stats --json" agree.
//
// Events carry IDs only, never what people typed, so neither does a report.
package stats

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

// Totals are the counts of one slice of the events: all of them, one platform, one language.
type Totals struct {
	Started   int `json:"started"`
	Diagnosed int `json:"diagnosed"`
	Shown     int `json:"shown"`
	Worked    int `json:"worked"`
	Failed    int `json:"failed"`
	Handoffs  int `json:"handoffs"`
	// NoHelper counts the requests for a human where no helper was connected.
	NoHelper int `json:"no_helper"`
}

// add counts e n times: -1 takes back a verdict that a later one corrected.
func (t *Totals) add(e conversation.Event, n int) {
	switch e.Kind {
	case conversation.EventStarted:
		t.Started += n
	case conversation.EventDiagnosed:
		t.Diagnosed += n
	case conversation.EventShown:
		t.Shown += n
	case conversation.EventWorked:
		t.Worked += n
	case conversation.EventFailed:
		t.Failed += n
	case conversation.EventHandoff:
		t.Handoffs += n
	case conversation.EventNoHelper:
		t.NoHelper += n
	}
}

// Count is how often one ID occurred.
type Count struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

// Solution is what people said of one solution.
type Solution struct {
	ID     string `json:"id"`
	Shown  int    `json:"shown"`
	Worked int    `json:"worked"`
	Failed int    `json:"failed"`
}

// Day is the figures of one day, UTC.
type Day struct {
	Date string `json:"date"` // 2006-01-02
	Totals
	// Causes counts the day's diagnoses by cause ID, as Report.Causes does.
	Causes []Count `json:"causes"`
}

// Handoff is one request for a human (EventHandoff).
type Handoff struct {
	At       time.Time `json:"at"`
	Platform string    `json:"platform"`
	Lang     string    `json:"lang"`
	Outcome  string    `json:"outcome,omitempty"`
	Cause    string    `json:"cause,omitempty"`
	// Open: no end of it (handoff_closed of its dialog, or another /human) is among the
	// events since; events recorded before dialogs had a pseudonym are never open.
	Open bool `json:"open"`
}

// MaxHandoffs is how many handoffs a Report lists, the newest; Totals.Handoffs counts them
// all.
const MaxHandoffs = 100

// FreeText is what the recogniser made of the free text people sent.
type FreeText struct {
	Recognized    int `json:"recognized"`
	Clarified     int `json:"clarified"`
	NotUnderstood int `json:"not_understood"`
	// OffTopic is text about something else, answered with what the bot is for.
	OffTopic int `json:"off_topic"`
}

// Total is how many free texts the recogniser handled.
func (f FreeText) Total() int { return f.Recognized + f.Clarified + f.NotUnderstood + f.OffTopic }

// Group is the totals of one platform or one language.
type Group struct {
	Name string `json:"name"`
	Totals
}

// Report is the figures of the events at or after Since.
type Report struct {
	Since  time.Time `json:"since,omitzero"` // zero: every event recorded
	Totals Totals    `json:"totals"`
	// Causes counts diagnoses by cause ID; diagnoses naming no cause (a limit, a timeout)
	// are under "" and, by outcome, in Outcomes.
	Causes    []Count    `json:"causes"`
	Outcomes  []Count    `json:"outcomes"`
	Solutions []Solution `json:"solutions"`
	Platforms []Group    `json:"platforms"`
	Languages []Group    `json:"languages"`
	// Days are the days with events, oldest first; Daily fills in the others.
	Days []Day `json:"days"`
	// Handoffs are the requests for a human, newest first, at most MaxHandoffs.
	Handoffs []Handoff `json:"handoffs"`
	// HandoffCourse is what became of them once helpers could answer through the bot.
	HandoffCourse HandoffCourse `json:"handoff_course"`
	FreeText      FreeText      `json:"free_text"`
}

// HandoffCourse is what became of the handoffs: answered by a helper, closed (by a helper,
// by the person, or by time), and the person's verdict afterwards; and how long people
// waited for a first answer, the median.
type HandoffCourse struct {
	Open                     int     `json:"open"`
	Answered                 int     `json:"answered"`
	Closed                   int     `json:"closed"`
	Solved                   int     `json:"solved"`
	Unsolved                 int     `json:"unsolved"`
	MedianFirstAnswerSeconds float64 `json:"median_first_answer_seconds"`
}

// Builder adds events up into a Report. The zero value is ready to use.
type Builder struct {
	totals    Totals
	causes    map[string]int
	outcomes  map[string]int
	solutions map[string]*Solution
	platforms map[string]*Totals
	languages map[string]*Totals
	days      map[string]*day
	handoffs  []Handoff
	course    HandoffCourse
	waits     []time.Duration
	// lastHandoff is the index in handoffs of each dialog's latest request, while open.
	lastHandoff map[string]int
	// verdicts is each dialog's verdict on a solution since the solution was last shown. A
	// second one corrects it ("sorry, PayPal did work" after "didn't work"), and only the
	// latest counts, as the dialog's own record of attempts keeps it: counted both, the
	// solution was shown once, worked once and failed once.
	verdicts map[dialogSolution]conversation.Event
	freeText FreeText
}

type dialogSolution struct{ dialog, solution string }

type day struct {
	totals Totals
	causes map[string]int
}

// dayOf is the UTC date of t, as Day.Date has it.
func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Add counts one event.
func (b *Builder) Add(e conversation.Event) {
	if b.causes == nil {
		b.causes, b.outcomes = map[string]int{}, map[string]int{}
		b.solutions, b.platforms, b.languages = map[string]*Solution{}, map[string]*Totals{}, map[string]*Totals{}
		b.days = map[string]*day{}
	}
	switch e.Kind {
	case conversation.EventRecognized:
		b.freeText.Recognized++
		return
	case conversation.EventClarified:
		b.freeText.Clarified++
		return
	case conversation.EventHandoffAnswered:
		b.course.Answered++
		b.waits = append(b.waits, e.Wait)
		return
	case conversation.EventHandoffClosed:
		b.course.Closed++
		b.endHandoff(e.Dialog)
		return
	case conversation.EventHandoffSolved:
		b.course.Solved++
		return
	case conversation.EventHandoffUnsolved:
		b.course.Unsolved++
		return
	case conversation.EventNotUnderstood:
		b.freeText.NotUnderstood++
		return
	case conversation.EventOffTopic:
		b.freeText.OffTopic++
		return
	}
	if e.Dialog != "" && e.Solution != "" {
		k := dialogSolution{e.Dialog, e.Solution}
		switch e.Kind {
		case conversation.EventShown:
			delete(b.verdicts, k)
		case conversation.EventWorked, conversation.EventFailed:
			if earlier, ok := b.verdicts[k]; ok {
				b.count(earlier, -1)
			}
			if b.verdicts == nil {
				b.verdicts = map[dialogSolution]conversation.Event{}
			}
			b.verdicts[k] = e
		}
	}
	d := b.count(e, 1)
	switch e.Kind {
	case conversation.EventHandoff:
		b.endHandoff(e.Dialog) // another /human replaces an open request
		b.handoffs = append(b.handoffs, Handoff{At: e.At, Platform: e.Platform, Lang: e.Lang, Outcome: e.Outcome, Cause: e.Cause, Open: e.Dialog != ""})
		if e.Dialog != "" {
			if b.lastHandoff == nil {
				b.lastHandoff = map[string]int{}
			}
			b.lastHandoff[e.Dialog] = len(b.handoffs) - 1
		}
	case conversation.EventDiagnosed:
		b.causes[e.Cause]++
		b.outcomes[e.Outcome]++
		d.causes[e.Cause]++
	}
}

// count adds e n times to the totals, its platform's, language's and day's, and its
// solution's, and returns its day.
func (b *Builder) count(e conversation.Event, n int) *day {
	b.totals.add(e, n)
	group(b.platforms, e.Platform).add(e, n)
	group(b.languages, e.Lang).add(e, n)
	d := b.days[dayOf(e.At)]
	if d == nil {
		d = &day{causes: map[string]int{}}
		b.days[dayOf(e.At)] = d
	}
	d.totals.add(e, n)
	if e.Kind == conversation.EventShown || e.Kind == conversation.EventWorked || e.Kind == conversation.EventFailed {
		s := b.solutions[e.Solution]
		if s == nil {
			s = &Solution{ID: e.Solution}
			b.solutions[e.Solution] = s
		}
		switch e.Kind {
		case conversation.EventShown:
			s.Shown += n
		case conversation.EventWorked:
			s.Worked += n
		case conversation.EventFailed:
			s.Failed += n
		}
	}
	return d
}

// endHandoff marks the open request of dialog, if any, ended.
func (b *Builder) endHandoff(dialog string) {
	if i, ok := b.lastHandoff[dialog]; ok && dialog != "" {
		b.handoffs[i].Open = false
		delete(b.lastHandoff, dialog)
	}
}

func group(m map[string]*Totals, name string) *Totals {
	t := m[name]
	if t == nil {
		t = &Totals{}
		m[name] = t
	}
	return t
}

// Report returns the figures counted so far, each list sorted by count, most first, then by
// ID.
func (b *Builder) Report(since time.Time) Report {
	r := Report{Since: since, Totals: b.totals, Causes: counts(b.causes), Outcomes: counts(b.outcomes),
		Solutions: []Solution{}, Platforms: groups(b.platforms), Languages: groups(b.languages),
		Days: []Day{}, Handoffs: slices.Clone(b.handoffs), HandoffCourse: b.course, FreeText: b.freeText}
	for _, h := range b.handoffs {
		if h.Open {
			r.HandoffCourse.Open++
		}
	}
	if len(b.waits) > 0 {
		waits := slices.Sorted(slices.Values(b.waits))
		r.HandoffCourse.MedianFirstAnswerSeconds = waits[len(waits)/2].Seconds()
	}
	for date, d := range b.days {
		r.Days = append(r.Days, Day{Date: date, Totals: d.totals, Causes: counts(d.causes)})
	}
	slices.SortFunc(r.Days, func(a, b Day) int { return cmp.Compare(a.Date, b.Date) })
	if r.Handoffs == nil {
		r.Handoffs = []Handoff{}
	}
	slices.SortStableFunc(r.Handoffs, func(a, b Handoff) int { return b.At.Compare(a.At) })
	if len(r.Handoffs) > MaxHandoffs {
		r.Handoffs = r.Handoffs[:MaxHandoffs]
	}
	for _, s := range b.solutions {
		r.Solutions = append(r.Solutions, *s)
	}
	slices.SortFunc(r.Solutions, func(a, b Solution) int {
		return cmp.Or(cmp.Compare(b.Shown, a.Shown), cmp.Compare(b.Worked, a.Worked), cmp.Compare(a.ID, b.ID))
	})
	return r
}

// Daily returns one Day for each UTC date from first's to last's, oldest first: the Day of
// r.Days for a date that has one, an empty Day otherwise.
func (r Report) Daily(first, last time.Time) []Day {
	have := make(map[string]Day, len(r.Days))
	for _, d := range r.Days {
		have[d.Date] = d
	}
	var out []Day
	end := dayOf(last)
	for t := first.UTC(); ; t = t.AddDate(0, 0, 1) {
		date := dayOf(t)
		if date > end {
			break
		}
		d, ok := have[date]
		if !ok {
			d = Day{Date: date, Causes: []Count{}}
		}
		out = append(out, d)
	}
	return out
}

func counts(m map[string]int) []Count {
	out := []Count{}
	for id, n := range m {
		out = append(out, Count{ID: id, Count: n})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.ID, b.ID)) })
	return out
}

func groups(m map[string]*Totals) []Group {
	out := []Group{}
	for name, t := range m {
		out = append(out, Group{Name: name, Totals: *t})
	}
	slices.SortFunc(out, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Started, a.Started), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// EventSource is where the events come from: conversation.Store's Events.
type EventSource func(since time.Time, fn func(conversation.Event) error) error

// Compute adds up the events of source at or after since.
func Compute(source EventSource, since time.Time) (Report, error) {
	var b Builder
	if err := source(since, func(e conversation.Event) error { b.Add(e); return nil }); err != nil {
		return Report{}, err
	}
	return b.Report(since), nil
}

// WriteJSON writes r as one indented JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as plain-text tables for a terminal.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	since := "all recorded events"
	if !r.Since.IsZero() {
		since = "since " + r.Since.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "PayDoctor statistics, %s\n\n", since)
	p("dialogs started\t%d\n", r.Totals.Started)
	p("diagnoses\t%d\n", r.Totals.Diagnosed)
	p("solutions shown\t%d\n", r.Totals.Shown)
	p("  worked\t%d\t%s\n", r.Totals.Worked, rate(r.Totals.Worked, r.Totals.Worked+r.Totals.Failed))
	p("  did not work\t%d\n", r.Totals.Failed)
	p("handoffs to a human\t%d\n", r.Totals.Handoffs)
	if r.Totals.NoHelper > 0 {
		p("  asked, no helper connected\t%d\n", r.Totals.NoHelper)
	}
	if c := r.HandoffCourse; c.Answered+c.Closed > 0 {
		p("  open\t%d\n", c.Open)
		p("  answered by a helper\t%d\tmedian first answer %s\n", c.Answered, time.Duration(c.MedianFirstAnswerSeconds*float64(time.Second)).Round(time.Second))
		p("  closed\t%d\n", c.Closed)
		p("  solved, the person said\t%d\t%s\n", c.Solved, rate(c.Solved, c.Solved+c.Unsolved))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	section(w, "Diagnoses by cause")
	p("cause\tdiagnoses\n")
	for _, c := range r.Causes {
		p("%s\t%d\n", orDash(c.ID, "(no cause)"), c.Count)
	}
	p("\noutcome\tdiagnoses\n")
	for _, c := range r.Outcomes {
		p("%s\t%d\n", orDash(c.ID, "(none)"), c.Count)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	section(w, "Solutions")
	p("solution\tshown\tworked\tdid not work\tworked of answered\n")
	for _, s := range r.Solutions {
		p("%s\t%d\t%d\t%d\t%s\n", orDash(s.ID, "(none)"), s.Shown, s.Worked, s.Failed, rate(s.Worked, s.Worked+s.Failed))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if f := r.FreeText; f.Total() > 0 {
		section(w, "Free text")
		p("recognised\t%d\n", f.Recognized)
		p("clarified\t%d\t%s\n", f.Clarified, rate(f.Clarified, f.Total()))
		p("not understood\t%d\n", f.NotUnderstood)
		p("off topic\t%d\n", f.OffTopic)
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	for _, g := range []struct {
		title, column string
		groups        []Group
	}{{"By platform", "platform", r.Platforms}, {"By language", "language", r.Languages}} {
		section(w, g.title)
		p("%s\tstarted\tdiagnosed\tshown\tworked\tdid not work\thandoffs\n", g.column)
		for _, x := range g.groups {
			p("%s\t%d\t%d\t%d\t%d\t%d\t%d\n", orDash(x.Name, "(unknown)"), x.Started, x.Diagnosed, x.Shown, x.Worked, x.Failed, x.Handoffs)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func section(w io.Writer, title string) {
	fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("-", len(title)))
}

func rate(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", (100*n+of/2)/of)
}

func orDash(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}
