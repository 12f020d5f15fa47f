package main

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/config"
	"github.com/explainerbot/explainer/llm"
	"github.com/explainerbot/explainer/metrics"
)

// serveSummarizer returns the engine options for fluent answers: with the
// LLM settings set, one model client shared by every knowledge base served
// (reloads included), its outcomes logged and counted in m; without them,
// none. It logs which it is, naming the model and the server's host, never
// the key. The model is not contacted here, and /readyz never waits on it:
// a model that is down only costs fluency.
func serveSummarizer(cfg config.Config, log *slog.Logger, m *metrics.Metrics) (bot.Options, error) {
	if !cfg.LLMEnabled() {
		log.Info("fluent answers off: answers are extractive (set LLM_BASE_URL and LLM_MODEL to have a language model write them)")
		return bot.Options{}, nil
	}
	c, err := llm.New(llm.FromSettings(cfg), log)
	if err != nil {
		return bot.Options{}, fmt.Errorf("LLM settings: %w", err)
	}
	m.WatchSummarizer(func() metrics.SummarizerStats {
		s := c.Stats()
		return metrics.SummarizerStats{Requests: s.Requests, CacheHits: s.CacheHits, Retries: s.Retries, Failures: s.Failures}
	})
	host := ""
	if u, err := url.Parse(cfg.LLMBaseURL); err == nil {
		host = u.Host
	}
	log.Info("fluent answers on: a language model writes answers from the retrieved points, under the grounding guard",
		"model", cfg.LLMModel, "server", host, "timeout", cfg.LLMTimeout)
	return bot.Options{Summarizer: c, Logger: log, OnSummary: m.Summary}, nil
}
