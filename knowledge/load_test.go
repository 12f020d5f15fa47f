package knowledge

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

const okSources = `documents:
  - id: article
    title: A story
    covers: what happened
    paragraphs:
      1: first
      2: second
`

const okEntry = `---
id: one
title: What is one?
kind: topic
questions:
  - what is one
  - one?
  - tell me about one
  - explain one please
points:
  - text: One is the first number.
    by: the article
    standing: fact
    source: article#1
reviewed: 2026-11-28
---
One is a number.
`

func kbFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

func TestLoadValid(t *testing.T) {
	kb, err := LoadFS(kbFS(map[string]string{"sources.yaml": okSources, "entries/one.md": okEntry}), "kb")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := kb.Entry("one")
	if !ok {
		t.Fatal("entry one missing")
	}
	if e.Lead != "One is a number." || len(e.Points) != 1 || e.Points[0].Source != (SourceRef{"article", 1}) {
		t.Errorf("entry = %+v", e)
	}
	if got := kb.Cite(e.Points[0].Source); got != "article, paragraph 1" {
		t.Errorf("Cite = %q", got)
	}
}

// A broken file gives an error naming the file and the line of the problem.
func TestLoadProblemsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  string // file:line: and a fragment of the message
		msg   string
	}{
		{"bad yaml", strings.Replace(okEntry, "kind: topic", "kind: [topic", 1), "kb/entries/one.md:5:", ""},
		{"missing id", strings.Replace(okEntry, "id: one\n", "", 1), "kb/entries/one.md:", "missing id"},
		{"unknown standing", strings.Replace(okEntry, "standing: fact", "standing: rumour", 1), "kb/entries/one.md:13:", `standing "rumour"`},
		{"unknown field", strings.Replace(okEntry, "reviewed:", "reviewd:", 1), "kb/entries/one.md:15:", "unknown field"},
		{"bad source", strings.Replace(okEntry, "article#1", "article#x", 1), "kb/entries/one.md:14:", "paragraph must be a number"},
		{"no such paragraph", strings.Replace(okEntry, "article#1", "article#9", 1), "kb/entries/one.md:2:", "no paragraph 9"},
		{"no such document", strings.Replace(okEntry, "article#1", "blog#1", 1), "kb/entries/one.md:2:", "no such document"},
		{"few questions", strings.Replace(okEntry, "  - one?\n", "", 1), "kb/entries/one.md:6:", "want at least 4"},
		{"dangling related", strings.Replace(okEntry, "reviewed:", "related: [two]\nreviewed:", 1), "kb/entries/one.md:2:", `related "two"`},
		{"no front matter", "One is a number.\n", "kb/entries/one.md:1:", "must start with"},
		{"unclosed front matter", "---\nid: one\n", "kb/entries/one.md:1:", "not closed"},
		{"no lead", strings.TrimSuffix(okEntry, "One is a number.\n"), "kb/entries/one.md:17:", "missing answer"},
		{"bad date", strings.Replace(okEntry, "2026-11-28", "last week", 1), "kb/entries/one.md:15:", "want a date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFS(kbFS(map[string]string{"sources.yaml": okSources, "entries/one.md": tt.entry}), "kb")
			var pe *ProblemsError
			if !errors.As(err, &pe) {
				t.Fatalf("want *ProblemsError, got %v", err)
			}
			found := false
			for _, p := range pe.Problems {
				if strings.HasPrefix(p.String(), tt.want) && strings.Contains(p.Msg, tt.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem %q ... %q in:\n%v", tt.want, tt.msg, err)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	two := strings.NewReplacer("id: one", "id: two", "standing: fact", "standing: maybe").Replace(okEntry)
	three := strings.Replace(okEntry, "id: one", "id: one", 1)
	_, err := LoadFS(kbFS(map[string]string{
		"sources.yaml":     okSources,
		"entries/one.md":   okEntry,
		"entries/two.md":   two,
		"entries/three.md": three,
	}), "kb")
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("want *ProblemsError, got %v", err)
	}
	msgs := err.Error()
	for _, want := range []string{"kb/entries/two.md:13:", `differs from the file name "three.md"`, "duplicate id"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("missing %q in %s", want, msgs)
		}
	}
}

func TestVocabularyAndSourcesProblems(t *testing.T) {
	_, err := LoadFS(kbFS(map[string]string{
		"sources.yaml":    "documents:\n  - title: no id\n",
		"vocabulary.yaml": "synonyms:\n  - [alone]\nentities:\n  - name: Thing\n    entry: missing\n",
		"entries/one.md":  okEntry,
	}), "kb")
	if err == nil {
		t.Fatal("want problems")
	}
	for _, want := range []string{"kb/sources.yaml:2: document 1: missing id", "kb/vocabulary.yaml:2: synonym group", `kb/vocabulary.yaml:4: entity "Thing": entry "missing"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestDefaultKBLoads(t *testing.T) {
	kb, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(kb.Entries()); n < 30 || n > 60 {
		t.Errorf("%d entries, want 30 to 60", n)
	}
	kinds := map[Kind]int{}
	for _, e := range kb.Entries() {
		kinds[e.Kind]++
		if len(e.Questions) < MinQuestions {
			t.Errorf("%s: %d example questions", e.ID, len(e.Questions))
		}
		for _, p := range e.Points {
			if e.Kind == Glossary && p.Standing == Background && p.Source.Doc != "background" {
				t.Errorf("%s: background point cites %s, want the background notes", e.ID, p.Source)
			}
			if p.Standing != Background && p.Source.Doc == "background" {
				t.Errorf("%s: point %q cites background notes but is not marked background", e.ID, p.Text)
			}
		}
	}
	for _, k := range []Kind{Topic, Person, Org, Glossary, Gap} {
		if kinds[k] == 0 {
			t.Errorf("no %s entries", k)
		}
	}
}

// The built-in knowledge base is lint-clean: every example question finds
// its own entry first.
func TestDefaultKBLintsClean(t *testing.T) {
	kb, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	problems, err := Lint(t.Context(), ix)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}
