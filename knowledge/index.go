package knowledge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/explainerbot/explainer/knowledge/english"
)

// Search fields and their weights: a reader's question is matched first
// against the ways people ask for an entry, then against its answer text.
const (
	fieldAsk  = "ask"  // example questions, title, tags, entity names
	fieldText = "text" // lead, body and points
	askBoost  = 3.0
	textBoost = 1.0

	synonymSource     = "vocabulary"
	synonymCollection = "vocabulary"

	maxQueryTerms = 32
	fixCacheSize  = 4096 // typo corrections remembered

	// Terms in more than this share of entries (and more than minCommon
	// entries) are left out of the BM25 query; they still count in coverage.
	commonShare = 0.05
	minCommon   = 200

	// An entry covers a word fully when it is in how the entry is asked
	// (example questions, title, tags, names) or its lead; a word only in
	// its details (body, points) may be there by chance, and counts less.
	detailCredit = 0.5

	// How much a word weighs against an unknown name of the same rarity.
	correctedWeight = 0.8 // a typo read as a KB word
	everydayWeight  = 1.5 // an everyday English word the KB does not use (a fixed, low weight)
)

// Index is the search index over a knowledge base. It is safe for
// concurrent use and never changes once built.
type Index struct {
	kb        *KB
	bleve     bleve.Index
	analyzer  analysis.Analyzer
	rewriter  *phraseRewriter
	synonym   map[string]string          // analyzed term -> its group's analyzed canonical term
	df        map[string]int             // canonical term -> entries containing it
	filler    map[string]bool            // analyzed terms that carry no meaning
	terms     []map[string]bool          // per entry: its terms, true where the term is in how it is asked or its lead
	words     []string                   // every word of the KB's questions and titles, lowercased and sorted, for completion
	wordCount map[string]int             // how often each is used
	position  map[string]int             // entry id -> index in kb.entries
	fixes     *lru.Cache[string, string] // typed word -> its correction ("" for none)
	speller   *speller                   // reads typos as the story's words
}

// Term is one meaningful word of a searched question.
type Term struct {
	Term   string  `json:"term"`           // as analyzed (stemmed)
	Word   string  `json:"word"`           // as typed
	Weight float64 `json:"weight"`         // how much it tells, from how rare it is in the KB
	Known  bool    `json:"known"`          // the KB uses it (or a synonym)
	Typo   string  `json:"typo,omitempty"` // what was typed, when Word is the typo's fix
	// Everyday marks common English ("believable", "market"): it may only
	// be the reader's wording, so it weighs less than a name ("bitcoin",
	// "Paris", "Jevons"), which says what the question is about.
	Everyday bool `json:"everyday,omitempty"`
}

// Hit is one entry found for a question.
type Hit struct {
	Entry *Entry
	Score float64 // BM25, comparable only within one search
	// Coverage is the share of the question's weight whose terms the entry
	// uses, from 0 to 1.
	Coverage float64
	// Covers says which of Result.Terms the entry uses.
	Covers []bool
}

// Result is what a search found.
type Result struct {
	Query string // the text searched, after vocabulary and typo fixes
	Terms []Term
	Hits  []Hit
}

// TotalWeight is the sum of the terms' weights.
func (r Result) TotalWeight() float64 {
	var w float64
	for _, t := range r.Terms {
		w += t.Weight
	}
	return w
}

