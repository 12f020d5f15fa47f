package bot

import (
	"context"
	"sort"
	"strings"

	"github.com/explainerbot/explainer/knowledge"
)

// About describes what the bot knows, for help texts and /about commands.
type About struct {
	Name     string   `json:"name"`     // what it talks about, as a phrase
	Summary  string   `json:"summary"`  // a sentence or two
	Sources  []string `json:"sources"`  // titles of the documents it cites
	Featured []string `json:"featured"` // questions it answers well
	Entries  int      `json:"entries"`
}

// About describes the engine's knowledge base.
func (e *Engine) About() About {
	info := e.kb.About()
	a := About{Name: info.Name, Summary: info.Summary, Featured: e.about.featured, Entries: len(e.kb.Entries())}
	for _, d := range e.kb.Documents() {
		if d.Kind != "background notes" {
			a.Sources = append(a.Sources, d.Title)
		}
	}
	return a
}

// Suggest returns up to n questions the KB answers well that match what has
// been typed so far (autocomplete). The last word may be unfinished: it is
// completed from the KB's words; typos are read as the nearest word the KB
// knows.
func (e *Engine) Suggest(ctx context.Context, typed string, n int) ([]string, error) {
	typed = Normalize(typed)
	if n <= 0 {
		return nil, nil
	}
	if strings.TrimSpace(typed) == "" {
		return firstN(e.about.featured, n), nil
	}
	words := strings.Fields(strings.ToLower(typed))
	last := ""
	query := typed
	if !strings.HasSuffix(typed, " ") && len(words) > 0 {
		last = strings.Trim(words[len(words)-1], "?!.,;:'\"")
		if c, ok := e.search.(completer); ok && last != "" {
			query = typed + " " + strings.Join(c.Complete(last, 3), " ")
		}
	}
	res, err := e.search.Search(ctx, query, 2*searchDepth)
	if err != nil {
		return nil, err
	}
	type cand struct {
		text    string
		overlap int
		rank    int
	}
	var cands []cand
	seen := make(map[string]bool)
	for rank, h := range res.Hits {
		if h.Entry.Kind == knowledge.Gap {
			continue
		}
		for i, q := range append([]string{h.Entry.Title}, h.Entry.Questions...) {
			key := strings.ToLower(q)
			if seen[key] || len([]rune(q)) > 100 {
				continue
			}
			seen[key] = true
			// How much of what was typed the question contains, the last
			// word as a prefix; then the entry's rank, titles first.
			overlap := 0
			for _, w := range words[:len(words)-boolInt(last != "")] {
				if containsWord(key, w) {
					overlap += 2
				}
			}
			if last != "" && hasWordPrefix(key, last) {
				overlap += 2
			}
			if i == 0 {
				overlap++
			}
			cands = append(cands, cand{q, overlap, rank})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].overlap != cands[j].overlap {
			return cands[i].overlap > cands[j].overlap
		}
		return cands[i].rank < cands[j].rank
	})
	out := make([]string, 0, n)
	for _, c := range cands {
		if len(out) == n {
			break
		}
		out = append(out, c.text)
	}
	return out, nil
}

// completer completes a partly typed word from the KB's words; the
// knowledge index is one.
type completer interface {
	Complete(prefix string, n int) []string
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasWordPrefix(text, prefix string) bool {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '?' || r == ',' || r == '.' || r == '!' }) {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		s = s[:n]
	}
	return append([]string(nil), s...)
}

// Topics returns up to n names of things the KB explains (people,
// organisations, chips, terms) that match typed, for autocomplete.
func (e *Engine) Topics(typed string, n int) []string {
	typed = strings.ToLower(strings.TrimSpace(Normalize(typed)))
	var prefix, inner []string
	for _, ent := range e.kb.Vocabulary().Entities {
		if ent.Entry == "" {
			continue
		}
		name := strings.ToLower(ent.Name)
		match := typed == "" || strings.HasPrefix(name, typed)
		for _, a := range ent.Aliases {
			match = match || strings.HasPrefix(strings.ToLower(a), typed)
		}
		switch {
		case match:
			prefix = append(prefix, ent.Name)
		case strings.Contains(name, typed):
			inner = append(inner, ent.Name)
		}
	}
	return firstN(append(prefix, inner...), n)
}

// Explain answers with the entry that explains a topic: an entity name or
// alias ("H800", "NVDA", "Alexandr Wang"). Anything else is asked as a
// question.
func (e *Engine) Explain(ctx context.Context, topic string) (Answer, error) {
	t := strings.ToLower(strings.TrimSpace(Normalize(topic)))
	for _, ent := range e.kb.Vocabulary().Entities {
		names := append([]string{ent.Name}, ent.Aliases...)
		for _, n := range names {
			if strings.ToLower(n) != t {
				continue
			}
			if en, ok := e.kb.Entry(ent.Entry); ok && en.Kind != knowledge.Gap {
				a := e.compose([]knowledge.Hit{{Entry: en, Coverage: 1}}, 1)
				a.Question = topic
				return a, nil
			}
		}
	}
	return e.Ask(ctx, Question{Text: topic})
}
