package dashboard

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paydoctor/bot/internal/stats"
)

// chart is one SVG drawing: bars (marks), grid lines and texts, in a W x H view box. With
// Empty set, it shows that text instead.
type chart struct {
	ID, Title, Note string
	W, H            float64
	Marks           []mark
	Lines           []line
	Labels          []label
	Legend          []legend
	Empty           string
}

// mark is one bar: a figure of the report, named by its series and key (a day, a solution
// ID, a handoff's time) in data attributes.
type mark struct {
	X, Y, W, H  float64
	Class       string // its colour, from the page's CSS
	Series, Key string
	Value       int
	Tip         string
}

type line struct{ X1, Y1, X2, Y2 float64 }

type label struct {
	X, Y   float64
	Anchor string // start, middle or end
	Class  string
	Text   string
}

type legend struct{ Class, Label string }

const width = 720

// r1 rounds to a tenth, enough for a pixel and short in the page.
func r1(x float64) float64 { return math.Round(x*10) / 10 }

func (c *chart) bar(x, y, w, h float64, class, series, key string, value int, tip string) {
	c.Marks = append(c.Marks, mark{X: r1(x), Y: r1(y), W: r1(w), H: r1(h), Class: class, Series: series, Key: key, Value: value, Tip: tip})
}

func (c *chart) text(x, y float64, anchor, class, s string) {
	c.Labels = append(c.Labels, label{X: r1(x), Y: r1(y), Anchor: anchor, Class: class, Text: s})
}

// niceMax is the axis' top: the least of 1, 2, 5, 10, 20, 50... at or above v.
func niceMax(v int) int {
	for base := 1; ; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*base >= v {
				return m * base
			}
		}
	}
}

// yGrid draws horizontal grid lines with their values, from 0 at the bottom to top.
func (c *chart) yGrid(left, top, plotW, plotH float64, max int) {
	ticks := []int{0, max}
	if max%2 == 0 {
		ticks = []int{0, max / 2, max}
	}
	for _, v := range ticks {
		y := r1(top + plotH - float64(v)/float64(max)*plotH)
		c.Lines = append(c.Lines, line{r1(left), y, r1(left + plotW), y})
		c.text(left-6, y+4, "end", "axis", strconv.Itoa(v))
	}
}

func empty(id, title, note, text string) *chart {
	return &chart{ID: id, Title: title, Note: note, W: width, H: 60, Empty: text}
}

func itoa(n int) string { return strconv.Itoa(n) }

// dailyChart: dialogs started and diagnoses, two bars a day.
func dailyChart(t *texts, days []stats.Day) *chart {
	c := &chart{ID: "daily", Title: t.DailyTitle, Note: t.DailyNote, W: width, H: 220,
		Legend: []legend{{"s-started", t.Started}, {"s-diagnosed", t.Diagnosed}}}
	const left, right, top, bottom = 40.0, 10.0, 10.0, 24.0
	plotW, plotH := c.W-left-right, c.H-top-bottom
	most := 0
	for _, d := range days {
		most = max(most, d.Started, d.Diagnosed)
	}
	top2 := niceMax(most)
	c.yGrid(left, top, plotW, plotH, top2)
	slot := plotW / float64(len(days))
	bw := slot * 0.4
	for i, d := range days {
		x := left + float64(i)*slot + slot*0.1
		for j, s := range []struct {
			series, label string
			v             int
		}{{"started", t.Started, d.Started}, {"diagnosed", t.Diagnosed, d.Diagnosed}} {
			h := float64(s.v) / float64(top2) * plotH
			c.bar(x+float64(j)*bw, top+plotH-h, bw, h, "s-"+s.series, s.series, d.Date, s.v, d.Date+" · "+s.label+": "+itoa(s.v))
		}
		if (len(days)-1-i)%5 == 0 {
			c.text(left+float64(i)*slot+slot/2, c.H-8, "middle", "axis", d.Date[5:])
		}
	}
	return c
}

// causeClass is the colour of the cause at position i of the report's causes.
func causeClass(i int) string { return "p" + itoa(i%8) }

func causeName(t *texts, id string) string {
	if id == "" {
		return t.NoCause
	}
	return id
}

