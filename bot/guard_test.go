package bot

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/explainerbot/explainer/knowledge"
)

// kbEngine is an engine over the real knowledge base.
func kbEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	kb, err := knowledge.Default()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return New(ix, opts)
}

// answered asks e a question it must answer from the knowledge base.
func answered(t testing.TB, e *Engine, q string, entry string) Answer {
	t.Helper()
	a, err := e.Ask(context.Background(), Question{Text: q, Platform: PlatformCLI})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Answered || len(a.Entries) == 0 || a.Entries[0] != entry {
		t.Fatalf("%q: answered=%v entries=%v, want answered from %s", q, a.Answered, a.Entries, entry)
	}
	return a
}

// Questions whose points the guard tests run against, with the entry that
// answers each (p1..pN are its points, in order).
const (
	qGPUs    = "did DeepSeek really use fewer GPUs?" // p1, p2 disputed (DeepSeek); p3 fact; p4 claim (Wang)
	qDrop    = "why did nvidia stock fall?"          // p1-p3 facts: 17%, nearly $600 billion, V3 and R1
	qJevons  = "what is jevons paradox?"             // p1 fact; p2 background: Jevons, 1865; p3 opinion
	qWang    = "who is alexandr wang?"               // p1 fact; p2 claim; p3 background
	qZhang   = "who is Angela Zhang?"                // p1 fact; p2 opinion (Zhang, in the FT); p3 background
	qBadNews = "is deepseek bad news for nvidia?"    // p1-p4 opinions of the article
	qH800    = "what is the H800?"                   // p1 fact; p2 disputed (DeepSeek); p3, p4 background
	qGroq    = "what are inference chips?"           // p1 fact; p2 background
	fluentOK = "By DeepSeek's own account, it trained its models on about 10,000 older Nvidia A100 GPUs plus export-compliant H800 chips [p1][p2]. The article does not confirm these figures [p3], and Scale AI's CEO Alexandr Wang suspects DeepSeek has far more advanced Nvidia chips than it has disclosed [p4]."
)

