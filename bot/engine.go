package bot

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/explainerbot/explainer/knowledge"
)

// Searcher finds knowledge base entries for a question: the knowledge
// index, or a fake in tests.
type Searcher interface {
	Search(ctx context.Context, text string, limit int) (knowledge.Result, error)
	KB() *knowledge.KB
}

// Defaults for Options.
const (
	// DefaultMinCoverage is the share of a question's meaning that the best
	// entries must cover for the bot to answer. It is tuned on labelled
	// questions with `explainer eval --tune`.
	DefaultMinCoverage = 0.35
	// DefaultCacheSize is how many answers an engine remembers.
	DefaultCacheSize = 4096
	// MaxQuestionRunes is the longest question the bot reads.
	MaxQuestionRunes = 1000

	searchDepth  = 8
	maxEntries   = 3
	maxPoints    = 8
	maxFollowups = 3
	// Hits scoring at least this share of the best BM25 score are close
	// enough to be told apart by coverage.
	closeScore = 0.6
	// Further down, a hit must still score this share of the best to win on
	// coverage alone.
	farScore = 0.3
)

// Options tune the engine.
type Options struct {
	MinCoverage float64 // see DefaultMinCoverage

	// Summarizer, when set, rewrites answered questions fluently from their
	// points under the grounding guard (summarize.go); nil keeps the
	// extractive answers. Logger (nil: silent) and OnSummary (for metrics)
	// hear of every attempt.
	Summarizer Summarizer
	// CacheSize bounds the answers kept for repeated questions; 0 means
	// DefaultCacheSize, negative turns caching off (benchmarks of the
	// uncached path).
	CacheSize int
	Logger    *slog.Logger
	OnSummary func(SummaryOutcome)
}

// Engine answers questions from one knowledge base. It is safe for
// concurrent use.
type Engine struct {
	search  Searcher
	kb      *knowledge.KB
	opts    Options
	intents []intentRule
	about   about
	// cache keeps the extractive answers to recent questions by their
	// normalised text: the KB never changes under an engine, and people
	// ask the same things (follow-up buttons, featured questions).
	cache *lru.Cache[string, Answer]
}

