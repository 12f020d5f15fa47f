package knowledge

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// entryFile writes a minimal entry whose answer text is body.
func entryFile(id, title, body string, questions ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\nid: %s\ntitle: %s\nkind: topic\nquestions:\n", id, title)
	for len(questions) < MinQuestions {
		questions = append(questions, title)
	}
	for _, q := range questions {
		fmt.Fprintf(&b, "  - %q\n", q)
	}
	fmt.Fprintf(&b, "points:\n  - text: %q\n    by: the article\n    standing: fact\n    source: article#1\nreviewed: 2026-11-28\n---\n%s\n", body, body)
	return b.String()
}

func testIndex(t testing.TB, vocab string, entries map[string]string) *Index {
	t.Helper()
	files := map[string]string{"sources.yaml": okSources, "vocabulary.yaml": vocab}
	for id, f := range entries {
		files["entries/"+id+".md"] = f
	}
	kb, err := LoadFS(kbFS(files), "kb")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

var sampleEntries = map[string]string{
	"fall":   entryFile("fall", "How far did shares plunge?", "Shares plunged by a fifth in a day."),
	"rules":  entryFile("rules", "What are the export controls?", "The export controls limit which chips can be sold abroad."),
	"cats":   entryFile("cats", "Why do cats purr?", "Cats purr when they are content, and sometimes when hurt."),
	"jevons": entryFile("jevons", "What is the Jevons paradox?", "Cheaper use of a resource can raise total consumption."),
}

const sampleVocab = `synonyms:
  - [plunge, tank, crater]
  - [export controls, chip ban, sanctions]
filler: [much, tell]
entities:
  - name: Nvidia
    aliases: [NVDA]
`

func TestScoringIsBM25(t *testing.T) {
	ix := testIndex(t, sampleVocab, sampleEntries)
	res, err := ix.explain(context.Background(), "cats purr")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 {
		t.Fatal("no hits")
	}
	expl := fmt.Sprint(res.Hits[0].Expl)
	if !strings.Contains(expl, "bm25") || !strings.Contains(expl, "k1=") {
		t.Errorf("scoring is not BM25; explanation:\n%s", expl)
	}
}

// Single-word synonyms are expanded by bleve's synonym source at search
// time: "tank" finds an entry that only says "plunged".
func TestSynonymsExpandInBleve(t *testing.T) {
	ix := testIndex(t, sampleVocab, sampleEntries)
	for _, q := range []string{"did shares tank", "how much did they crater"} {
		res, err := ix.Search(context.Background(), q, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) == 0 || res.Hits[0].Entry.ID != "fall" {
			t.Fatalf("%q: hits %v, want fall first", q, ids(res))
		}
		if res.Hits[0].Coverage < 0.99 {
			t.Errorf("%q: coverage %.2f, want the synonym to count as covered", q, res.Hits[0].Coverage)
		}
		if !strings.Contains(res.Query, strings.Fields(q)[len(strings.Fields(q))-1]) {
			t.Errorf("%q: the query text was rewritten to %q; single words must be left to bleve", q, res.Query)
		}
	}
	// Without the vocabulary the same question finds nothing.
	plain := testIndex(t, "synonyms: []\n", sampleEntries)
	res, err := plain.Search(context.Background(), "did shares tank", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if h.Entry.ID == "fall" && h.Coverage > 0.99 {
			t.Error("without synonyms, tank should not fully cover the plunge entry")
		}
	}
}

// Phrases are rewritten to their canonical form on both sides.
func TestPhraseSynonyms(t *testing.T) {
	ix := testIndex(t, sampleVocab, sampleEntries)
	for _, q := range []string{"what's the chip ban", "are the sanctions working", "Export Controls?"} {
		res, err := ix.Search(context.Background(), q, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) == 0 || res.Hits[0].Entry.ID != "rules" {
			t.Errorf("%q: hits %v, want rules first", q, ids(res))
		}
	}
}

func TestTyposAreCorrected(t *testing.T) {
	ix := testIndex(t, sampleVocab, sampleEntries)
	tests := []struct{ q, want, typo string }{
		{"what is the jevosn paradox", "jevons", "jevosn"},  // swapped letters
		{"why do cats pur", "cats", ""},                     // short words are left alone
		{"what is the jevons paradx", "jevons", "paradx"},   // a dropped letter
		{"how far did shares plunnge", "fall", "plunnge"},   // a doubled letter
		{"what are the exprot controls", "rules", "exprot"}, // inside a phrase
		{"are the sanctons working", "rules", ""},           // a synonym, rewritten after its fix
	}
	for _, tt := range tests {
		res, err := ix.Search(context.Background(), tt.q, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) == 0 || res.Hits[0].Entry.ID != tt.want {
			t.Errorf("%q: hits %v, want %s first", tt.q, ids(res), tt.want)
		}
		if tt.typo == "" {
			continue
		}
		found := false
		for _, term := range res.Terms {
			found = found || term.Typo == tt.typo
		}
		if !found {
			t.Errorf("%q: no term fixed from %q: %+v", tt.q, tt.typo, res.Terms)
		}
	}
}

// Names with digits are never "corrected" into other names.
func TestModelNumbersAreNotTypos(t *testing.T) {
	ix := testIndex(t, sampleVocab, map[string]string{
		"h800": entryFile("h800", "What is the H800?", "The H800 is a chip."),
		"cats": sampleEntries["cats"],
	})
	res, err := ix.Search(context.Background(), "what is the H100", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range res.Terms {
		if term.Typo != "" {
			t.Errorf("%q was read as a typo of %q", term.Typo, term.Word)
		}
	}
	for _, h := range res.Hits {
		if h.Coverage > 0.5 {
			t.Errorf("H100 question covered %.2f by %s", h.Coverage, h.Entry.ID)
		}
	}
}

func TestCoverageOfUnknownWords(t *testing.T) {
	ix := testIndex(t, sampleVocab, sampleEntries)
	res, err := ix.Search(context.Background(), "why do cats purr in Paris weather", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 || res.Hits[0].Entry.ID != "cats" {
		t.Fatalf("hits %v", ids(res))
	}
	if c := res.Hits[0].Coverage; c <= 0.2 || c >= 0.8 {
		t.Errorf("coverage %.2f: unknown words should weigh against the match, known ones for it", c)
	}
}

func TestEntityAliases(t *testing.T) {
	ix := testIndex(t, sampleVocab, map[string]string{
		"nvidia": entryFile("nvidia", "Who is Nvidia?", "Nvidia makes GPUs."),
		"cats":   sampleEntries["cats"],
	})
	res, err := ix.Search(context.Background(), "what about NVDA", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) == 0 || res.Hits[0].Entry.ID != "nvidia" || res.Hits[0].Coverage < 0.99 {
		t.Errorf("NVDA: %v", ids(res))
	}
}

func TestRewriter(t *testing.T) {
	r := newPhraseRewriter()
	r.add("chip ban", "export controls")
	r.add("chip bans", "export controls")
	r.add("NVDA", "Nvidia")
	r.add("US", "United States")
	tests := map[string]string{
		"will the US drop them":     "will the United States drop them",
		"tell us about it":          "tell us about it",
		"is the chip ban working?":  "is the export controls working?",
		"CHIP BANS and NVDA's drop": "export controls and Nvidia drop",
		"chips banned":              "chips banned",
		"":                          "",
		"a chip":                    "a chip",
		"chip ban chip ban":         "export controls export controls",
		"nvda":                      "Nvidia",
		"NVDA’s shares":             "Nvidia shares",
	}
	for in, want := range tests {
		if got := r.rewrite(in); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
}

func ids(r Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, fmt.Sprintf("%s(%.2f)", h.Entry.ID, h.Coverage))
	}
	return out
}
