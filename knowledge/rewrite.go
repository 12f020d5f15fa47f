package knowledge

import (
	"strings"
	"unicode"

	"github.com/explainerbot/explainer/knowledge/english"
)

// phraseRewriter replaces the words and phrases of the vocabulary with their
// canonical form ("chip ban" -> "export controls", "NVDA" -> "Nvidia"), so
// that a reader's wording and the curators' wording meet. It matches whole
// words, longest phrase first, ignoring a possessive "'s", and ignoring case
// except for a capitalised abbreviation whose lowercase is an everyday word:
// "US" is the United States, "us" is not.
type phraseRewriter struct {
	root *trieNode
}

type trieNode struct {
	next      map[string]*trieNode
	canonical string // non-empty where a phrase ends
}

func newPhraseRewriter() *phraseRewriter {
	return &phraseRewriter{root: &trieNode{}}
}

// add makes phrase rewrite to canonical.
func (r *phraseRewriter) add(phrase, canonical string) {
	words := splitWords(phrase)
	if len(words) == 0 || strings.EqualFold(phrase, canonical) {
		return
	}
	n := r.root
	for _, w := range words {
		if n.next == nil {
			n.next = make(map[string]*trieNode)
		}
		key := w.key
		if raw := phrase[w.start:w.end]; len(words) == 1 && isAbbreviation(raw) && english.IsWord(key) {
			key = exactKey(raw)
		}
		c, ok := n.next[key]
		if !ok {
			c = &trieNode{}
			n.next[key] = c
		}
		n = c
	}
	if n.canonical == "" {
		n.canonical = canonical
	}
}

// rewrite returns text with every known phrase replaced.
func (r *phraseRewriter) rewrite(text string) string {
	if r.root.next == nil {
		return text
	}
	words := splitWords(text)
	var b strings.Builder
	last := 0
	for i := 0; i < len(words); {
		n, end, canonical := r.root, -1, ""
		for j := i; j < len(words); j++ {
			c, ok := n.next[words[j].key]
			if !ok && j == i {
				c, ok = n.next[exactKey(text[words[j].start:words[j].end])]
			}
			if !ok {
				break
			}
			n = c
			if n.canonical != "" {
				end, canonical = j, n.canonical
			}
		}
		if end < 0 {
			i++
			continue
		}
		b.WriteString(text[last:words[i].start])
		b.WriteString(canonical)
		last = words[end].end
		i = end + 1
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

type word struct {
	key        string // lowercased, possessive dropped
	start, end int    // byte offsets in the text
}

// splitWords cuts text into words of letters, digits and inner dashes or
// apostrophes.
func splitWords(text string) []word {
	var out []word
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		raw := strings.Trim(text[start:end], "-'’")
		if raw != "" {
			s := start + strings.Index(text[start:end], raw)
			key := strings.ToLower(raw)
			key = strings.TrimSuffix(strings.TrimSuffix(key, "'s"), "’s")
			out = append(out, word{key: key, start: s, end: s + len(raw)})
		}
		start = -1
	}
	for i, r := range text {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'' || r == '’'
		if inWord && start < 0 {
			start = i
		} else if !inWord {
			flush(i)
		}
	}
	flush(len(text))
	return out
}

// isAbbreviation reports whether s is written in capitals: "US", "U.S".
func isAbbreviation(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsUpper(r) {
			letters++
		}
	}
	return letters >= 2
}

// exactKey keys a word that matches only as written.
func exactKey(s string) string { return "\x00" + s }
