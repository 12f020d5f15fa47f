package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/explainerbot/explainer/bot"
)

type fakeAsker func(q bot.Question) (bot.Answer, error)

func (f fakeAsker) Ask(_ context.Context, q bot.Question) (bot.Answer, error) { return f(q) }

// value finds one sample: a counter's or gauge's value, or a histogram's
// count.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !matches(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func matches(m *dto.Metric, labels map[string]string) bool {
	if len(m.GetLabel()) != len(labels) {
		return false
	}
	for _, l := range m.GetLabel() {
		if labels[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

func TestAskerCountsEveryQuestion(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	asker := m.Asker(fakeAsker(func(q bot.Question) (bot.Answer, error) {
		switch q.Text {
		case "fail":
			return bot.Answer{}, errors.New("search failed")
		case "advice":
			return bot.Answer{Reason: bot.ReasonAdvice}, nil
		case "unknown":
			return bot.Answer{Reason: bot.ReasonNotCovered}, nil
		}
		return bot.Answer{Answered: true, Lead: "yes"}, nil
	}))
	asks := []struct{ text, platform string }{
		{"gpus", bot.PlatformSlack}, {"gpus", bot.PlatformSlack}, {"gpus", bot.PlatformDiscord},
		{"advice", bot.PlatformSlack}, {"unknown", bot.PlatformWeb}, {"fail", bot.PlatformAPI}, {"gpus", ""},
	}
	for _, a := range asks {
		ans, err := asker.Ask(context.Background(), bot.Question{Text: a.text, Platform: a.platform})
		if (a.text == "fail") != (err != nil) || (a.text == "gpus" && ans.Lead != "yes") {
			t.Fatalf("the decorator changed the answer to %q: %+v %v", a.text, ans, err)
		}
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"explainer_questions_total", map[string]string{"platform": "slack", "outcome": "answered"}, 2},
		{"explainer_questions_total", map[string]string{"platform": "slack", "outcome": "declined"}, 1},
		{"explainer_questions_total", map[string]string{"platform": "discord", "outcome": "answered"}, 1},
		{"explainer_questions_total", map[string]string{"platform": "web", "outcome": "declined"}, 1},
		{"explainer_questions_total", map[string]string{"platform": "api", "outcome": "error"}, 1},
		{"explainer_questions_total", map[string]string{"platform": "unknown", "outcome": "answered"}, 1},
		{"explainer_declines_total", map[string]string{"platform": "slack", "reason": "advice"}, 1},
		{"explainer_declines_total", map[string]string{"platform": "web", "reason": "not_covered"}, 1},
		{"explainer_errors_total", map[string]string{"platform": "api"}, 1},
		{"explainer_answer_duration_seconds", map[string]string{"platform": "slack"}, 3},
		{"explainer_answer_duration_seconds", map[string]string{"platform": "api"}, 1},
	}
	for _, tt := range tests {
		if got := value(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

func TestLatencyIsObserved(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Observe(bot.PlatformWeb, 3*time.Millisecond, bot.Answer{Answered: true}, nil)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "explainer_answer_duration_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleSum() != 0.003 {
				t.Errorf("latency sum = %v, want 0.003", h.GetSampleSum())
			}
			return
		}
	}
	t.Error("no latency histogram")
}

func TestOperationsCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.RateLimited("ask")
	m.RateLimited("ask")
	m.Panic()
	m.Loaded(50)
	m.Reloaded(0, errors.New("broken"))
	m.Reloaded(51, nil)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"explainer_rate_limited_total", map[string]string{"route": "ask"}, 2},
		{"explainer_panics_total", nil, 1},
		{"explainer_kb_reloads_total", map[string]string{"result": "error"}, 1},
		{"explainer_kb_reloads_total", map[string]string{"result": "ok"}, 1},
		{"explainer_kb_entries", nil, 51},
	}
	for _, tt := range tests {
		if got := value(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

func TestRegistersOnTheGivenRegistryOnly(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	New(prometheus.NewRegistry()) // a second instance elsewhere is fine
	defer func() {
		if recover() == nil {
			t.Error("registering twice on one registry did not panic")
		}
	}()
	New(reg)
}

func BenchmarkAsker(b *testing.B) {
	m := New(prometheus.NewRegistry())
	asker := m.Asker(fakeAsker(func(bot.Question) (bot.Answer, error) { return bot.Answer{Answered: true}, nil }))
	q := bot.Question{Text: "gpus", Platform: bot.PlatformSlack}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			asker.Ask(context.Background(), q)
		}
	})
}

// streamingAsker streams "a", "a b", then answers "a b c".
type streamingAsker struct{ fakeAsker }

func (s streamingAsker) AskStream(_ context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
	partial("a")
	partial("a b")
	return bot.Answer{Answered: true, Lead: "a b c", Fluent: true}, nil
}

func TestAskStreamIsCountedLikeAsk(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	plain := fakeAsker(func(q bot.Question) (bot.Answer, error) { return bot.Answer{Answered: true, Lead: "plain"}, nil })
	tests := []struct {
		name     string
		next     Asker
		partials []string
		lead     string
	}{
		{"streams when the engine does", streamingAsker{plain}, []string{"a", "a b"}, "a b c"},
		{"answers at once when it cannot", plain, nil, "plain"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			a, err := m.Asker(tt.next).AskStream(context.Background(), bot.Question{Text: "q", Platform: bot.PlatformWeb}, func(s string) { got = append(got, s) })
			if err != nil || a.Lead != tt.lead {
				t.Fatalf("AskStream = %q, %v; want %q", a.Lead, err, tt.lead)
			}
			if len(got) != len(tt.partials) || (len(got) > 0 && got[1] != tt.partials[1]) {
				t.Errorf("partials %q, want %q", got, tt.partials)
			}
			if n := value(t, reg, "explainer_questions_total", map[string]string{"platform": "web", "outcome": "answered"}); n != float64(i+1) {
				t.Errorf("answered questions = %v, want %d", n, i+1)
			}
		})
	}
}

func TestSummariesAreCountedByResultAndReason(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	for _, o := range []bot.SummaryOutcome{
		{Result: bot.SummaryUsed}, {Result: bot.SummaryUsed},
		{Result: bot.SummaryRejected, Reason: bot.RuleNumber, Detail: "50,000"},
		{Result: bot.SummaryFailed, Reason: "timeout"},
	} {
		m.Summary(o)
	}
	for _, tt := range []struct {
		result, reason string
		want           float64
	}{
		{"used", "", 2}, {"rejected", "number", 1}, {"failed", "timeout", 1}, {"rejected", "name", 0},
	} {
		if got := value(t, reg, "explainer_summaries_total", map[string]string{"result": tt.result, "reason": tt.reason}); got != tt.want {
			t.Errorf("summaries{%s,%s} = %v, want %v", tt.result, tt.reason, got, tt.want)
		}
	}
}

func TestWatchSummarizerReadsStatsAtEachScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	st := SummarizerStats{Requests: 3, CacheHits: 1, Retries: 2, Failures: 1}
	m.WatchSummarizer(func() SummarizerStats { return st })
	want := map[string]float64{
		"explainer_llm_requests_total": 3, "explainer_llm_cache_hits_total": 1,
		"explainer_llm_retries_total": 2, "explainer_llm_failures_total": 1,
	}
	for name, v := range want {
		if got := value(t, reg, name, nil); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	st.Requests = 10
	if got := value(t, reg, "explainer_llm_requests_total", nil); got != 10 {
		t.Errorf("after more requests: %v, want 10", got)
	}
}