// NewIndex builds the search index for a knowledge base, in memory.
func NewIndex(kb *KB) (*Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	an := m.AnalyzerNamed(en.AnalyzerName)
	if an == nil {
		return nil, fmt.Errorf("analyzer %q not registered", en.AnalyzerName)
	}
	ix := &Index{
		kb:       kb,
		analyzer: an,
		rewriter: newPhraseRewriter(),
		synonym:  make(map[string]string),
		df:       make(map[string]int),
		filler:   make(map[string]bool),
		position: make(map[string]int, len(kb.entries)),
	}
	ix.fixes, _ = lru.New[string, string](fixCacheSize)
	singles := ix.learnVocabulary()

	// NewMemOnly would not keep BM25 and synonyms: scorch in memory does.
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create search index: %w", err)
	}
	batch := idx.NewBatch()
	for i, g := range singles {
		def := &bleve.SynonymDefinition{Synonyms: g}
		if err := batch.IndexSynonym(fmt.Sprintf("syn-%d", i), synonymCollection, def); err != nil {
			return nil, fmt.Errorf("index synonyms %v: %w", g, err)
		}
	}
	ix.terms = make([]map[string]bool, len(kb.entries))
	for i, e := range kb.entries {
		ix.position[e.ID] = i
		ask, text := ix.fields(e)
		ask, text = ix.rewriter.rewrite(ask), ix.rewriter.rewrite(text)
		if err := batch.Index(e.ID, map[string]any{fieldAsk: ask, fieldText: text}); err != nil {
			return nil, fmt.Errorf("index entry %s: %w", e.ID, err)
		}
		set := make(map[string]bool)
		core := ask + "\n" + ix.rewriter.rewrite(e.Lead)
		for n, part := range []string{core, text} {
			for _, tk := range ix.analyze(part) {
				t := ix.canonical(tk.term)
				set[t] = set[t] || n == 0
			}
		}
		for t := range set {
			ix.df[t]++
		}
		ix.terms[i] = set
	}
	if err := idx.Batch(batch); err != nil {
		return nil, fmt.Errorf("build search index: %w", err)
	}
	if ix.speller, err = newSpeller(ix.spellingWords()); err != nil {
		return nil, err
	}
	ix.wordCount = make(map[string]int)
	for _, e := range kb.entries {
		for _, q := range append([]string{e.Title}, e.Questions...) {
			for _, w := range splitWords(q) {
				if ix.wordCount[w.key] == 0 {
					ix.words = append(ix.words, w.key)
				}
				ix.wordCount[w.key]++
			}
		}
	}
	sort.Strings(ix.words)
	ix.bleve = idx
	return ix, nil
}

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	m.DefaultAnalyzer = en.AnalyzerName
	m.ScoringModel = "bm25"
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	err := m.AddSynonymSource(synonymSource, map[string]any{
		"collection": synonymCollection,
		"analyzer":   en.AnalyzerName,
	})
	if err != nil {
		return nil, fmt.Errorf("synonym source: %w", err)
	}
	doc := bleve.NewDocumentMapping()
	for _, f := range []string{fieldAsk, fieldText} {
		fm := mapping.NewTextFieldMapping()
		fm.Analyzer = en.AnalyzerName
		fm.SynonymSource = synonymSource
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		fm.DocValues = false
		doc.AddFieldMappingsAt(f, fm)
	}
	m.DefaultMapping = doc
	return m, nil
}

// learnVocabulary feeds the vocabulary to the rewriter and the synonym map.
// It returns the groups of single words, which bleve expands at search time.
func (ix *Index) learnVocabulary() [][]string {
	var singles [][]string
	for _, g := range ix.kb.vocab.Synonyms {
		canonical := g[0]
		multi := len(splitWords(canonical)) > 1
		var single []string
		for _, w := range g {
			if multi || len(splitWords(w)) > 1 {
				ix.rewriter.add(w, canonical)
			} else {
				single = append(single, w)
			}
		}
		if len(single) > 1 {
			singles = append(singles, single)
			var key string
			for _, w := range single {
				tks := ix.analyze(w)
				if len(tks) != 1 {
					continue
				}
				if key == "" {
					key = tks[0].term
				}
				if _, taken := ix.synonym[tks[0].term]; !taken && tks[0].term != key {
					ix.synonym[tks[0].term] = key
				}
			}
		}
	}
	for _, w := range ix.kb.vocab.Filler {
		for _, tk := range ix.analyze(w) {
			ix.filler[tk.term] = true
		}
	}
	for _, e := range ix.kb.vocab.Entities {
		for _, a := range e.Aliases {
			ix.rewriter.add(a, e.Name)
		}
	}
	return singles
}

// fields returns the text of an entry's two search fields.
func (ix *Index) fields(e *Entry) (ask, text string) {
	var a, t strings.Builder
	for _, q := range e.Questions {
		a.WriteString(q)
		a.WriteString("\n")
	}
	a.WriteString(e.Title)
	a.WriteString("\n")
	a.WriteString(strings.Join(e.Tags, ", "))
	for _, ent := range ix.kb.vocab.Entities {
		if ent.Entry == e.ID {
			a.WriteString("\n")
			a.WriteString(ent.Name)
		}
	}
	t.WriteString(e.Lead)
	t.WriteString("\n")
	t.WriteString(e.Body)
	for _, p := range e.Points {
		t.WriteString("\n")
		t.WriteString(p.Text)
		t.WriteString(" (")
		t.WriteString(p.By)
		t.WriteString(")")
	}
	return a.String(), t.String()
}

type token struct {
	term string // analyzed
	word string // lowercased source word
}

func (ix *Index) analyze(text string) []token {
	stream := ix.analyzer.Analyze([]byte(text))
	out := make([]token, 0, len(stream))
	for _, tk := range stream {
		w := strings.ToLower(text[tk.Start:tk.End])
		out = append(out, token{term: string(tk.Term), word: w})
	}
	return out
}

