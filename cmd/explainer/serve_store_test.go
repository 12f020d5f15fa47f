package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/live"
	"github.com/explainerbot/explainer/metrics"
	"github.com/explainerbot/explainer/store"
)

// answerer answers every question the same, or fails.
type answerer struct{ err error }

func (a answerer) Ask(_ context.Context, q bot.Question) (bot.Answer, error) {
	if a.err != nil {
		return bot.Answer{}, a.err
	}
	return bot.Answer{Question: q.Text, Answered: true, Lead: "Yes.", Entries: []string{"e1"}, Confidence: 0.9}, nil
}

func (a answerer) AskStream(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
	if partial != nil {
		partial("Yes")
	}
	return a.Ask(ctx, q)
}

type failingLog struct{ calls int }

func (f *failingLog) LogQuestion(context.Context, bot.Question, bot.Answer) error {
	f.calls++
	return errors.New("database is locked")
}

func openTestStore(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "explainer.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestQuestionLogRecordsEveryQuestion(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t, store.Options{})
	a := logQuestions(answerer{}, st, slog.New(slog.DiscardHandler))
	if _, err := a.Ask(ctx, bot.Question{Text: "is it true?", User: "U1", Platform: bot.PlatformAPI}); err != nil {
		t.Fatal(err)
	}
	var shown []string
	if _, err := a.AskStream(ctx, bot.Question{Text: "and this?", User: "U2", Platform: bot.PlatformSlack}, func(s string) { shown = append(shown, s) }); err != nil || len(shown) != 1 {
		t.Fatalf("AskStream: %v, partial texts %v", err, shown)
	}
	if _, err := logQuestions(answerer{err: errors.New("index closed")}, st, slog.New(slog.DiscardHandler)).Ask(ctx, bot.Question{Text: "lost?"}); err == nil {
		t.Fatal("the engine's error was not passed on")
	}
	qs, err := st.Questions(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].Platform != "api" || qs[1].Platform != "slack" || qs[0].User != "" || qs[1].User != "" || !qs[0].Answered || qs[0].Entries[0] != "e1" {
		t.Errorf("question log %+v, want two answered questions without user ids (an engine error is not logged)", qs)
	}
}

// A question log that fails costs nothing but a warning.
func TestQuestionLogNeverCostsAnAnswer(t *testing.T) {
	logs := &logBuffer{}
	fl := &failingLog{}
	a := logQuestions(answerer{}, fl, slog.New(slog.NewJSONHandler(logs, nil)))
	ans, err := a.Ask(context.Background(), bot.Question{Text: "is it true?", Platform: bot.PlatformDiscord})
	if err != nil || ans.Lead != "Yes." || fl.calls != 1 {
		t.Fatalf("answer %+v, %v after %d log writes", ans, err, fl.calls)
	}
	if !strings.Contains(logs.String(), "question not written to the question log") || !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("the failure is not logged:\n%s", logs)
	}
}

