package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/config"
	"github.com/explainerbot/explainer/httpapi"
	"github.com/explainerbot/explainer/metrics"
	"github.com/explainerbot/explainer/store"
)

// openServeStore opens the database at EXPLAINER_DB. A file that cannot
// be used is an error naming it (store.Error), and serve does not start.
func openServeStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DBPath, store.Options{LogUsers: cfg.LogUsers, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("database open", "path", cfg.DBPath, "log_users", cfg.LogUsers)
	return st, nil
}

// QuestionLogger keeps questions and what became of them (*store.Store).
type QuestionLogger interface {
	LogQuestion(ctx context.Context, q bot.Question, a bot.Answer) error
}

// logTimeout bounds writing one question to the log.
const logTimeout = 2 * time.Second

// questionLog is an asker that writes every question it answers, from
// every platform, to the question log. Logging never costs an answer: a
// failed write is logged and the answer goes out.
type questionLog struct {
	next metrics.StreamAsker
	ql   QuestionLogger
	log  *slog.Logger
}

// logQuestions wraps next so that every question it answers is logged to
// ql; with no ql it returns next.
func logQuestions(next metrics.StreamAsker, ql QuestionLogger, log *slog.Logger) metrics.StreamAsker {
	if ql == nil {
		return next
	}
	return questionLog{next: next, ql: ql, log: log}
}

func (l questionLog) Ask(ctx context.Context, q bot.Question) (bot.Answer, error) {
	a, err := l.next.Ask(ctx, q)
	if err == nil {
		l.record(ctx, q, a)
	}
	return a, err
}

func (l questionLog) AskStream(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
	a, err := l.next.AskStream(ctx, q, partial)
	if err == nil {
		l.record(ctx, q, a)
	}
	return a, err
}

func (l questionLog) record(ctx context.Context, q bot.Question, a bot.Answer) {
	// The answer is ready: a request that ends now still gets logged.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logTimeout)
	defer cancel()
	if err := l.ql.LogQuestion(ctx, q, a); err != nil {
		l.log.Warn("question not written to the question log", "platform", q.Platform, "err", err)
	}
}

// storeCheck is /readyz's look at the database: a cheap read.
func storeCheck(st *store.Store) httpapi.Check {
	return httpapi.Check{Name: "store", Ready: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return st.Ping(ctx)
	}}
}