func (ix *Index) canonical(term string) string {
	if c, ok := ix.synonym[term]; ok {
		return c
	}
	return term
}

// KB returns the knowledge base the index was built from.
func (ix *Index) KB() *KB { return ix.kb }

// Close releases the index.
func (ix *Index) Close() error {
	return errors.Join(ix.bleve.Close(), ix.speller.close())
}

// Search finds the entries that best answer text, at most limit of them.
// Typos in words the KB does not know are read as the nearest word it knows.
func (ix *Index) Search(ctx context.Context, text string, limit int) (Result, error) {
	text, fixed := ix.fixTypos(text)
	text = ix.rewriter.rewrite(text)
	res := Result{Query: text}
	tokens := ix.analyze(text)
	seen := make(map[string]bool, len(tokens))
	for _, tk := range tokens {
		if len(res.Terms) == maxQueryTerms {
			break
		}
		t := Term{Term: tk.term, Word: tk.word}
		canon := ix.canonical(tk.term)
		if ix.filler[tk.term] {
			if !seen[canon] {
				seen[canon] = true
				t.Known = ix.df[canon] > 0
				res.Terms = append(res.Terms, t) // weight 0
			}
			continue
		}
		switch {
		case ix.df[canon] > 0:
			t.Known = true
			t.Everyday = english.IsWord(plainWord(tk.word))
			t.Typo = fixed[plainWord(tk.word)]
		case english.IsWord(plainWord(tk.word)):
			t.Everyday = true // a real word the KB does not use: not a typo
		}
		if seen[canon] {
			continue
		}
		seen[canon] = true
		t.Weight = ix.weight(canon, t)
		res.Terms = append(res.Terms, t)
	}
	if len(res.Terms) == 0 {
		return res, nil
	}

	// The terms are analyzed already: search them as terms in each field
	// (what a match query would do after analysing the text again), leaving
	// out words that carry no meaning or that the KB never uses, and, in a
	// large KB, words so common that they would make bleve score most of it
	// for almost nothing (their BM25 weight is near zero anyway).
	common := ix.commonTerms(res.Terms)
	var ask, body []query.Query
	for i, t := range res.Terms {
		if t.Weight == 0 || !t.Known || common[i] {
			continue
		}
		term := t.Term
		a := query.NewTermQuery(term)
		a.SetField(fieldAsk)
		a.SetBoost(askBoost)
		b := query.NewTermQuery(term)
		b.SetField(fieldText)
		b.SetBoost(textBoost)
		ask, body = append(ask, a), append(body, b)
	}
	if len(ask) == 0 {
		return res, nil
	}
	req := bleve.NewSearchRequestOptions(query.NewDisjunctionQuery([]query.Query{
		query.NewDisjunctionQuery(ask), query.NewDisjunctionQuery(body),
	}), limit, 0, false)
	sr, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return res, fmt.Errorf("search: %w", err)
	}
	total := res.TotalWeight()
	for _, h := range sr.Hits {
		pos, ok := ix.position[h.ID]
		if !ok {
			continue
		}
		hit := Hit{Entry: ix.kb.entries[pos], Score: h.Score, Covers: make([]bool, len(res.Terms))}
		var covered float64
		for i, t := range res.Terms {
			if core, ok := ix.terms[pos][ix.canonical(t.Term)]; ok {
				hit.Covers[i] = true
				if core {
					covered += t.Weight
				} else {
					covered += t.Weight * detailCredit
				}
			}
		}
		if total > 0 {
			hit.Coverage = covered / total
		}
		res.Hits = append(res.Hits, hit)
	}
	return res, nil
}

// commonTerms marks the terms used by more than commonShare of the entries
// (and more than minCommon), keeping at least the rarest known term.
func (ix *Index) commonTerms(terms []Term) []bool {
	limit := max(minCommon, int(commonShare*float64(len(ix.kb.entries))))
	out := make([]bool, len(terms))
	rarest, rarestDF, kept := -1, 0, 0
	for i, t := range terms {
		if t.Weight == 0 || !t.Known {
			continue
		}
		df := ix.df[ix.canonical(t.Term)]
		if df > limit {
			out[i] = true
		} else {
			kept++
		}
		if rarest < 0 || df < rarestDF {
			rarest, rarestDF = i, df
		}
	}
	if kept == 0 && rarest >= 0 {
		out[rarest] = false
	}
	return out
}