func TestGuard(t *testing.T) {
	e := kbEngine(t, Options{})
	points := map[string][]Point{
		qGPUs:    answered(t, e, qGPUs, "deepseek-gpus").Points,
		qDrop:    answered(t, e, qDrop, "nvidia-drop").Points,
		qJevons:  answered(t, e, qJevons, "jevons-paradox").Points,
		qWang:    answered(t, e, qWang, "alexandr-wang").Points,
		qZhang:   answered(t, e, qZhang, "angela-zhang").Points,
		qBadNews: answered(t, e, qBadNews, "bad-news-for-nvidia").Points,
		qH800:    answered(t, e, qH800, "h800").Points,
		qGroq:    answered(t, e, qGroq, "groq").Points,
	}
	tests := []struct {
		name     string
		question string
		text     string
		rule     string // "" when the text must pass
	}{
		// Faithful answers pass, however they word numbers and names.
		{"faithful", qGPUs, fluentOK, ""},
		{"spelled number", qGPUs, "DeepSeek says it had about ten thousand A100s [p1], a figure the article does not confirm [p3].", ""},
		{"10k and hedges", qGPUs, "DeepSeek claims roughly 10k A100 GPUs and some H800s [p1][p2]; these are unconfirmed [p3].", ""},
		{"vague range", qGPUs, "DeepSeek says it used thousands of older A100 chips [p1].", ""},
		{"parenthesised citation", qGPUs, "According to DeepSeek, it used about 10,000 A100s (p1).", ""},
		{"negated assertion", qGPUs, "DeepSeek says it had 10,000 A100s, which has not been independently verified [p1][p3].", ""},
		{"facts need no hedge", qDrop, "Nvidia's shares fell almost 17% after DeepSeek launched its V3 and R1 AI models, erasing nearly $600 billion of market value [p1][p2][p3].", ""},
		{"percent words, trillions", qDrop, "Nvidia lost almost 17 percent, or about $0.6 trillion [p1][p2].", ""},
		{"synonym of a grounded place", qGPUs, "DeepSeek says it bought about 10,000 A100s before American export restrictions tightened [p1].", ""},
		{"citation after the stop", qDrop, "Nvidia fell almost 17%. [p1] It lost nearly $600 billion. [p2]", ""},
		{"opinion hedged", qJevons, "The article explains the paradox as efficiency raising total use [p1]; applied to AI, cheaper models could mean more demand for computing power [p3].", ""},
		{"background with its year", qJevons, "It is named after William Stanley Jevons, who noted in 1865 that better steam engines made Britain burn more coal [p2].", ""},
		{"opinion in its own words", qZhang, "Angela Zhang of the University of Southern California argued in the Financial Times that US limits on chips have actually spurred innovation in China [p1][p2].", ""},
		{"opinions hedged", qBadNews, "The article argues that talk of Nvidia's downfall may be hasty [p1]. Cheaper AI could raise demand for chips, by the Jevons paradox [p2], and while rivals may gain in inference, CUDA keeps developers close [p3].", ""},
		{"fact shares a code with a disputed point", qH800, "The H800 is an Nvidia chip designed to comply with US export rules, a cut-down version of its top data-center chip made for the Chinese market [p1][p3]. DeepSeek says it used H800s alongside older A100s [p2].", ""},
		{"names with inner capitals", qGroq, "Groq, a US startup, designs LPUs for running AI models [p2], and AMD, Google and Amazon are gaining ground too [p1].", ""},
		{"alias of a grounded person", qWang, "Alex Wang, Scale AI's CEO, is among those suggesting DeepSeek may have more advanced chips than it disclosed [p1][p2].", ""},

		// Invented numbers, amounts, dates and products.
		{"invented number and product", qGPUs, "DeepSeek says it used 50,000 H100s [p1].", RuleNumber},
		{"invented spelled number", qGPUs, "DeepSeek says it used fifty thousand A100s [p1].", RuleNumber},
		{"inflated vague number", qGPUs, "DeepSeek says it used hundreds of thousands of A100s [p1].", RuleNumber},
		{"rounded amount", qDrop, "Nvidia lost $589 billion of market value [p2].", RuleNumber},
		{"wrong percentage", qDrop, "Nvidia's shares fell 20% [p1].", RuleNumber},
		{"number as percentage", qDrop, "Nvidia's shares fell by 600% [p1].", RuleNumber},
		{"wrong date", qDrop, "The drop came on January 28, 2025 [p1].", RuleNumber},
		{"wrong year", qJevons, "Jevons noted this in 1856 [p2].", RuleNumber},

		// Invented people, organisations, products, days.
		{"invented person", qGPUs, "DeepSeek says it had about 10,000 A100s [p1], but Nvidia's CEO Jensen Huang disagrees [p4].", RuleName},
		{"invented person opening a sentence", qGPUs, "DeepSeek says it had about 10,000 A100s [p1]. Huang disagrees [p4].", RuleName},
		{"unknown person opening a sentence", qGPUs, "DeepSeek says it had about 10,000 A100s [p1]. Musk says otherwise [p4].", RuleName},
		{"invented organisation", qGPUs, "According to OpenAI, DeepSeek had about 10,000 A100s [p1].", RuleName},
		{"invented product name", qGPUs, "DeepSeek says it trained on 10,000 A100s and Blackwell chips [p1].", RuleName},
		{"invented weekday", qDrop, "Nvidia fell almost 17% on a Monday [p1].", RuleName},

		// Citations.
		{"unknown id", qGPUs, "DeepSeek says it had about 10,000 A100s [p9].", RuleCitation},
		{"numeric citation", qGPUs, "DeepSeek says it had about 10,000 A100s [1].", RuleCitation},
		{"other bracket", qGPUs, "DeepSeek says it had about 10,000 A100s [source 2].", RuleCitation},
		{"bare unknown id", qGPUs, "DeepSeek says it had about 10,000 A100s, see p7.", RuleCitation},
		{"no citation", qGPUs, "DeepSeek says it had about 10,000 A100s.", RuleUncited},

		// Disputed and claimed points stated as fact.
		{"disputed GPU claim as fact", qGPUs, "DeepSeek trained its models on about 10,000 older Nvidia A100 GPUs and H800 chips [p1][p2].", RuleAttribution},
		{"disputed number without its citation", qGPUs, "DeepSeek used about 10,000 A100 GPUs, far fewer than rivals [p3].", RuleAttribution},
		{"attribution only in another sentence", qGPUs, "DeepSeek says it needed fewer chips [p3]. It had about 10,000 A100s [p1].", RuleAttribution},
		{"hedged then asserted", qGPUs, "DeepSeek says it had 10,000 A100s, and that is confirmed [p1].", RuleAttribution},
		{"claim as fact", qGPUs, "DeepSeek has far more advanced Nvidia chips than it has disclosed [p4].", RuleAttribution},
		{"claim as fact, cited elsewhere", qGPUs, "In truth DeepSeek has far more advanced Nvidia chips than it disclosed [p3].", RuleAttribution},
		{"disputed use of A100s as fact", qH800, "The H800 is a cut-down version of Nvidia's top chip [p3], and DeepSeek trained on H800s and older A100s [p2].", RuleAttribution},
		{"opinion as fact", qJevons, "Cheaper AI models will lead to many more uses and more demand for computing power [p3].", RuleAttribution},

		// Format.
		{"empty", qGPUs, "  ", RuleFormat},
		{"link", qGPUs, "DeepSeek says so [p1]; see https://example.com.", RuleFormat},
		{"too long", qGPUs, strings.Repeat("DeepSeek says it had about 10,000 A100s [p1]. ", 40), RuleFormat},
		{"unbalanced bracket", qGPUs, "DeepSeek says it had about 10,000 A100s [p1", RuleFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.CheckGrounded(tt.text, points[tt.question])
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("rejected a grounded answer: %v\n%s", err, tt.text)
				}
				return
			}
			var r *Rejection
			if !errors.As(err, &r) {
				t.Fatalf("accepted %q, want rule %s", tt.text, tt.rule)
			}
			if r.Rule != tt.rule {
				t.Fatalf("rule %s (%s), want %s", r.Rule, r.Detail, tt.rule)
			}
		})
	}
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"One. Two! Three?", []string{"One.", "Two!", "Three?"}},
		{"The U.S. rules changed. Then 5.6 million. Done", []string{"The U.S. rules changed.", "Then 5.6 million.", "Done"}},
		{"A fell. [p1] B rose. [p2][p3] C", []string{"A fell. [p1]", "B rose. [p2][p3]", "C"}},
		{"Named after W. S. Jevons. Next", []string{"Named after W. S. Jevons.", "Next"}},
		{"He said \"no.\" Then left.", []string{"He said \"no.\"", "Then left."}},
		{"line one\nline two", []string{"line one", "line two"}},
		{"ends with a stop.", []string{"ends with a stop."}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range splitSentences(tt.in) {
			got = append(got, tt.in[s.start:s.end])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitSentences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuantities(t *testing.T) {
	tests := []struct {
		in   string
		want []quantity // text is not compared
	}{
		{"10,000 GPUs", []quantity{{lo: 1e4, hi: 1e4}}},
		{"10k and $5.6 million", []quantity{{lo: 1e4, hi: 1e4}, {lo: 5.6e6, hi: 5.6e6}}},
		{"fifty thousand or twenty-five", []quantity{{lo: 5e4, hi: 5e4}, {lo: 25, hi: 25}}},
		{"one reason, two chips", nil},
		{"a million users", []quantity{{lo: 1e6, hi: 1e6}}},
		{"17% or 17 percent or 17 per cent", []quantity{{lo: 17, hi: 17, percent: true}, {lo: 17, hi: 17, percent: true}, {lo: 17, hi: 17, percent: true}}},
		{"tens of thousands", []quantity{{lo: 2e4, hi: 1e5}}},
		{"the 1990s, the 27th", []quantity{{lo: 1990, hi: 1990}, {lo: 27, hi: 27}}},
		{"A100 and H800s", nil},
	}
	for _, tt := range tests {
		got := quantities(tokenize(tt.in), 10)
		if len(got) != len(tt.want) {
			t.Errorf("quantities(%q) = %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if !closeTo(g.lo, w.lo) || !closeTo(g.hi, w.hi) || g.percent != w.percent {
				t.Errorf("quantities(%q)[%d] = %+v, want %+v", tt.in, i, g, w)
			}
		}
	}
}

// BenchmarkGuard measures the guard's cost per answer: preparing it from
// the points and checking one fluent answer.
func BenchmarkGuard(b *testing.B) {
	e := kbEngine(b, Options{})
	a := answered(b, e, qGPUs, "deepseek-gpus")
	vocab := e.kb.Vocabulary()
	bp := briefPoints(a.Points)
	b.ReportAllocs()
	for b.Loop() {
		if r := newGuard(vocab, bp).check(fluentOK); r != nil {
			b.Fatal(r)
		}
	}
}

// BenchmarkGuardCheck measures checking alone, with the guard prepared.
func BenchmarkGuardCheck(b *testing.B) {
	e := kbEngine(b, Options{})
	a := answered(b, e, qGPUs, "deepseek-gpus")
	g := newGuard(e.kb.Vocabulary(), briefPoints(a.Points))
	b.ReportAllocs()
	for b.Loop() {
		if r := g.check(fluentOK); r != nil {
			b.Fatal(r)
		}
	}
}
