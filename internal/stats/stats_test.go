package stats_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// ev builds an event: kind, platform, lang, then cause/outcome or solution as the kind needs.
func ev(minutes int, kind conversation.EventKind, platform, lang, outcome, cause, solution string) conversation.Event {
	return conversation.Event{Kind: kind, Platform: platform, Lang: lang, Outcome: outcome, Cause: cause, Solution: solution, At: t0.Add(time.Duration(minutes) * time.Minute)}
}

const (
	started   = conversation.EventStarted
	diagnosed = conversation.EventDiagnosed
	shown     = conversation.EventShown
	worked    = conversation.EventWorked
	failed    = conversation.EventFailed
	handoff   = conversation.EventHandoff
)

// script is three dialogs: a Telegram one in Chinese where the second solution works, a Slack
// one in English where everything fails and the person asks for a human, and a Telegram one
// in English about an amount limit (an outcome with no cause), two days later.
var script = []conversation.Event{
	ev(0, started, "telegram", "zh-Hans", "", "", ""),
	ev(1, diagnosed, "telegram", "zh-Hans", "cross-border", "cross-border-restricted", ""),
	ev(1, shown, "telegram", "zh-Hans", "cross-border", "cross-border-restricted", "enable-cross-border"),
	ev(2, failed, "telegram", "zh-Hans", "cross-border", "cross-border-restricted", "enable-cross-border"),
	ev(2, shown, "telegram", "zh-Hans", "cross-border", "cross-border-restricted", "international-card"),
	ev(3, worked, "telegram", "zh-Hans", "cross-border", "cross-border-restricted", "international-card"),

	ev(10, started, "slack", "en", "", "", ""),
	ev(11, diagnosed, "slack", "en", "account", "account-settings", ""),
	ev(11, shown, "slack", "en", "account", "account-settings", "billing-settings"),
	ev(12, failed, "slack", "en", "account", "account-settings", "billing-settings"),
	ev(12, shown, "slack", "en", "account", "account-settings", "contact-support"),
	ev(13, failed, "slack", "en", "account", "account-settings", "contact-support"),
	of("slack-en", ev(14, handoff, "slack", "en", "account", "account-settings", "")),
	answered(20, 6*time.Minute),
	of("slack-en", ev(30, conversation.EventHandoffClosed, "slack", "en", "account", "account-settings", "")),
	ev(31, conversation.EventHandoffSolved, "slack", "en", "account", "account-settings", ""),

	ev(2*24*60, started, "telegram", "en", "", "", ""),
	ev(2*24*60+1, diagnosed, "telegram", "en", "amount-limit", "", ""),
	ev(2*24*60+1, shown, "telegram", "en", "amount-limit", "", "choose-plan"),
}

// of is e of the dialog whose pseudonym is dialog.
func of(dialog string, e conversation.Event) conversation.Event {
	e.Dialog = dialog
	return e
}

// answered is a helper's first answer, minutes after t0, after the person waited wait.
func answered(minutes int, wait time.Duration) conversation.Event {
	e := ev(minutes, conversation.EventHandoffAnswered, "slack", "en", "account", "account-settings", "")
	e.Wait = wait
	return e
}