// weight is how much a term tells about what is asked. It starts from the
// BM25 inverse document frequency over entries, so words the KB uses
// everywhere ("Nvidia", "DeepSeek") weigh little and rare ones much. Then:
//   - a word the KB never uses weighs the most when it looks like a name
//     ("bitcoin", "Paris"): the question is about something the KB does
//     not cover;
//   - everyday English weighs at most everydayWeight, used by the KB or not:
//     readers word the same question many ways, and a common word that
//     happens to be rare in the KB ("progress", "piece") says little;
//   - a short unknown token (up to three letters: "wat", "mkt", "rn") is
//     more likely chat shorthand than a name, and weighs as everyday, unless
//     it has a digit ("R2", "H20"): that is a model or product name;
//   - a bare number ("17", "20") weighs as everyday: on its own it says
//     little about what is asked, except a year the KB never mentions
//     ("who won in 2022?"), which names a time it does not cover;
//   - a typo read as a KB word weighs a little less than the word typed right.
func (ix *Index) weight(canon string, t Term) float64 {
	n := float64(len(ix.kb.entries))
	df := float64(ix.df[canon])
	w := math.Log(1 + (n-df+0.5)/(df+0.5))
	switch {
	case t.Typo != "":
		w *= correctedWeight
	case t.Everyday || (isNumber(t.Word) && !(isYear(t.Word) && !t.Known)):
		w = min(w, everydayWeight)
	case !t.Known && utf8.RuneCountInString(t.Word) <= 3 && !strings.ContainsAny(t.Word, "0123456789"):
		w = everydayWeight
	}
	return w
}

// isNumber reports whether a word is digits, with separators.
func isNumber(w string) bool {
	return w != "" && strings.Trim(w, "0123456789.,") == ""
}

// isYear reports whether a word is a year such as 2023.
func isYear(w string) bool {
	return len(w) == 4 && isNumber(w) && (strings.HasPrefix(w, "19") || strings.HasPrefix(w, "20"))
}

// plainWord is a typed word without a possessive ending.
func plainWord(w string) string {
	if i := strings.IndexAny(w, "'’"); i > 0 {
		return w[:i]
	}
	return w
}

// fixTypos replaces the words of text that look like typos with the story's
// words they most likely meant ("deepsek" -> "deepseek", "sanctons" ->
// "sanctions") and returns the text with a map from each fixed word to the
// typed one. Fixing the typed words, before the vocabulary and the analyzer,
// also fixes synonyms and words whose stems differ from their typos.
func (ix *Index) fixTypos(text string) (string, map[string]string) {
	var b strings.Builder
	var fixed map[string]string
	last := 0
	for _, w := range splitWords(text) {
		key := plainWord(w.key)
		if !ix.speller.mayBeTypo(key) {
			continue
		}
		fix, ok := ix.fixes.Get(key)
		if !ok {
			fix = ix.speller.nearest(key)
			ix.fixes.Add(key, fix)
		}
		if fix == "" {
			continue
		}
		if fixed == nil {
			fixed = make(map[string]string)
		}
		fixed[fix] = key
		b.WriteString(text[last:w.start])
		b.WriteString(fix)
		last = w.start + len(key)
	}
	if fixed == nil {
		return text, nil
	}
	b.WriteString(text[last:])
	return b.String(), fixed
}

// spellingWords returns the words typos are read as (those of how entries
// are asked, their leads, and the vocabulary) and every word the KB uses.
func (ix *Index) spellingWords() (topical, known map[string]bool) {
	topical, known = make(map[string]bool), make(map[string]bool)
	add := func(set map[string]bool, texts ...string) {
		for _, t := range texts {
			for _, w := range splitWords(t) {
				set[plainWord(w.key)] = true
			}
		}
	}
	for _, e := range ix.kb.entries {
		ask, text := ix.fields(e)
		add(topical, ask, e.Lead)
		add(known, ask, text)
	}
	for _, g := range ix.kb.vocab.Synonyms {
		add(topical, g...)
	}
	for _, ent := range ix.kb.vocab.Entities {
		add(topical, ent.Name)
		add(topical, ent.Aliases...)
	}
	for w := range topical {
		known[w] = true
	}
	return topical, known
}

// Complete returns up to n words of the KB's questions and titles that
// start with prefix (case-insensitive), the most used first.
func (ix *Index) Complete(prefix string, n int) []string {
	prefix = strings.ToLower(prefix)
	i := sort.SearchStrings(ix.words, prefix)
	var out []string
	for ; i < len(ix.words) && strings.HasPrefix(ix.words[i], prefix); i++ {
		out = append(out, ix.words[i])
	}
	sort.SliceStable(out, func(a, b int) bool { return ix.wordCount[out[a]] > ix.wordCount[out[b]] })
	if len(out) > n {
		out = out[:n]
	}
	return out
}
