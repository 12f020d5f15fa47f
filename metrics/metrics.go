// Package metrics counts what the explainer does, for Prometheus: questions
// by platform and outcome, how long answers take, why questions were
// declined, errors, rate-limited requests, knowledge base reloads and, when
// a language model writes fluent answers, what became of each summary and
// the model calls behind them.
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
	summaries   *prometheus.CounterVec

	reg prometheus.Registerer
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
		summaries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "explainer_summaries_total",
			Help: "Fluent answers tried, by result (used, rejected by the grounding guard, failed) and reason (the guard rule, or the model failure).",
		}, []string{"result", "reason"}),
		reg: reg,
	}
	reg.MustRegister(m.questions, m.latency, m.declines, m.errors, m.rateLimited, m.panics, m.reloads, m.entries, m.summaries)
	return m
}

// Asker answers questions: the engine, or anything that wraps it.
type Asker interface {
	Ask(ctx context.Context, q bot.Question) (bot.Answer, error)
}

// StreamAsker also answers showing a fluent answer as it is written; see
// bot.Engine.AskStream.
type StreamAsker interface {
	Asker
	AskStream(ctx context.Context, q bot.Question, partial func(text string)) (bot.Answer, error)
}

// Asker returns next counting every question it answers: by its platform
// and outcome, its latency and, when declined, its reason. Platforms that
// ask through it are counted without doing anything else. Its AskStream
// streams when next is a StreamAsker, and otherwise answers as Ask does.
func (m *Metrics) Asker(next Asker) StreamAsker { return counted{next: next, m: m} }

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

func (c counted) AskStream(ctx context.Context, q bot.Question, partial func(text string)) (bot.Answer, error) {
	s, ok := c.next.(StreamAsker)
	if !ok {
		return c.Ask(ctx, q)
	}
	start := time.Now()
	a, err := s.AskStream(ctx, q, partial)
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

// Summary records one fluent answer tried: pass it as
// bot.Options.OnSummary.
func (m *Metrics) Summary(o bot.SummaryOutcome) {
	m.summaries.WithLabelValues(o.Result, o.Reason).Inc()
}

// SummarizerStats are the counts a summarizer keeps of its model calls.
type SummarizerStats struct {
	Requests  uint64 // HTTP requests to the model server, retries included
	CacheHits uint64 // answers served from its cache, no request made
	Retries   uint64
	Failures  uint64 // answers given up on (the extractive answer stood)
}

// WatchSummarizer exports a summarizer's counts, read from stats at every
// scrape, as explainer_llm_requests_total, explainer_llm_cache_hits_total,
// explainer_llm_retries_total and explainer_llm_failures_total. Call it
// once, when a summarizer is in use.
func (m *Metrics) WatchSummarizer(stats func() SummarizerStats) {
	counter := func(name, help string, pick func(SummarizerStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(pick(stats())) })
	}
	m.reg.MustRegister(
		counter("explainer_llm_requests_total", "Requests sent to the language model server, retries included.",
			func(s SummarizerStats) uint64 { return s.Requests }),
		counter("explainer_llm_cache_hits_total", "Fluent answers served from the cache without a model call.",
			func(s SummarizerStats) uint64 { return s.CacheHits }),
		counter("explainer_llm_retries_total", "Model calls retried after a rate limit, server error or dropped connection.",
			func(s SummarizerStats) uint64 { return s.Retries }),
		counter("explainer_llm_failures_total", "Fluent answers given up on after the model failed or timed out.",
			func(s SummarizerStats) uint64 { return s.Failures }),
	)
}