// all serves events as a store would for a report of every event, in the order given.
func all(events []conversation.Event) func(time.Time, func(conversation.Event) error) error {
	return func(_ time.Time, fn func(conversation.Event) error) error {
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
}

// source serves script as a store would: events at or after since, oldest first.
func source(since time.Time, fn func(conversation.Event) error) error {
	for _, e := range script {
		if e.At.Before(since) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name      string
		since     time.Time
		want      stats.Totals
		causes    []stats.Count
		solutions map[string]stats.Solution
		platforms map[string]stats.Totals
		languages map[string]int // started
	}{
		{
			name:   "everything",
			want:   stats.Totals{Started: 3, Diagnosed: 3, Shown: 5, Worked: 1, Failed: 3, Handoffs: 1},
			causes: []stats.Count{{ID: "", Count: 1}, {ID: "account-settings", Count: 1}, {ID: "cross-border-restricted", Count: 1}},
			solutions: map[string]stats.Solution{
				"enable-cross-border": {ID: "enable-cross-border", Shown: 1, Failed: 1},
				"international-card":  {ID: "international-card", Shown: 1, Worked: 1},
				"billing-settings":    {ID: "billing-settings", Shown: 1, Failed: 1},
				"contact-support":     {ID: "contact-support", Shown: 1, Failed: 1},
				"choose-plan":         {ID: "choose-plan", Shown: 1},
			},
			platforms: map[string]stats.Totals{
				"telegram": {Started: 2, Diagnosed: 2, Shown: 3, Worked: 1, Failed: 1},
				"slack":    {Started: 1, Diagnosed: 1, Shown: 2, Failed: 2, Handoffs: 1},
			},
			languages: map[string]int{"zh-Hans": 1, "en": 2},
		},
		{
			name:      "the last day only",
			since:     t0.Add(24 * time.Hour),
			want:      stats.Totals{Started: 1, Diagnosed: 1, Shown: 1},
			causes:    []stats.Count{{ID: "", Count: 1}},
			solutions: map[string]stats.Solution{"choose-plan": {ID: "choose-plan", Shown: 1}},
			platforms: map[string]stats.Totals{"telegram": {Started: 1, Diagnosed: 1, Shown: 1}},
			languages: map[string]int{"en": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := stats.Compute(source, tc.since)
			if err != nil {
				t.Fatal(err)
			}
			if r.Totals != tc.want {
				t.Errorf("totals %+v, want %+v", r.Totals, tc.want)
			}
			if len(r.Causes) != len(tc.causes) {
				t.Errorf("causes %+v, want %+v", r.Causes, tc.causes)
			}
			for i := range min(len(r.Causes), len(tc.causes)) {
				if r.Causes[i] != tc.causes[i] {
					t.Errorf("causes %+v, want %+v", r.Causes, tc.causes)
				}
			}
			if len(r.Solutions) != len(tc.solutions) {
				t.Errorf("solutions %+v, want %d", r.Solutions, len(tc.solutions))
			}
			for _, s := range r.Solutions {
				if s != tc.solutions[s.ID] {
					t.Errorf("solution %+v, want %+v", s, tc.solutions[s.ID])
				}
			}
			if len(r.Platforms) != len(tc.platforms) {
				t.Errorf("platforms %+v", r.Platforms)
			}
			for _, p := range r.Platforms {
				if p.Totals != tc.platforms[p.Name] {
					t.Errorf("platform %s: %+v, want %+v", p.Name, p.Totals, tc.platforms[p.Name])
				}
			}
			if len(r.Languages) != len(tc.languages) {
				t.Errorf("languages %+v", r.Languages)
			}
			for _, l := range r.Languages {
				if l.Started != tc.languages[l.Name] {
					t.Errorf("language %s: %d started, want %d", l.Name, l.Started, tc.languages[l.Name])
				}
			}
		})
	}
}

func TestCompute_SourceError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := stats.Compute(func(time.Time, func(conversation.Event) error) error { return boom }, time.Time{})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the source's", err)
	}
}

// The text and JSON of the scripted report, compared with testdata/report.{txt,json};
// -update rewrites them.
func TestReport_Golden(t *testing.T) {
	r, err := stats.Compute(source, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"report.txt", func(b *bytes.Buffer) error { return r.WriteText(b) }},
		{"report.json", func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
	} {
		var got bytes.Buffer
		if err := f.write(&got); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", f.file)
		if *update {
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs; got:\n%s", path, got.String())
		}
	}
}

