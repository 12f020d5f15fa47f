package digest_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/knowledge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func defaultKB(t testing.TB) *knowledge.KB {
	t.Helper()
	kb, err := knowledge.Default()
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

func composer(t testing.TB, opts digest.Options) *digest.Composer {
	t.Helper()
	c, err := digest.NewComposer(context.Background(), defaultKB(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustDate(t testing.TB, s string) digest.Date {
	t.Helper()
	d, err := digest.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// allTopicPoints is every distinct point of the KB's topic entries.
func allTopicPoints(kb *knowledge.KB) map[string]bool {
	out := make(map[string]bool)
	for _, e := range kb.Entries() {
		if e.Kind == knowledge.Topic {
			for _, p := range e.Points {
				out[strings.ToLower(strings.TrimSpace(p.Text))] = true
			}
		}
	}
	return out
}

func pointTexts(d digest.Digest) []string {
	var out []string
	for _, p := range d.Points {
		out = append(out, p.Text)
	}
	return out
}

func TestTwoDatesDiffer(t *testing.T) {
	ctx := context.Background()
	c := composer(t, digest.Options{})
	for _, pair := range [][2]string{
		{"2025-01-27", "2025-01-28"},
		{"2025-03-29", "2025-03-30"},
		{"2025-12-31", "2026-01-01"},
	} {
		a, err := c.Compose(ctx, mustDate(t, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Compose(ctx, mustDate(t, pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(pointTexts(a), pointTexts(b)) {
			t.Errorf("%s and %s have the same key points: %q", pair[0], pair[1], pointTexts(a))
		}
		for _, d := range []digest.Digest{a, b} {
			if n := len(d.Points); n < 3 || n > 5 {
				t.Errorf("%s: %d key points, want 3 to 5", d.Day, n)
			}
		}
	}
}

// TestWholeRotation checks that a full rotation shows every topic point
// exactly once, in several cycles, and that no day repeats an entry's point
// before all are shown.
func TestWholeRotation(t *testing.T) {
	ctx := context.Background()
	kb := defaultKB(t)
	want := allTopicPoints(kb)
	for _, maxPoints := range []int{4, 5} {
		c := composer(t, digest.Options{MaxPoints: maxPoints})
		// Find the first day of a cycle.
		day := mustDate(t, "2025-01-27")
		for {
			d, err := c.Compose(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			if d.Rotation.Day == 1 {
				break
			}
			day = day.AddDays(1)
		}
		var firstOrder []string
		for cycle := range 3 {
			seen := make(map[string]int)
			var order []string
			clashes := 0 // points of a day from an entry already in it
			for i := range c.Days() {
				d, err := c.Compose(ctx, day)
				if err != nil {
					t.Fatal(err)
				}
				if d.Rotation.Day != i+1 || d.Rotation.Days != c.Days() {
					t.Fatalf("max %d: %s is day %d of %d, want %d of %d", maxPoints, day, d.Rotation.Day, d.Rotation.Days, i+1, c.Days())
				}
				if n := len(d.Points); n < 3 || n > maxPoints {
					t.Errorf("max %d: %s has %d points", maxPoints, day, n)
				}
				entries := make(map[string]bool)
				for _, p := range d.Points {
					key := strings.ToLower(strings.TrimSpace(p.Text))
					seen[key]++
					order = append(order, key)
					if entries[p.Entry] {
						clashes++
					}
					entries[p.Entry] = true
				}
				day = day.AddDays(1)
			}
			for p, n := range seen {
				if n != 1 {
					t.Errorf("max %d cycle %d: point shown %d times: %q", maxPoints, cycle, n, p)
				}
				if !want[p] {
					t.Errorf("max %d cycle %d: point not from a topic entry: %q", maxPoints, cycle, p)
				}
			}
			// Points are spread: a day repeats an entry only when the end
			// of the cycle leaves no choice.
			t.Logf("max %d cycle %d: %d days, %d repeated entries", maxPoints, cycle, c.Days(), clashes)
			if clashes > 2 {
				t.Errorf("max %d cycle %d: %d points share a day with another of their entry", maxPoints, cycle, clashes)
			}
			// Every topic point was shown, in its own words or another
			// entry's.
			for p := range want {
				if seen[p] > 0 {
					continue
				}
				var twin string
				for q := range seen {
					if digest.Similar(p, q) >= digest.SameWording {
						twin = q
					}
				}
				if twin == "" {
					t.Errorf("max %d cycle %d: point never shown: %q", maxPoints, cycle, p)
				}
			}
			if cycle == 0 {
				firstOrder = order
			} else if slices.Equal(order, firstOrder) {
				t.Errorf("max %d: cycle %d repeats the order of cycle 0", maxPoints, cycle)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	day := mustDate(t, "2025-02-14")
	a, err := composer(t, digest.Options{}).Compose(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	b, err := composer(t, digest.Options{}).Compose(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if a.Text() != b.Text() {
		t.Fatalf("two composers disagree on %s:\n%s\n---\n%s", day, a.Text(), b.Text())
	}
}

func TestParts(t *testing.T) {
	ctx := context.Background()
	kb := defaultKB(t)
	d, err := composer(t, digest.Options{}).Compose(ctx, mustDate(t, "2025-01-27"))
	if err != nil {
		t.Fatal(err)
	}
	featured := kb.About().Featured[0]
	if d.Headline.Entry != featured {
		t.Errorf("headline %q, want the first featured entry %q", d.Headline.Entry, featured)
	}
	if e, _ := kb.Entry(featured); d.Headline.Lead != e.Lead || d.Headline.Title != e.Title || len(d.Headline.Sources) == 0 {
		t.Errorf("headline %+v", d.Headline)
	}
	for _, p := range d.Points {
		if p.By == "" || p.Standing == "" || p.Entry == "" || p.Source == "" {
			t.Errorf("key point without attribution or source: %+v", p)
		}
	}
	if d.Question.Text == "" || d.Question.Entry == "" || d.Question.Entry == d.Headline.Entry {
		t.Errorf("question of the day %+v", d.Question)
	}
	if !strings.Contains(d.AskMore, "Ask me") {
		t.Errorf("ask-more line %q", d.AskMore)
	}
	if d.Topic != kb.About().Name {
		t.Errorf("topic %q, want %q", d.Topic, kb.About().Name)
	}
	if d.Title != "Daily brief for Monday 27 January 2025" || d.Day != "2025-01-27" {
		t.Errorf("title %q day %q", d.Title, d.Day)
	}
}

// TestQuestionsOfTheDayAreAnswered asks the bot every question of the day
// of a full cycle: each must be answered from the entry it stands for.
func TestQuestionsOfTheDayAreAnswered(t *testing.T) {
	ctx := context.Background()
	kb := defaultKB(t)
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	eng := bot.New(ix, bot.Options{})
	c := composer(t, digest.Options{Asker: eng})
	day := mustDate(t, "2025-01-01")
	asked := make(map[string]bool)
	for range 120 {
		d, err := c.Compose(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		day = day.AddDays(1)
		if asked[d.Question.Entry] {
			continue
		}
		asked[d.Question.Entry] = true
		a, err := eng.Ask(ctx, bot.Question{Text: d.Question.Text, Platform: bot.PlatformCLI})
		if err != nil {
			t.Fatal(err)
		}
		if !a.Answered || !slices.Contains(a.Entries, d.Question.Entry) {
			t.Errorf("question of the day %q (entry %s): answered=%v from %v", d.Question.Text, d.Question.Entry, a.Answered, a.Entries)
		}
	}
	if len(asked) < 5 {
		t.Errorf("only %d distinct questions of the day in 120 days", len(asked))
	}
}

func TestSummary(t *testing.T) {
	ctx := context.Background()
	day := mustDate(t, "2025-01-27")
	var gotPoints []bot.Point
	summarize := func(_ context.Context, title string, points []bot.Point) (string, error) {
		gotPoints = points
		return "  DeepSeek's chips are in dispute [p1].  ", nil
	}
	pass := func(string, []bot.Point) error { return nil }
	refuse := func(string, []bot.Point) error { return errors.New("grounding guard: name: Huang") }
	fails := func(context.Context, string, []bot.Point) (string, error) { return "", errors.New("timeout") }

	tests := []struct {
		name      string
		opts      digest.Options
		want      string
		wantCalls bool
	}{
		{"passes the guard", digest.Options{Summarize: summarize, Check: pass}, "DeepSeek's chips are in dispute [p1].", true},
		{"turned down by the guard", digest.Options{Summarize: summarize, Check: refuse}, "", true},
		{"never without a guard", digest.Options{Summarize: summarize}, "", false},
		{"model fails", digest.Options{Summarize: fails, Check: pass}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotPoints = nil
			d, err := composer(t, tc.opts).Compose(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			if d.Summary != tc.want {
				t.Errorf("summary %q, want %q", d.Summary, tc.want)
			}
			if (gotPoints != nil) != tc.wantCalls {
				t.Errorf("summarizer called: %v, want %v", gotPoints != nil, tc.wantCalls)
			}
			if gotPoints != nil && len(gotPoints) != len(d.Points) {
				t.Errorf("summarizer got %d points, digest has %d", len(gotPoints), len(d.Points))
			}
			if tc.want != "" && !strings.Contains(d.Text(), "- [p1] ") {
				t.Errorf("text with a summary does not number the points it cites:\n%s", d.Text())
			}
		})
	}
}

func TestComposerOptions(t *testing.T) {
	for _, n := range []int{1, 2, 3, 6} {
		if _, err := digest.NewComposer(context.Background(), defaultKB(t), digest.Options{MaxPoints: n}); err == nil {
			t.Errorf("MaxPoints %d accepted", n)
		}
	}
	d, err := composer(t, digest.Options{AskMore: "Ask in #help."}).Compose(context.Background(), mustDate(t, "2025-01-27"))
	if err != nil || d.AskMore != "Ask in #help." {
		t.Errorf("custom ask-more line: %q %v", d.AskMore, err)
	}
}

// TestTextGolden renders digests of a small fixed knowledge base
// (testdata/kb), so that the files change with the digest, not the KB.
func TestTextGolden(t *testing.T) {
	ctx := context.Background()
	kb, err := knowledge.LoadDir(filepath.Join("testdata", "kb"))
	if err != nil {
		t.Fatal(err)
	}
	summarize := func(context.Context, string, []bot.Point) (string, error) {
		return "DeepSeek's models rival far costlier US ones [p1], by its own account on a modest chip budget [p2].", nil
	}
	c, err := digest.NewComposer(ctx, kb, digest.Options{Summarize: summarize, Check: func(string, []bot.Point) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := digest.NewComposer(ctx, kb, digest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Days() != 2 {
		t.Errorf("%d days in a rotation of the test KB, want 2 (8 points)", c.Days())
	}
	for _, day := range []string{"2025-01-27", "2025-01-28"} {
		d, err := plain.Compose(ctx, mustDate(t, day))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("testdata", "digest-"+day+".txt"), d.Text())
	}
	for _, day := range []string{"2025-01-27"} {
		d, err := c.Compose(ctx, mustDate(t, day))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("testdata", "digest-"+day+"-summary.txt"), d.Text())
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update if the change is right):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func BenchmarkCompose(b *testing.B) {
	ctx := context.Background()
	c := composer(b, digest.Options{})
	day := mustDate(b, "2025-01-27")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Compose(ctx, day); err != nil {
			b.Fatal(err)
		}
		day = day.AddDays(1)
	}
}