// New returns an engine over the given index.
func New(s Searcher, opts Options) *Engine {
	if opts.MinCoverage <= 0 {
		opts.MinCoverage = DefaultMinCoverage
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	e := &Engine{search: s, kb: s.KB(), opts: opts, intents: intentRules()}
	if opts.CacheSize > 0 {
		e.cache, _ = lru.New[string, Answer](opts.CacheSize)
	}
	e.about = newAbout(e.kb)
	return e
}

// KB returns the knowledge base the engine answers from.
func (e *Engine) KB() *knowledge.KB { return e.kb }

// Ask answers one question. It returns an error only when the search itself
// fails (or ctx ends); every question, however odd, gets an Answer.
func (e *Engine) Ask(ctx context.Context, q Question) (Answer, error) {
	text := Normalize(q.Text)
	if a, done := e.screen(text); done {
		a.Question = text
		return a, nil
	}
	a, ok := e.cached(text)
	if !ok {
		res, err := e.search.Search(ctx, text, searchDepth)
		if err != nil {
			return Answer{}, fmt.Errorf("ask %q: %w", truncate(text, 80), err)
		}
		if a, err = e.answer(ctx, text, res); err != nil {
			return Answer{}, fmt.Errorf("ask %q: %w", truncate(text, 80), err)
		}
		a.Question = text
		if e.cache != nil {
			e.cache.Add(text, a)
		}
	}
	return e.summarize(ctx, a), nil
}

func (e *Engine) cached(text string) (Answer, bool) {
	if e.cache == nil {
		return Answer{}, false
	}
	return e.cache.Get(text)
}

// screen declines what needs no lookup: nothing to read, too much to read,
// another script, or a request of a kind the bot never serves.
func (e *Engine) screen(text string) (Answer, bool) {
	switch {
	case text == "":
		return e.decline(ReasonEmpty, nil), true
	case utf8.RuneCountInString(text) > MaxQuestionRunes:
		return e.decline(ReasonTooLong, nil), true
	case !hasWords(text):
		return e.decline(ReasonNoWords, nil), true
	case !mostlyLatin(text):
		return e.decline(ReasonNotCovered, nil), true
	}
	if r := e.classify(text); r != "" {
		return e.decline(r, nil), true
	}
	return Answer{}, false
}

// answer decides from the search result whether the KB covers the question,
// and composes the reply.
func (e *Engine) answer(ctx context.Context, text string, res knowledge.Result) (Answer, error) {
	if len(res.Hits) == 0 || res.TotalWeight() == 0 {
		return e.decline(ReasonNotCovered, res.Hits), nil
	}
	picked, coverage := pick(res)
	if picked[0].Entry.Kind != knowledge.Gap && coverage >= e.opts.MinCoverage {
		var err error
		if picked, err = e.pickParts(ctx, text, picked); err != nil {
			return Answer{}, err
		}
	}
	best := picked[0]
	if best.Entry.Kind == knowledge.Gap {
		a := e.decline(ReasonGap, res.Hits)
		a.Lead = best.Entry.Lead
		a.Entries = []string{best.Entry.ID}
		a.Followups = e.followups(best.Entry.Related, nil, maxFollowups)
		a.Text = e.declineText(a)
		return a, nil
	}
	if coverage < e.opts.MinCoverage || !coversFocus(text, res, picked[0]) {
		a := e.decline(ReasonNotCovered, res.Hits)
		a.Confidence = round2(coverage)
		return a, nil
	}
	return e.compose(picked, coverage), nil
}

// focusPattern finds the thing a question asks for, where its shape says:
// "what year did...", "which company does...", "how many employees...",
// "how old is...".
var focusPattern = regexp.MustCompile(`(?i)^(?:(?:so|and|but|ok|okay|hey|also|then)[, ]+)?(?:` +
	`(?:what|which)\s+([a-z][\w-]*)\s+(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b` +
	`|how\s+(?:many|much)\s+([a-z][\w-]*)` +
	`|how\s+(old|tall|fast|often|soon|rich)\b)`)

// coversFocus reports whether the entry covers what the question asks for,
// when its shape says what that is. "What year did the US first impose
// export controls?" is not answered by an entry on export controls that has
// no year in it, however well it covers the other words.
func coversFocus(text string, res knowledge.Result, hit knowledge.Hit) bool {
	m := focusPattern.FindStringSubmatch(text)
	if m == nil {
		return true
	}
	focus := strings.ToLower(m[1] + m[2] + m[3])
	for i, t := range res.Terms {
		if t.Word != focus && !strings.HasPrefix(t.Word, focus+"'") {
			continue
		}
		return t.Weight == 0 || hit.Covers[i]
	}
	return true // a stop word: nothing to check
}

// pickParts answers each part of a question that asks several things ("what
// is X and who says Y?") from its own best entry. Parts the KB covers well
// replace the whole question's pick; the others keep it.
func (e *Engine) pickParts(ctx context.Context, text string, picked []knowledge.Hit) ([]knowledge.Hit, error) {
	parts := splitParts(text)
	if len(parts) < 2 {
		return picked, nil
	}
	var found []knowledge.Hit
	for _, p := range parts {
		res, err := e.search.Search(ctx, p, searchDepth)
		if err != nil {
			return nil, err
		}
		if len(res.Hits) == 0 || res.TotalWeight() == 0 {
			continue
		}
		best, cov := pick(res)
		if best[0].Entry.Kind == knowledge.Gap || cov < e.opts.MinCoverage || contains(found, best[0].Entry.ID) {
			continue
		}
		found = append(found, best[0])
	}
	switch {
	case len(found) >= 2:
		return found[:min(len(found), maxEntries)], nil
	case len(found) == 1 && !contains(picked, found[0].Entry.ID) && len(picked) < maxEntries:
		return append(picked, found[0]), nil
	}
	return picked, nil
}

// A new part of a question starts after "?" or ";", or at "and"/"but"/"also"
// followed by a question word.
var partBreak = regexp.MustCompile(`(?i)(?:\?\s+|;\s*|,?\s+(?:and|but|also|plus)\s+(?:also\s+)?)(?:what|what's|who|who's|whom|whose|how|why|when|where|which|does|do|did|is|are|was|were|can|could|should|would|will|has|have)\b`)

// splitParts cuts a question into the questions it asks.
func splitParts(text string) []string {
	var parts []string
	start := 0
	for _, m := range partBreak.FindAllStringIndex(text, maxEntries) {
		// The question word belongs to the next part: find where it starts.
		cut := m[0]
		next := m[1] - len(lastWord(text[m[0]:m[1]]))
		if p := strings.TrimSpace(text[start:cut]); p != "" {
			parts = append(parts, p)
		}
		start = next
	}
	if p := strings.TrimSpace(text[start:]); p != "" {
		parts = append(parts, p)
	}
	return parts
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// pick chooses the entry that answers the question and returns it with the
// share of the question it covers. Among hits BM25 scores close to the
// first, the one covering most of the question wins; further down, a hit
// must cover it clearly better (BM25 rewards repeated words; coverage asks
// whether every meaningful word is there).
// Questions that ask several things are split into parts elsewhere
// (pickParts): joining entries to cover the words of one question would
// claim links between them that no entry makes.
func pick(res knowledge.Result) ([]knowledge.Hit, float64) {
	best := 0
	top := res.Hits[0].Score
	for i, h := range res.Hits {
		b := res.Hits[best]
		if (h.Score >= farScore*top && h.Coverage > b.Coverage+0.2) || (h.Score >= closeScore*top && h.Coverage > b.Coverage) {
			best = i
		}
	}
	return []knowledge.Hit{res.Hits[best]}, res.Hits[best].Coverage
}

func contains(hits []knowledge.Hit, id string) bool {
	for _, h := range hits {
		if h.Entry.ID == id {
			return true
		}
	}
	return false
}

// compose builds the answer from the chosen entries.
func (e *Engine) compose(picked []knowledge.Hit, coverage float64) Answer {
	a := Answer{Answered: true, Confidence: round2(coverage), Points: []Point{}, Sources: []Source{}}
	seenPoint := make(map[string]bool)
	seenSource := make(map[string]bool)
	var leads, related, used []string
	for i, h := range picked {
		en := h.Entry
		used = append(used, en.ID)
		leads = append(leads, en.Lead)
		related = append(related, en.Related...)
		limit := len(en.Points)
		if i > 0 {
			limit = min(limit, 3)
		}
		for _, p := range en.Points[:limit] {
			if seenPoint[p.Text] || len(a.Points) == maxPoints {
				continue
			}
			seenPoint[p.Text] = true
			a.Points = append(a.Points, Point{Text: p.Text, By: p.By, Standing: string(p.Standing)})
			ref := e.kb.Cite(p.Source)
			if key := en.ID + "|" + ref; !seenSource[key] {
				seenSource[key] = true
				a.Sources = append(a.Sources, Source{Entry: en.ID, Title: en.Title, Ref: ref})
			}
		}
	}
	a.Lead = strings.Join(leads, " ")
	a.Entries = used
	a.Followups = e.followups(related, used, maxFollowups)
	a.Text = answerText(a)
	return a
}

// followups turns related entries into questions to ask next, skipping
// entries already used.
func (e *Engine) followups(ids, skip []string, n int) []string {
	out := []string{}
	seen := make(map[string]bool)
	for _, id := range skip {
		seen[id] = true
	}
	for _, id := range ids {
		if seen[id] || len(out) == n {
			continue
		}
		seen[id] = true
		if en, ok := e.kb.Entry(id); ok && en.Kind != knowledge.Gap {
			out = append(out, en.Title)
		}
	}
	return out
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
