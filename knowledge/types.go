// Package knowledge holds the curated knowledge base: the entries the team
// writes, the vocabulary readers use, the documents they cite, and the search
// index built over them.
package knowledge

import (
	"fmt"
	"strconv"
	"strings"
)

// Standing says how firmly a point is established.
type Standing string

// The standings a point can have.
const (
	Fact       Standing = "fact"       // reported as settled
	Claim      Standing = "claim"      // asserted by someone, uncontested in the sources
	Disputed   Standing = "disputed"   // asserted by someone and contested by someone else
	Opinion    Standing = "opinion"    // an argument or a view
	Background Standing = "background" // our own glossary note, not the sources' reporting
)

// Valid reports whether s is one of the known standings.
func (s Standing) Valid() bool {
	switch s {
	case Fact, Claim, Disputed, Opinion, Background:
		return true
	}
	return false
}

// Kind says what an entry is about.
type Kind string

// The kinds of entry.
const (
	Topic    Kind = "topic"    // a question about the story
	Person   Kind = "person"   // who someone is and what they said
	Org      Kind = "org"      // an organisation in the story
	Glossary Kind = "glossary" // a term explained as background
	Gap      Kind = "gap"      // something the sources do not cover
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case Topic, Person, Org, Glossary, Gap:
		return true
	}
	return false
}

// SourceRef points at a document, or one paragraph of it.
type SourceRef struct {
	Doc  string // a document id from sources.yaml
	Para int    // 1-based paragraph number; 0 means the whole document
}

// ParseSourceRef reads "doc" or "doc#N".
func ParseSourceRef(s string) (SourceRef, error) {
	s = strings.TrimSpace(s)
	doc, para, hasPara := strings.Cut(s, "#")
	if doc == "" {
		return SourceRef{}, fmt.Errorf("source %q: want DOC or DOC#PARAGRAPH", s)
	}
	ref := SourceRef{Doc: doc}
	if hasPara {
		n, err := strconv.Atoi(para)
		if err != nil || n < 1 {
			return SourceRef{}, fmt.Errorf("source %q: paragraph must be a number from 1", s)
		}
		ref.Para = n
	}
	return ref, nil
}

func (r SourceRef) String() string {
	if r.Para == 0 {
		return r.Doc
	}
	return r.Doc + "#" + strconv.Itoa(r.Para)
}

// Point is one statement an answer rests on, with who makes it.
type Point struct {
	Text     string
	By       string
	Standing Standing
	Source   SourceRef
}

// Entry is one curated answer.
type Entry struct {
	ID        string
	Title     string
	Kind      Kind
	Questions []string // example questions, several phrasings
	Lead      string   // the one-sentence answer: the first paragraph of the body
	Body      string   // the rest of the Markdown body, may be empty
	Points    []Point
	Tags      []string
	Related   []string
	Reviewed  string // YYYY-MM-DD

	File string // where it was read from, for messages
	Line int    // the line of its id

	questionLines []int
}

// Sources lists the distinct sources of the entry's points, in order.
func (e *Entry) Sources() []SourceRef {
	var out []SourceRef
	seen := make(map[SourceRef]bool)
	for _, p := range e.Points {
		if !seen[p.Source] {
			seen[p.Source] = true
			out = append(out, p.Source)
		}
	}
	return out
}

// Entity is a named thing readers ask about, with the words they use for it.
type Entity struct {
	Name    string
	Aliases []string
	Kind    string // person, org, model, chip, concept, publication...
	Entry   string // the id of the entry that explains it
	Line    int    // where it is defined, for messages
}

// Vocabulary is how readers may word things.
type Vocabulary struct {
	// Synonyms are groups of words or phrases that mean the same here; the
	// first of each group is its canonical form.
	Synonyms [][]string
	Entities []Entity
	// Filler are words that carry no meaning in a question ("tell",
	// "explain", "lol"); they weigh nothing when judging what is asked.
	Filler []string
}

// Document is a source the entries cite.
type Document struct {
	ID         string
	Title      string
	Kind       string
	Covers     string
	Paragraphs map[int]string
}

// Cite renders a reference for people: "article, paragraph 4".
func (d Document) Cite(para int) string {
	if para == 0 {
		return d.Title
	}
	return fmt.Sprintf("%s, paragraph %d", d.ID, para)
}
