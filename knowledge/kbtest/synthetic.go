// Package kbtest builds knowledge bases for tests and benchmarks.
package kbtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing/fstest"
)

// Synthetic returns a knowledge base folder of n generated entries over a
// vocabulary of made-up words, with the same shape as a curated one: five
// example questions, a lead, three attributed points and related links
// each. The same seed gives the same knowledge base.
func Synthetic(n int, seed uint64) fstest.MapFS {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	vocab := make([]string, 20000)
	for i := range vocab {
		vocab[i] = word(r)
	}
	// Zipf-like: a few words are common, most are rare.
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	sentence := func(words int) string {
		parts := make([]string, words)
		for i := range parts {
			parts[i] = vocab[zipf.Uint64()]
		}
		return strings.Join(parts, " ")
	}
	fs := fstest.MapFS{
		"sources.yaml": {Data: []byte("documents:\n  - id: doc\n    title: Synthetic\n    covers: generated text\n    paragraphs:\n      1: one\n      2: two\n      3: three\n")},
	}
	standings := []string{"fact", "claim", "disputed", "opinion"}
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "---\nid: e%05d\ntitle: %q\nkind: topic\nquestions:\n", i, "What about "+sentence(4)+"?")
		for range 5 {
			fmt.Fprintf(&b, "  - %q\n", sentence(6+r.IntN(5))+"?")
		}
		b.WriteString("points:\n")
		for p := range 3 {
			fmt.Fprintf(&b, "  - text: %q\n    by: %s\n    standing: %s\n    source: doc#%d\n", sentence(15), vocab[r.IntN(200)], standings[r.IntN(4)], p+1)
		}
		fmt.Fprintf(&b, "related: [e%05d, e%05d]\nreviewed: 2026-11-28\n---\n%s.\n", (i+1)%n, (i+7)%n, sentence(20))
		fs[fmt.Sprintf("entries/e%05d.md", i)] = &fstest.MapFile{Data: []byte(b.String())}
	}
	return fs
}

// Questions returns n questions over the same vocabulary as Synthetic with
// that seed: some close to entries, some not.
func Questions(fs fstest.MapFS, n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []string
	for len(out) < n {
		name := fmt.Sprintf("entries/e%05d.md", r.IntN(len(fs)-1))
		f, ok := fs[name]
		if !ok {
			continue
		}
		lines := strings.Split(string(f.Data), "\n")
		q := strings.Trim(strings.TrimSpace(strings.TrimPrefix(lines[5+r.IntN(5)], "  - ")), `"`)
		words := strings.Fields(q)
		r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
		out = append(out, strings.Join(words[:max(3, len(words)-2)], " "))
	}
	return out
}

func word(r *rand.Rand) string {
	const consonants, vowels = "bcdfghklmnprstvz", "aeiou"
	var b strings.Builder
	for range 2 + r.IntN(3) {
		b.WriteByte(consonants[r.IntN(len(consonants))])
		b.WriteByte(vowels[r.IntN(len(vowels))])
	}
	return b.String()
}