func TestCuratorReport(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 27, 8, 0, 0, 0, time.UTC)
	st := openTestStore(t, store.Options{Now: func() time.Time { return now.Add(-time.Hour) }})
	report := curatorReport(st, time.UTC)
	if text, err := report(ctx, now.AddDate(0, 0, -7), now); err != nil || text != "" {
		t.Fatalf("an empty week: %q, %v; want nothing", text, err)
	}
	for _, q := range []string{"who is Liang Wenfeng?", "who's liang wenfeng", "what is the weather"} {
		st.LogQuestion(ctx, bot.Question{Text: q, Platform: bot.PlatformSlack}, bot.Answer{Answered: false, Reason: bot.ReasonNotCovered})
	}
	st.RecordFeedback(ctx, bot.Feedback{Platform: bot.PlatformDiscord, Question: "did nvidia recover?", Entries: []string{"selloff"}, Helpful: false, At: now.Add(-time.Hour)})
	text, err := report(ctx, now.AddDate(0, 0, -7), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Weekly report for curators", "3 declined, 1 marked unhelpful", "2× who is liang wenfeng?", "👎 1 on entries selloff", "explainer kb gaps --since 7d"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

// attach gives the scheduler a poster for each platform that can post,
// and the curators' report only when its platform is one of them.
func TestAttachCuratorReport(t *testing.T) {
	ctx := context.Background()
	ix, _, err := live.Load(ctx, digestKB)
	if err != nil {
		t.Fatal(err)
	}
	eng := live.New(ix, bot.Options{})
	defer eng.Close()
	for _, tt := range []struct {
		curator string
		weekly  bool
	}{
		{"", false},
		{"slack:C0CURATORS", true},
		{"discord:123456789012345678", false}, // Discord is off
	} {
		logs := &logBuffer{}
		d := serveDeps{Log: slog.New(slog.NewJSONHandler(logs, nil)), Engine: eng, Store: openTestStore(t, store.Options{})}
		d.Config.CuratorChannel, d.Config.TZ, d.Config.DigestMaxRetries = tt.curator, "UTC", 3
		d.Config.SlackBotToken, d.Config.SlackSigningSecret = "xoxb-1-2-t", "s"
		g, err := newServeDigests(ctx, d, bot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d.Digests = g.channels
		sl, err := newSlack(serveDeps{Config: d.Config, Log: d.Log, Asker: metrics.New(prometheus.NewRegistry()).Asker(eng), Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.attach(d, []platform{sl}); err != nil {
			t.Fatal(err)
		}
		if (g.weekly != nil) != tt.weekly || g.channels.Scheduler == nil {
			t.Errorf("curator %q: weekly report %v, want %v", tt.curator, g.weekly != nil, tt.weekly)
		}
		if tt.curator != "" && !tt.weekly && !strings.Contains(logs.String(), "curator report off") {
			t.Errorf("curator %q off without a word:\n%s", tt.curator, logs)
		}
	}
}

// BenchmarkQuestionLog is an answer from the built-in knowledge base with
// and without writing it to the question log.
func BenchmarkQuestionLog(b *testing.B) {
	ctx := context.Background()
	ix, _, err := live.Load(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	eng := live.New(ix, bot.Options{})
	defer eng.Close()
	asker := metrics.New(prometheus.NewRegistry()).Asker(eng)
	q := bot.Question{Text: headline, Platform: bot.PlatformAPI}
	for _, bc := range []struct {
		name string
		ql   QuestionLogger
	}{{"without", nil}, {"with", openTestStore(b, store.Options{})}} {
		b.Run(bc.name, func(b *testing.B) {
			a := asker
			if bc.ql != nil {
				a = logQuestions(asker, bc.ql, slog.New(slog.DiscardHandler))
			}
			for b.Loop() {
				if _, err := a.Ask(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkComposerRefresh is what serve spends on the digest at start-up
// and after each reload: indexing the built-in knowledge base again for
// the vetting engine and vetting every entry's question of the day.
func BenchmarkComposerRefresh(b *testing.B) {
	ctx := context.Background()
	ix, _, err := live.Load(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	src := &liveDigests{}
	for b.Loop() {
		if err := src.refresh(ctx, ix.KB()); err != nil {
			b.Fatal(err)
		}
	}
}

// A knowledge base reload rebuilds the digest's composer from the new
// knowledge base; one that fails keeps the previous composer.
func TestReloadRebuildsTheDigest(t *testing.T) {
	ctx := context.Background()
	ix, _, err := live.Load(ctx, digestKB)
	if err != nil {
		t.Fatal(err)
	}
	eng := live.New(ix, bot.Options{})
	defer eng.Close()
	reg := prometheus.NewRegistry()
	logs := &logBuffer{}
	d := serveDeps{Log: slog.New(slog.NewJSONHandler(logs, nil)), Engine: eng, Store: openTestStore(t, store.Options{}), Metrics: metrics.New(reg), Registry: reg}
	g, err := newServeDigests(ctx, d, bot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{deps: d, digests: g}
	if days := g.source.cur.Load().Days(); days != 1 {
		t.Fatalf("%d days in the small KB's rotation", days)
	}
	s.reloaded(ctx)(0, errors.New("broken entry"))
	if days := g.source.cur.Load().Days(); days != 1 {
		t.Errorf("a failed reload changed the composer: %d days", days)
	}
	big, _, err := live.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Swap(big); err != nil {
		t.Fatal(err)
	}
	s.reloaded(ctx)(len(eng.KB().Entries()), nil)
	if days := g.source.cur.Load().Days(); days < 5 {
		t.Errorf("after reloading the built-in KB the rotation has %d days", days)
	}
	if !strings.Contains(logs.String(), "digest composer rebuilt") {
		t.Errorf("the rebuild is not logged:\n%s", logs)
	}
}
