package knowledge

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/explainerbot/explainer/knowledge/english"
)

// speller reads typos as the story's words. Its dictionary is the words
// readers aim at: those of the entries' questions, titles, tags and leads,
// and every word and name of the vocabulary ("sanctions", "NVDA"), kept in
// a bleve index of its own so that bleve's Levenshtein automaton finds the
// near ones.
type speller struct {
	words   bleve.Index
	topical map[string]bool // the dictionary, lowercased
	known   map[string]bool // every word of the KB, details included
}

const spellField = "w"

func newSpeller(topical, known map[string]bool) (*speller, error) {
	m := bleve.NewIndexMapping()
	err := m.AddCustomAnalyzer("words", map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicodetok.Name,
		"token_filters": []string{lowercase.Name},
	})
	if err != nil {
		return nil, fmt.Errorf("spelling analyzer: %w", err)
	}
	fm := mapping.NewTextFieldMapping()
	fm.Analyzer = "words"
	fm.Store, fm.IncludeInAll, fm.IncludeTermVectors, fm.DocValues = false, false, false, false
	doc := bleve.NewDocumentMapping()
	doc.AddFieldMappingsAt(spellField, fm)
	m.DefaultMapping = doc
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("spelling index: %w", err)
	}
	var all strings.Builder
	for w := range topical {
		all.WriteString(w)
		all.WriteByte(' ')
	}
	if err := idx.Index("words", map[string]any{spellField: all.String()}); err != nil {
		return nil, fmt.Errorf("spelling index: %w", err)
	}
	return &speller{words: idx, topical: topical, known: known}, nil
}

func (s *speller) close() error { return s.words.Close() }

// mayBeTypo reports whether a typed word is worth correcting: letters only,
// four or more of them, not a word of the KB and not everyday English.
// Words with digits (A100, H20) are names, never typos.
func (s *speller) mayBeTypo(w string) bool {
	if len(w) < 4 || strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return false
	}
	return !s.known[w] && !english.IsWord(w)
}

// nearest returns the dictionary word a typo most likely meant, or "": a
// swap of two neighbouring letters, else the closest word within one edit
// (two for words of eight letters or more) that starts with the same letter.
func (s *speller) nearest(w string) string {
	b := []byte(w)
	for i := 0; i+1 < len(b); i++ {
		b[i], b[i+1] = b[i+1], b[i]
		if s.topical[string(b)] {
			return string(b)
		}
		b[i], b[i+1] = b[i+1], b[i]
	}
	fuzz := 1
	if len(w) >= 8 {
		fuzz = 2
	}
	adv, err := s.words.Advanced()
	if err != nil {
		return ""
	}
	r, err := adv.Reader()
	if err != nil {
		return ""
	}
	defer r.Close()
	fr, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		return ""
	}
	dict, auto, err := fr.FieldDictFuzzyAutomaton(spellField, w, fuzz, w[:1])
	if err != nil {
		return ""
	}
	defer dict.Close()
	best, bestDist := "", fuzz+1
	for de, err := dict.Next(); err == nil && de != nil; de, err = dict.Next() {
		ok, dist := auto.MatchAndDistance(de.Term)
		if !ok || !s.topical[de.Term] {
			continue
		}
		// Closest first; among equals, the longer (a dropped letter is a
		// likelier typo than an extra one), then alphabetical.
		d := int(dist)
		if d < bestDist || (d == bestDist && (len(de.Term) > len(best) || len(de.Term) == len(best) && de.Term < best)) {
			best, bestDist = de.Term, d
		}
	}
	return best
}
