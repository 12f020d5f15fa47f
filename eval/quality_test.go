package eval

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

var showMisses = flag.Bool("misses", false, "print every miss of the quality test")

// The built-in knowledge base answers the labelled question sets: the
// public sample (held to the acceptance bar), and two held-out sets written
// independently of the KB, which guard against fitting the sample.
func TestQuality(t *testing.T) {
	kb, err := knowledge.Default()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	eng := bot.New(ix, bot.Options{})
	for _, set := range []struct {
		file string
		min  float64
	}{
		{"../../shared/eval/questions.jsonl", 0.97},
		{"../bot/testdata/dev.jsonl", 0.85},
		{"../bot/testdata/holdout.jsonl", 0.85},
	} {
		f, err := os.Open(set.file)
		if os.IsNotExist(err) {
			t.Logf("%s: not here, skipped", set.file)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		cases, err := Read(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", set.file, err)
		}
		r, err := Run(context.Background(), eng, cases)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", set.file, r)
		if *showMisses {
			for _, m := range r.Misses {
				t.Logf("  miss line %d: %q answered=%v entries=%v missing=%v", m.Case.Line, m.Case.Q, m.Answer.Answered, m.Answer.Entries, m.Missing)
			}
		}
		if r.Score() < set.min {
			t.Errorf("%s: score %.3f, want at least %.2f", set.file, r.Score(), set.min)
		}
	}
}
