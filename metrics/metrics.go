// Package metrics counts what the explainer does, for Prometheus: questions
// by platform and outcome, how long answers take, why questions were
// declined, errors, rate-limited requests and knowledge base reloads.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/explainerbot/explainer/bot"
)

// Outcomes of a question.
const (
	OutcomeAnswered = "answered"
	OutcomeDeclined = "declined"
	OutcomeError    = "error"
)

// Metrics holds the explainer's collectors. Its methods are safe for
// concurrent use.
type Metrics struct {
	questions   *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	declines    *prometheus.CounterVec
	errors      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	panics      prometheus.Counter
	reloads     *prometheus.CounterVec
	entries     prometheus.Gauge
}

// New creates the collectors and registers them with reg. It panics if
// they are already registered there, as prometheus.MustRegister does.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		questions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "explainer_questions_total",
			Help: "Questions asked, by platform and outcome (answered, declined, error).",
		}, []string{"platform", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "explainer_answer_duration_seconds",
			Help:    "Time the engine took to answer a question, by platform.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"platform"}),
		declines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "explainer_declines_total",
			Help: "Questions declined, by platform and reason (not_covered, gap, advice, ...).",
		}, []string{"platform", "reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "explainer_errors_total",
			Help: "Questions that failed with an error, by platform.",
		}, []string{"platform"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "explainer_rate_limited_total",
			Help: "Requests refused because their client exceeded its rate, by route.",
		}, []string{"route"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "explainer_panics_total",
			Help: "Panics recovered while handling a request or running a platform.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "explainer_kb_reloads_total",
			Help: "Knowledge base reloads, by result (ok, error).",
		}, []string{"result"}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "explainer_kb_entries",
			Help: "Entries in the knowledge base being served.",
		}),
	}
	reg.MustRegister(m.questions, m.latency, m.declines, m.errors, m.rateLimited, m.panics, m.reloads, m.entries)
	return m
}

// Asker answers questions: the engine, or anything that wraps it.
type Asker interface {
	Ask(ctx context.Context, q bot.Question) (bot.Answer, error)
}

// Asker returns next counting every question it answers: by its platform
// and outcome, its latency and, when declined, its reason. Platforms that
// ask through it are counted without doing anything else.
func (m *Metrics) Asker(next Asker) Asker { return counted{next: next, m: m} }

type counted struct {
	next Asker
	m    *Metrics
}

func (c counted) Ask(ctx context.Context, q bot.Question) (bot.Answer, error) {
	start := time.Now()
	a, err := c.next.Ask(ctx, q)
	c.m.Observe(q.Platform, time.Since(start), a, err)
	return a, err
}

// Observe records one question's outcome.
func (m *Metrics) Observe(platform string, took time.Duration, a bot.Answer, err error) {
	if platform == "" {
		platform = "unknown"
	}
	var outcome string
	switch {
	case err != nil:
		outcome = OutcomeError
		m.errors.WithLabelValues(platform).Inc()
	case a.Answered:
		outcome = OutcomeAnswered
	default:
		outcome = OutcomeDeclined
		reason := a.Reason
		if reason == "" {
			reason = "unknown"
		}
		m.declines.WithLabelValues(platform, reason).Inc()
	}
	m.questions.WithLabelValues(platform, outcome).Inc()
	m.latency.WithLabelValues(platform).Observe(took.Seconds())
}

// RateLimited counts a request refused for exceeding its client's rate.
func (m *Metrics) RateLimited(route string) { m.rateLimited.WithLabelValues(route).Inc() }

// Panic counts a recovered panic.
func (m *Metrics) Panic() { m.panics.Inc() }

// Reloaded records a knowledge base reload: its error, or the number of
// entries now served.
func (m *Metrics) Reloaded(entries int, err error) {
	if err != nil {
		m.reloads.WithLabelValues("error").Inc()
		return
	}
	m.reloads.WithLabelValues("ok").Inc()
	m.entries.Set(float64(entries))
}

// Loaded records the entries of the knowledge base served at start-up.
func (m *Metrics) Loaded(entries int) { m.entries.Set(float64(entries)) }