// causesChart: each day's diagnoses, stacked by cause.
func causesChart(t *texts, rep stats.Report, days []stats.Day) *chart {
	most := 0
	for _, d := range days {
		most = max(most, d.Diagnosed)
	}
	if most == 0 {
		return empty("causes", t.CausesTitle, t.CausesNote, t.NoData)
	}
	c := &chart{ID: "causes", Title: t.CausesTitle, Note: t.CausesNote, W: width, H: 220}
	order := map[string]int{}
	for i, cc := range rep.Causes {
		order[cc.ID] = i
		c.Legend = append(c.Legend, legend{causeClass(i), causeName(t, cc.ID)})
	}
	const left, right, top, bottom = 40.0, 10.0, 10.0, 24.0
	plotW, plotH := c.W-left-right, c.H-top-bottom
	top2 := niceMax(most)
	c.yGrid(left, top, plotW, plotH, top2)
	slot := plotW / float64(len(days))
	for i, d := range days {
		y := top + plotH
		// Bottom up in the legend's order.
		counts := make([]int, len(rep.Causes))
		for _, cc := range d.Causes {
			counts[order[cc.ID]] = cc.Count
		}
		for j, n := range counts {
			if n == 0 {
				continue
			}
			id := rep.Causes[j].ID
			h := float64(n) / float64(top2) * plotH
			y -= h
			c.bar(left+float64(i)*slot+slot*0.15, y, slot*0.7, h, causeClass(j), id, d.Date, n, d.Date+" · "+causeName(t, id)+": "+itoa(n))
		}
		if (len(days)-1-i)%5 == 0 {
			c.text(left+float64(i)*slot+slot/2, c.H-8, "middle", "axis", d.Date[5:])
		}
	}
	return c
}

// solutionsChart: per solution, shown, worked and did not work, one row each.
func solutionsChart(t *texts, solutions []stats.Solution) *chart {
	if len(solutions) == 0 {
		return empty("solutions", t.SolutionsTitle, t.SolutionsNote, t.NoData)
	}
	const left, right, top, rowH, barH = 170.0, 50.0, 8.0, 40.0, 10.0
	c := &chart{ID: "solutions", Title: t.SolutionsTitle, Note: t.SolutionsNote, W: width, H: top*2 + rowH*float64(len(solutions)),
		Legend: []legend{{"s-shown", t.Shown}, {"s-worked", t.Worked}, {"s-failed", t.Failed}}}
	plotW := c.W - left - right
	most := 0
	for _, s := range solutions {
		most = max(most, s.Shown, s.Worked, s.Failed)
	}
	top2 := niceMax(most)
	for i, s := range solutions {
		y0 := top + float64(i)*rowH
		name := s.ID
		if name == "" {
			name = t.NoCause
		}
		c.text(left-8, y0+rowH/2, "end", "name", name)
		if answered := s.Worked + s.Failed; answered > 0 {
			c.text(left-8, y0+rowH/2+13, "end", "axis", percent(s.Worked, answered, t.OfAnswered))
		}
		for j, b := range []struct {
			series, label string
			v             int
		}{{"shown", t.Shown, s.Shown}, {"worked", t.Worked, s.Worked}, {"failed", t.Failed, s.Failed}} {
			y := y0 + 4 + float64(j)*(barH+1)
			w := float64(b.v) / float64(top2) * plotW
			c.bar(left, y, w, barH, "s-"+b.series, b.series, s.ID, b.v, name+" · "+b.label+": "+itoa(b.v))
			c.text(left+w+4, y+barH-1, "start", "value", itoa(b.v))
		}
	}
	c.Lines = append(c.Lines, line{left, top, left, c.H - top})
	return c
}

// funnelChart: started, diagnosed, solved (worked) and handed to a human.
func funnelChart(t *texts, tt stats.Totals) *chart {
	const left, right, top, rowH, barH = 170.0, 130.0, 8.0, 36.0, 26.0
	rows := []struct {
		series, label string
		v             int
	}{{"started", t.Started, tt.Started}, {"diagnosed", t.Diagnosed, tt.Diagnosed}, {"worked", t.Solved, tt.Worked}, {"handoffs", t.Handoffs, tt.Handoffs}}
	c := &chart{ID: "funnel", Title: t.FunnelTitle, Note: t.FunnelNote, W: width, H: top*2 + rowH*float64(len(rows))}
	plotW := c.W - left - right
	most := 1
	for _, r := range rows {
		most = max(most, r.v)
	}
	for i, r := range rows {
		y := top + float64(i)*rowH
		w := float64(r.v) / float64(most) * plotW
		c.bar(left, y, w, barH, "s-"+r.series, r.series, "totals", r.v, r.label+": "+itoa(r.v))
		c.text(left-8, y+barH/2+5, "end", "name", r.label)
		value := itoa(r.v)
		if i > 0 {
			value += " · " + percent(r.v, tt.Started, t.OfStarted)
		}
		c.text(left+w+6, y+barH/2+5, "start", "value", value)
	}
	return c
}

