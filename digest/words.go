package digest

import (
	"sort"
	"strings"
	"unicode"
)

// stopWords are words that carry no topic: left out when comparing texts.
var stopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`a about after again all also am an and any are as at be because been
		before being between both but by can could did do does doing done for from further had has have
		having he her here hers him his how i if in into is it its just let me more most my no nor not
		now of off on once only or other our out over own really same she should so some such than that
		the their them then there these they this those through to too under until up very was we were
		what when where which while who whom why will with would you your yours tell explain please
		anything something thing things know think mean means much many`) {
		m[w] = true
	}
	return m
}()

// words are the distinct content words of s, lower-cased, with plurals
// and possessives folded ("GPUs", "Nvidia's" -> "gpu", "nvidia"), sorted.
func words(s string) []string {
	seen := make(map[string]bool)
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		w = strings.Trim(w, "'")
		w = strings.TrimSuffix(w, "'s")
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = strings.TrimSuffix(w, "s")
		}
		if w == "" || stopWords[w] {
			continue
		}
		seen[w] = true
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// similarity is the Jaccard index of two sorted word lists: the share of
// their words they have in common.
func similarity(a, b []string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, common := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(common) / float64(len(a)+len(b)-common)
}
