package digest

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/store"
)

// GapGroup is one question the knowledge base serves badly, with the other
// ways it was asked: for curators, to see what to write next.
type GapGroup struct {
	Question  string    `json:"question"` // its most common wording
	Count     int       `json:"count"`
	Declined  int       `json:"declined"`
	Unhelpful int       `json:"unhelpful"`          // 👎 on an answer
	Reasons   []string  `json:"reasons,omitempty"`  // why it was declined, most common first
	Entries   []string  `json:"entries,omitempty"`  // entries behind the 👎 answers, most common first
	Wordings  []string  `json:"wordings,omitempty"` // other ways it was asked, most common first
	Last      time.Time `json:"last"`
}

// sameQuestion is how alike two questions' content words must be to count
// as one.
const sameQuestion = 0.5

// GroupGaps groups declined and 👎 questions that ask the same thing (the
// same content words, give or take a few: "who is Jensen Huang?" and
// "who's jensen huang"), most frequent first.
func GroupGaps(items []store.GapItem) []GapGroup {
	type group struct {
		key      []string
		wordings map[string]int
		first    map[string]int // order of first sight, for ties
		reasons  map[string]int
		entries  map[string]int
		g        GapGroup
	}
	var groups []*group
	for i, it := range items {
		text := strings.TrimSpace(bot.Normalize(it.Question))
		if text == "" {
			continue
		}
		key := words(text)
		if len(key) == 0 {
			key = []string{strings.ToLower(text)}
		}
		var gr *group
		best := 0.0
		for _, g := range groups {
			if s := similarity(key, g.key); s >= sameQuestion && s > best {
				gr, best = g, s
			}
		}
		if gr == nil {
			gr = &group{key: key, wordings: map[string]int{}, first: map[string]int{}, reasons: map[string]int{}, entries: map[string]int{}}
			groups = append(groups, gr)
		}
		lower := strings.ToLower(text)
		if _, ok := gr.first[lower]; !ok {
			gr.first[lower] = i
		}
		gr.wordings[lower]++
		gr.g.Count++
		if it.Kind == store.GapUnhelpful {
			gr.g.Unhelpful++
			for _, e := range it.Entries {
				gr.entries[e]++
			}
		} else {
			gr.g.Declined++
			if it.Reason != "" {
				gr.reasons[it.Reason]++
			}
		}
		if it.At.After(gr.g.Last) {
			gr.g.Last = it.At
		}
	}
	out := make([]GapGroup, 0, len(groups))
	for _, gr := range groups {
		ws := byCount(gr.wordings, gr.first)
		gr.g.Question, gr.g.Wordings = ws[0], ws[1:]
		gr.g.Reasons = byCount(gr.reasons, nil)
		gr.g.Entries = byCount(gr.entries, nil)
		out = append(out, gr.g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Last.After(out[j].Last)
	})
	return out
}

// byCount lists the keys of m, most counted first, then by first sight (or
// name).
func byCount(m map[string]int, first map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if m[a] != m[b] {
			return m[a] > m[b]
		}
		if first != nil {
			return first[a] < first[b]
		}
		return a < b
	})
	return keys
}

// WriteGaps writes groups for people, at most limit of them (all when limit
// is 0 or less).
func WriteGaps(w io.Writer, groups []GapGroup, since time.Time, limit int) error {
	var b strings.Builder
	declined, unhelpful := 0, 0
	for _, g := range groups {
		declined += g.Declined
		unhelpful += g.Unhelpful
	}
	fmt.Fprintf(&b, "Since %s: %d declined, %d marked unhelpful, %d distinct questions.\n",
		since.Format("2006-01-02 15:04 MST"), declined, unhelpful, len(groups))
	if len(groups) == 0 {
		b.WriteString("Nothing to add to the knowledge base.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("\n")
	for i, g := range groups {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, "… and %d more (--limit 0 shows all)\n", len(groups)-limit)
			break
		}
		fmt.Fprintf(&b, "%3d× %s\n", g.Count, g.Question)
		var parts []string
		if g.Declined > 0 {
			parts = append(parts, fmt.Sprintf("declined %d (%s)", g.Declined, strings.Join(g.Reasons, ", ")))
		}
		if g.Unhelpful > 0 {
			parts = append(parts, fmt.Sprintf("👎 %d on entries %s", g.Unhelpful, strings.Join(g.Entries, ", ")))
		}
		fmt.Fprintf(&b, "      %s; last %s\n", strings.Join(parts, "; "), g.Last.Format("2006-01-02"))
		if len(g.Wordings) > 0 {
			ws := g.Wordings
			more := ""
			if len(ws) > 3 {
				ws, more = ws[:3], fmt.Sprintf(" (+%d more)", len(g.Wordings)-3)
			}
			fmt.Fprintf(&b, "      also asked as: %s%s\n", strings.Join(quoteAll(ws), ", "), more)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}