// handoffsChart: the handoffs of the period still open, newest first, each bar its age.
func handoffsChart(t *texts, rep stats.Report, now time.Time) *chart {
	open := OpenHandoffs(rep)
	note := t.HandoffsNote
	if len(open) <= MaxHandoffRows {
		note = t.HandoffsAllNote
	}
	note = strings.NewReplacer("{shown}", itoa(min(len(open), MaxHandoffRows)), "{total}", itoa(len(open)), "{requests}", itoa(rep.Totals.Handoffs)).Replace(note)
	if len(open) == 0 {
		return empty("handoffs", t.HandoffsTitle, strings.ReplaceAll(t.HandoffsNoneNote, "{requests}", itoa(rep.Totals.Handoffs)), t.NoneInPeriod)
	}
	hs := open[:min(len(open), MaxHandoffRows)]
	const left, right, top, rowH = 210.0, 190.0, 6.0, 20.0
	c := &chart{ID: "handoffs", Title: t.HandoffsTitle, Note: note, W: width, H: top*2 + rowH*float64(len(hs))}
	plotW := c.W - left - right
	var oldest time.Duration
	for _, h := range hs {
		oldest = max(oldest, now.Sub(h.At))
	}
	oldest = max(oldest, time.Minute)
	for i, h := range hs {
		y := top + float64(i)*rowH
		age := max(now.Sub(h.At), 0)
		w := float64(age) / float64(oldest) * plotW
		at := h.At.UTC().Format("01-02 15:04")
		who := at + " · " + h.Platform + " · " + h.Lang
		c.text(left-8, y+rowH/2+4, "end", "name", who)
		c.bar(left, y+3, w, rowH-6, "s-handoffs", "age", h.At.Format(time.RFC3339Nano), int(age/time.Second),
			who+" · "+t.Age+": "+fmtAge(t, age)+" · "+causeName(t, h.Cause))
		c.text(left+w+6, y+rowH/2+4, "start", "value", fmtAge(t, age)+" · "+causeName(t, h.Cause))
	}
	return c
}

// freeTextChart: of the free texts the recogniser handled, the share it recognised, asked
// about (clarified), did not understand and found to be about something else, as one bar.
func freeTextChart(t *texts, f stats.FreeText) *chart {
	total := f.Total()
	if total == 0 {
		return empty("free-text", t.FreeTextTitle, t.FreeTextNoData, t.NoData)
	}
	const left, right, top = 10.0, 10.0, 34.0
	c := &chart{ID: "free-text", Title: t.FreeTextTitle, Note: t.FreeTextNote, W: width, H: 80,
		Legend: []legend{{"s-recognized", t.Recognized}, {"s-clarified", t.Clarified}, {"s-not_understood", t.NotUnderstood}, {"s-off_topic", t.OffTopic}}}
	plotW := c.W - left - right
	c.text(left, 22, "start", "big", t.Clarified+": "+percent(f.Clarified, total, t.OfFreeText))
	x := left
	for _, s := range []struct {
		series, label string
		v             int
	}{{"recognized", t.Recognized, f.Recognized}, {"clarified", t.Clarified, f.Clarified}, {"not_understood", t.NotUnderstood, f.NotUnderstood},
		{"off_topic", t.OffTopic, f.OffTopic}} {
		w := float64(s.v) / float64(total) * plotW
		c.bar(x, top, w, 30, "s-"+s.series, s.series, "free_text", s.v, s.label+": "+itoa(s.v)+" · "+percent(s.v, total, t.OfFreeText))
		x += w
	}
	return c
}

// OpenHandoffs are the handoffs of rep still open, newest first: what the handoff chart
// draws.
func OpenHandoffs(rep stats.Report) []stats.Handoff {
	var open []stats.Handoff
	for _, h := range rep.Handoffs {
		if h.Open {
			open = append(open, h)
		}
	}
	return open
}

// percent is n of `of` as "42%" put in format at {p} ("{p} of started"); "" when of is zero.
// It rounds as bot stats does.
func percent(n, of int, format string) string {
	if of == 0 {
		return ""
	}
	return strings.ReplaceAll(format, "{p}", strconv.Itoa((100*n+of/2)/of)+"%")
}

// fmtAge writes d as "3d 4h", "5h 12m" or "7m".
func fmtAge(t *texts, d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m < 60:
		return itoa(m) + t.Minutes
	case m < 24*60:
		return itoa(m/60) + t.Hours + " " + itoa(m%60) + t.Minutes
	}
	return itoa(m/(24*60)) + t.Days + " " + itoa(m/60%24) + t.Hours
}
