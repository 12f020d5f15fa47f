package bot

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/explainerbot/explainer/knowledge"
	"github.com/explainerbot/explainer/knowledge/kbtest"
)

// benchQuestions are the labelled questions of the public sample and the
// development set, answerable and not.
func benchQuestions(b *testing.B) []string {
	var qs []string
	for _, name := range []string{"../../shared/eval/questions.jsonl", "testdata/dev.jsonl"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var c struct{ Q string }
			if json.Unmarshal(sc.Bytes(), &c) == nil && c.Q != "" {
				qs = append(qs, c.Q)
			}
		}
		f.Close()
	}
	if len(qs) == 0 {
		b.Fatal("no questions")
	}
	return qs
}

// runAsk asks the questions in turn and reports latency percentiles, with
// the collector tuned as the explainer command tunes it (GOGC=400) unless
// GOGC is set.
func runAsk(b *testing.B, e *Engine, qs []string) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t := time.Now()
		if _, err := e.Ask(ctx, Question{Text: qs[i%len(qs)]}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// The uncached path: every question searched and composed.
func BenchmarkAskDefaultKB(b *testing.B) {
	runAsk(b, New(engine(b).search, Options{CacheSize: -1}), benchQuestions(b))
}

// Repeated questions, answered from the engine's cache.
func BenchmarkAskDefaultKBCached(b *testing.B) {
	runAsk(b, engine(b), benchQuestions(b))
}

func BenchmarkAsk10kEntries(b *testing.B) {
	fs := kbtest.Synthetic(10000, 1)
	kb, err := knowledge.LoadFS(fs, "synthetic")
	if err != nil {
		b.Fatal(err)
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	runAsk(b, New(ix, Options{CacheSize: -1}), kbtest.Questions(fs, 500, 2))
}

func BenchmarkStartup(b *testing.B) {
	for range b.N {
		kb, err := knowledge.Default()
		if err != nil {
			b.Fatal(err)
		}
		ix, err := knowledge.NewIndex(kb)
		if err != nil {
			b.Fatal(err)
		}
		New(ix, Options{})
		ix.Close()
	}
}