// The per-day figures add up to the totals, and Daily fills the days between with zeros.
func TestCompute_Days(t *testing.T) {
	r, err := stats.Compute(source, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []stats.Day{
		{Date: "2025-03-01", Totals: stats.Totals{Started: 2, Diagnosed: 2, Shown: 4, Worked: 1, Failed: 3, Handoffs: 1},
			Causes: []stats.Count{{ID: "account-settings", Count: 1}, {ID: "cross-border-restricted", Count: 1}}},
		{Date: "2025-03-03", Totals: stats.Totals{Started: 1, Diagnosed: 1, Shown: 1}, Causes: []stats.Count{{ID: "", Count: 1}}},
	}
	if !reflect.DeepEqual(r.Days, want) {
		t.Errorf("days %+v, want %+v", r.Days, want)
	}
	var sum stats.Totals
	for _, d := range r.Days {
		sum.Started += d.Started
		sum.Diagnosed += d.Diagnosed
		sum.Shown += d.Shown
		sum.Worked += d.Worked
		sum.Failed += d.Failed
		sum.Handoffs += d.Handoffs
	}
	if sum != r.Totals {
		t.Errorf("the days add up to %+v, the totals are %+v", sum, r.Totals)
	}

	daily := r.Daily(t0.Add(-24*time.Hour), t0.Add(3*24*time.Hour))
	var dates []string
	for _, d := range daily {
		dates = append(dates, d.Date)
	}
	if want := []string{"2025-02-28", "2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"}; !slices.Equal(dates, want) {
		t.Fatalf("Daily dates %v, want %v", dates, want)
	}
	if daily[1].Started != 2 || daily[3].Started != 1 || daily[0].Started != 0 || daily[2].Diagnosed != 0 || daily[2].Causes == nil {
		t.Errorf("Daily %+v", daily)
	}
	// A day in the middle of the last one: still that date, once.
	if d := r.Daily(t0, t0.Add(time.Hour)); len(d) != 1 || d[0].Date != "2025-03-01" {
		t.Errorf("Daily of one day: %+v", d)
	}
}

// Handoffs are listed newest first, at most MaxHandoffs of them; free text is counted apart.
func TestCompute_HandoffsAndFreeText(t *testing.T) {
	var events []conversation.Event
	for i := range stats.MaxHandoffs + 5 {
		events = append(events, ev(i, handoff, "telegram", "en", "account", "account-settings", ""))
	}
	events = append(events,
		ev(1, conversation.EventRecognized, "slack", "en", "", "", ""),
		ev(2, conversation.EventRecognized, "slack", "en", "", "", ""),
		ev(3, conversation.EventClarified, "slack", "en", "", "", ""),
		ev(4, conversation.EventNotUnderstood, "slack", "en", "", "", ""),
	)
	r, err := stats.Compute(all(events), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Handoffs != stats.MaxHandoffs+5 || len(r.Handoffs) != stats.MaxHandoffs {
		t.Fatalf("%d handoffs counted, %d listed", r.Totals.Handoffs, len(r.Handoffs))
	}
	if newest := t0.Add(time.Duration(stats.MaxHandoffs+4) * time.Minute); !r.Handoffs[0].At.Equal(newest) ||
		r.Handoffs[0].Cause != "account-settings" || r.Handoffs[0].Platform != "telegram" {
		t.Errorf("first handoff %+v, want the newest, at %v", r.Handoffs[0], newest)
	}
	for i := 1; i < len(r.Handoffs); i++ {
		if r.Handoffs[i].At.After(r.Handoffs[i-1].At) {
			t.Fatalf("handoffs not newest first at %d", i)
		}
	}
	if want := (stats.FreeText{Recognized: 2, Clarified: 1, NotUnderstood: 1}); r.FreeText != want || r.FreeText.Total() != 4 {
		t.Errorf("free text %+v, want %+v", r.FreeText, want)
	}
	if r.Totals.Started != 0 || len(r.Platforms) != 1 {
		t.Errorf("free-text events counted as dialog events: %+v %+v", r.Totals, r.Platforms)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text.Bytes(), []byte("clarified")) {
		t.Errorf("text report without the free text:\n%s", text.String())
	}
}

// A request for a human is open until its dialog's handoff ends, or another /human of the
// dialog replaces it; a request from before events named their dialog is never open.
func TestCompute_OpenHandoffs(t *testing.T) {
	events := []conversation.Event{
		of("d1", ev(0, handoff, "telegram", "en", "", "", "")),
		of("d2", ev(1, handoff, "slack", "en", "", "", "")),
		of("d2", ev(2, conversation.EventHandoffClosed, "slack", "en", "", "", "")),
		of("d3", ev(3, handoff, "telegram", "zh-Hans", "", "", "")),
		of("d3", ev(4, handoff, "telegram", "zh-Hans", "", "", "")),
		ev(5, handoff, "telegram", "en", "", "", ""),
	}
	r, err := stats.Compute(all(events), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var open []int
	for _, h := range r.Handoffs {
		if h.Open {
			open = append(open, int(h.At.Sub(t0)/time.Minute))
		}
	}
	if r.HandoffCourse.Open != 2 || !slices.Equal(open, []int{4, 0}) {
		t.Errorf("%d open (requests at minutes %v), want 2: d3's second request and d1's", r.HandoffCourse.Open, open)
	}
}

// A verdict on a solution that corrects the dialog's earlier one, with no showing of the
// solution between them, replaces it in every count: the dialog's record of attempts keeps the
// latest verdict too. Shown again, a solution gets a verdict of its own.
func TestCompute_CorrectedVerdicts(t *testing.T) {
	const paypal = "paypal"
	events := []conversation.Event{
		of("a", ev(0, started, "telegram", "en", "", "", "")),
		of("a", ev(1, shown, "telegram", "en", "", "", paypal)),
		of("a", ev(2, failed, "telegram", "en", "", "", paypal)),
		of("a", ev(24*60+3, worked, "telegram", "en", "", "", paypal)), // "sorry, PayPal did work", the next day
		of("b", ev(10, shown, "slack", "zh-Hans", "", "", paypal)),
		of("b", ev(11, worked, "slack", "zh-Hans", "", "", paypal)),
		of("b", ev(12, shown, "slack", "zh-Hans", "", "", paypal)), // a new problem, PayPal again
		of("b", ev(13, failed, "slack", "zh-Hans", "", "", paypal)),
		ev(20, shown, "slack", "en", "", "", paypal), // events from before dialogs had a pseudonym
		ev(21, failed, "slack", "en", "", "", paypal),
		ev(22, failed, "slack", "en", "", "", paypal),
	}
	r, err := stats.Compute(all(events), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (stats.Totals{Started: 1, Shown: 4, Worked: 2, Failed: 3}); r.Totals != want {
		t.Errorf("totals %+v, want %+v", r.Totals, want)
	}
	if want := []stats.Solution{{ID: paypal, Shown: 4, Worked: 2, Failed: 3}}; !slices.Equal(r.Solutions, want) {
		t.Errorf("solutions %+v, want %+v", r.Solutions, want)
	}
	for _, p := range r.Platforms {
		if p.Name == "telegram" && (p.Worked != 1 || p.Failed != 0) {
			t.Errorf("telegram %+v: the corrected failure still counts", p.Totals)
		}
	}
	if len(r.Days) != 2 || r.Days[0].Failed != 3 || r.Days[1].Worked != 1 {
		t.Errorf("days %+v: the failure corrected the next day comes off its own day", r.Days)
	}
}

// Requests for a human where no helper is connected are counted apart from handoffs, in the
// totals and the text an operator reads.
func TestCompute_NoHelper(t *testing.T) {
	events := []conversation.Event{
		ev(0, started, "telegram", "zh-Hans", "", "", ""),
		ev(1, conversation.EventNoHelper, "telegram", "zh-Hans", "", "", ""),
		ev(2, conversation.EventNoHelper, "slack", "en", "", "", ""),
	}
	r, err := stats.Compute(all(events), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.NoHelper != 2 || r.Totals.Handoffs != 0 {
		t.Errorf("totals %+v: want 2 asked with no helper, no handoff", r.Totals)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "asked, no helper connected  2") {
		t.Errorf("the text report does not say so:\n%s", text.String())
	}
}
