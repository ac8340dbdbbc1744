package main

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paydoctor/bot/internal/conversation"
)

// activeWindow is how recently a dialog must have had a message to count as active.
const activeWindow = time.Hour

// metrics are the bot's Prometheus metrics, on a registry of its own. The service's observer
// feeds the counters of updates and events; the adapters count what they send through
// platformMetrics.
type metrics struct {
	reg *prometheus.Registry

	updates     *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	failures    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	sent        *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	retries     *prometheus.CounterVec
	started     *prometheus.CounterVec
	diagnoses   *prometheus.CounterVec
	shown       *prometheus.CounterVec
	worked      *prometheus.CounterVec
	failed      *prometheus.CounterVec
	handoffs    *prometheus.CounterVec
	noHelper    *prometheus.CounterVec

	now    func() time.Time
	mu     sync.Mutex
	active map[conversation.Key]time.Time // last message of each dialog within activeWindow
}

func newMetrics(now func() time.Time) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), now: now, active: map[conversation.Key]time.Time{}}
	counter := func(name, help string, label string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "paydoctor", Name: name, Help: help}, []string{label})
		m.reg.MustRegister(c)
		return c
	}
	m.updates = counter("updates_total", "Messages and button presses handled, per platform (duplicates included).", "platform")
	m.duplicates = counter("updates_duplicate_total", "Updates the platform delivered again and the bot had handled already.", "platform")
	m.failures = counter("update_errors_total", "Updates whose handling failed (the platform delivers them again).", "platform")
	m.sent = counter("messages_sent_total", "Messages the platform accepted from the bot.", "platform")
	m.rateLimited = counter("rate_limited_total", "Calls the platform answered with 429 Too Many Requests.", "platform")
	m.retries = counter("retries_total", "Calls made again after a network or server error.", "platform")
	m.started = counter("dialogs_started_total", "Dialogs started or started over.", "platform")
	m.diagnoses = counter("diagnoses_total", "Diagnoses reached, by cause ID (\"none\" for an outcome with no cause).", "cause")
	m.shown = counter("solutions_shown_total", "Solutions shown, by solution ID.", "solution")
	m.worked = counter("solutions_worked_total", "Solutions people said worked, by solution ID.", "solution")
	m.failed = counter("solutions_failed_total", "Solutions people said did not work, by solution ID.", "solution")
	m.handoffs = counter("handoffs_total", "Requests for a human, by the platform of the person asking.", "platform")
	m.noHelper = counter("no_helper_total", "Requests for a human where no helper is connected (sent to OpenAI's support instead).", "platform")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "paydoctor", Name: "handle_seconds",
		Help:    "Time to handle one update: the engine's step and the store's commit.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"platform"})
	m.reg.MustRegister(m.latency)
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "paydoctor", Name: "active_dialogs",
		Help: "Dialogs with a message in the last hour (counted since this process started).",
	}, func() float64 { return float64(m.activeDialogs()) }))
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// serve makes the per-platform series of platform exist from the start, at zero.
func (m *metrics) serve(platform string) {
	for _, c := range []*prometheus.CounterVec{m.updates, m.duplicates, m.failures, m.sent, m.rateLimited, m.retries, m.started, m.handoffs, m.noHelper} {
		c.WithLabelValues(platform)
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observe is the service's conversation.Observer.
func (m *metrics) observe(in conversation.Inbound, res conversation.Result, err error, took time.Duration) {
	p := in.Key.Platform
	m.updates.WithLabelValues(p).Inc()
	switch {
	case errors.Is(err, conversation.ErrDuplicate):
		m.duplicates.WithLabelValues(p).Inc()
		return
	case err != nil:
		m.failures.WithLabelValues(p).Inc()
		return
	}
	m.latency.WithLabelValues(p).Observe(took.Seconds())
	m.touch(in.Key)
	for _, e := range res.Events {
		switch e.Kind {
		case conversation.EventStarted:
			m.started.WithLabelValues(p).Inc()
		case conversation.EventDiagnosed:
			cause := e.Cause
			if cause == "" {
				cause = "none"
			}
			m.diagnoses.WithLabelValues(cause).Inc()
		case conversation.EventShown:
			m.shown.WithLabelValues(e.Solution).Inc()
		case conversation.EventWorked:
			m.worked.WithLabelValues(e.Solution).Inc()
		case conversation.EventFailed:
			m.failed.WithLabelValues(e.Solution).Inc()
		case conversation.EventHandoff:
			m.handoffs.WithLabelValues(p).Inc()
		case conversation.EventNoHelper:
			m.noHelper.WithLabelValues(p).Inc()
		}
	}
}

func (m *metrics) touch(k conversation.Key) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.active[k] = now
	if len(m.active) > 1000 && len(m.active)%1000 == 0 {
		m.prune(now)
	}
}

func (m *metrics) activeDialogs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(m.now())
	return len(m.active)
}

// prune forgets dialogs quiet for activeWindow; m.mu must be held.
func (m *metrics) prune(now time.Time) {
	for k, t := range m.active {
		if now.Sub(t) > activeWindow {
			delete(m.active, k)
		}
	}
}

// platform returns the counters an adapter feeds (telegram.Metrics, slack.Metrics).
func (m *metrics) platform(name string) platformMetrics {
	return platformMetrics{sent: m.sent.WithLabelValues(name), limited: m.rateLimited.WithLabelValues(name), retried: m.retries.WithLabelValues(name)}
}

type platformMetrics struct{ sent, limited, retried prometheus.Counter }

func (p platformMetrics) MessageSent() { p.sent.Inc() }
func (p platformMetrics) RateLimited() { p.limited.Inc() }
func (p platformMetrics) Retried()     { p.retried.Inc() }
