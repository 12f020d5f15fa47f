package knowledge

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
)

//go:embed data
var embedded embed.FS

// File names inside a knowledge base folder.
const (
	SourcesFile    = "sources.yaml"
	VocabularyFile = "vocabulary.yaml"
	AboutFile      = "about.yaml"
	EntriesDir     = "entries"
)

// KB is a loaded, checked knowledge base. It is read-only once loaded.
type KB struct {
	entries []*Entry
	byID    map[string]*Entry
	vocab   Vocabulary
	docs    []Document
	docByID map[string]Document
	about   About
}

// About is how the bot describes what it knows.
type About struct {
	Name     string   // what it can talk about, as a phrase: "the DeepSeek shock to Nvidia"
	Summary  string   // one or two sentences
	Featured []string // entry ids to suggest first
}

// About describes the knowledge base.
func (kb *KB) About() About { return kb.about }

// Entries returns every entry, sorted by id.
func (kb *KB) Entries() []*Entry { return kb.entries }

// Entry returns the entry with the given id.
func (kb *KB) Entry(id string) (*Entry, bool) {
	e, ok := kb.byID[id]
	return e, ok
}

// Vocabulary returns the synonyms and entities.
func (kb *KB) Vocabulary() Vocabulary { return kb.vocab }

// Documents returns the cited documents.
func (kb *KB) Documents() []Document { return kb.docs }

// Document returns the document with the given id.
func (kb *KB) Document(id string) (Document, bool) {
	d, ok := kb.docByID[id]
	return d, ok
}

// Cite renders a source reference for people, such as "article, paragraph 4".
func (kb *KB) Cite(ref SourceRef) string {
	if d, ok := kb.docByID[ref.Doc]; ok {
		return d.Cite(ref.Para)
	}
	return ref.String()
}

// Default loads the knowledge base built into the binary.
func Default() (*KB, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, fmt.Errorf("embedded knowledge base: %w", err)
	}
	return LoadFS(sub, "knowledge/data")
}

// Open loads the knowledge base in dir, or the built-in one when dir is
// empty, and builds its search index.
func Open(dir string) (*Index, error) {
	var kb *KB
	var err error
	if dir == "" {
		kb, err = Default()
	} else {
		kb, err = LoadDir(dir)
	}
	if err != nil {
		return nil, err
	}
	ix, err := NewIndex(kb)
	if err != nil {
		return nil, fmt.Errorf("index knowledge base: %w", err)
	}
	return ix, nil
}

// LoadDir loads a knowledge base from a folder on disk.
func LoadDir(dir string) (*KB, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("knowledge base %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("knowledge base %s: not a folder", dir)
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS loads and checks a knowledge base. root names the folder in
// messages. A knowledge base with any problem is refused with a
// *ProblemsError that lists them all, each with its file and line.
func LoadFS(fsys fs.FS, root string) (*KB, error) {
	var ps problems
	name := func(p string) string { return path.Join(root, p) }
	kb := &KB{byID: make(map[string]*Entry), docByID: make(map[string]Document)}

	kb.docs = loadSources(fsys, name(SourcesFile), &ps)
	for _, d := range kb.docs {
		kb.docByID[d.ID] = d
	}
	kb.vocab = loadVocabulary(fsys, name(VocabularyFile), &ps)
	aboutLines := loadAbout(fsys, name(AboutFile), kb, &ps)

	files, err := fs.Glob(fsys, EntriesDir+"/*.md")
	if err != nil {
		return nil, fmt.Errorf("list entries in %s: %w", name(EntriesDir), err)
	}
	if len(files) == 0 {
		ps.add(name(EntriesDir), 0, "no entries (*.md files)")
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			ps.add(name(f), 0, "read: %v", err)
			continue
		}
		e := parseEntry(name(f), data, &ps)
		if e == nil {
			continue
		}
		if base := strings.TrimSuffix(path.Base(f), ".md"); e.ID != "" && e.ID != base {
			ps.add(e.File, e.Line, "id %q differs from the file name %q", e.ID, base+".md")
		}
		if prev, dup := kb.byID[e.ID]; dup && e.ID != "" {
			ps.add(e.File, e.Line, "duplicate id %q (also in %s:%d)", e.ID, prev.File, prev.Line)
			continue
		}
		kb.byID[e.ID] = e
		kb.entries = append(kb.entries, e)
	}
	slices.SortFunc(kb.entries, func(a, b *Entry) int { return strings.Compare(a.ID, b.ID) })
	kb.checkReferences(&ps, name(VocabularyFile))
	kb.completeAbout(name(AboutFile), aboutLines, &ps)

	if len(ps) > 0 {
		return nil, &ProblemsError{Problems: ps}
	}
	return kb, nil
}

// checkReferences finds related entries, sources and entity entries that do
// not exist.
func (kb *KB) checkReferences(ps *problems, vocabFile string) {
	for _, e := range kb.entries {
		for _, r := range e.Related {
			if _, ok := kb.byID[r]; !ok {
				ps.add(e.File, e.Line, "related %q: no such entry", r)
			} else if r == e.ID {
				ps.add(e.File, e.Line, "related %q: an entry cannot be related to itself", r)
			}
		}
		for i, p := range e.Points {
			if p.Source.Doc == "" {
				continue // already reported as unparsable
			}
			d, ok := kb.docByID[p.Source.Doc]
			switch {
			case !ok:
				ps.add(e.File, e.Line, "point %d: source %q: no such document in %s", i+1, p.Source, SourcesFile)
			case p.Source.Para > 0 && d.Paragraphs[p.Source.Para] == "":
				ps.add(e.File, e.Line, "point %d: source %q: %s has no paragraph %d", i+1, p.Source, d.ID, p.Source.Para)
			}
		}
	}
	for _, ent := range kb.vocab.Entities {
		if ent.Entry == "" {
			continue
		}
		if _, ok := kb.byID[ent.Entry]; !ok {
			ps.add(vocabFile, ent.Line, "entity %q: entry %q does not exist", ent.Name, ent.Entry)
		}
	}
}

type rawSources struct {
	Documents []struct {
		ID         string         `yaml:"id"`
		Title      string         `yaml:"title"`
		Kind       string         `yaml:"kind"`
		Covers     string         `yaml:"covers"`
		Paragraphs map[int]string `yaml:"paragraphs"`
	} `yaml:"documents"`
}

func loadSources(fsys fs.FS, name string, ps *problems) []Document {
	data, err := fs.ReadFile(fsys, SourcesFile)
	if err != nil {
		ps.add(name, 0, "%v", readErr(err))
		return nil
	}
	var raw rawSources
	doc, ok := decodeYAML(name, data, 0, &raw, ps)
	if !ok {
		return nil
	}
	var out []Document
	seen := make(map[string]bool)
	for i, d := range raw.Documents {
		at := doc.line(fmt.Sprintf("$.documents[%d].id", i))
		switch {
		case d.ID == "":
			ps.add(name, at, "document %d: missing id", i+1)
			continue
		case seen[d.ID]:
			ps.add(name, at, "duplicate document id %q", d.ID)
			continue
		case d.Title == "":
			ps.add(name, at, "document %q: missing title", d.ID)
		}
		seen[d.ID] = true
		out = append(out, Document{ID: d.ID, Title: strings.TrimSpace(d.Title), Kind: d.Kind, Covers: strings.TrimSpace(d.Covers), Paragraphs: d.Paragraphs})
	}
	if len(out) == 0 {
		ps.add(name, 0, "no documents")
	}
	return out
}

type rawVocabulary struct {
	Synonyms [][]string `yaml:"synonyms"`
	Filler   []string   `yaml:"filler"`
	Entities []struct {
		Name    string   `yaml:"name"`
		Aliases []string `yaml:"aliases"`
		Kind    string   `yaml:"kind"`
		Entry   string   `yaml:"entry"`
	} `yaml:"entities"`
}

func loadVocabulary(fsys fs.FS, name string, ps *problems) Vocabulary {
	data, err := fs.ReadFile(fsys, VocabularyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Vocabulary{} // a vocabulary is optional
	}
	if err != nil {
		ps.add(name, 0, "%v", err)
		return Vocabulary{}
	}
	var raw rawVocabulary
	doc, ok := decodeYAML(name, data, 0, &raw, ps)
	if !ok {
		return Vocabulary{}
	}
	v := Vocabulary{Filler: trimAll(raw.Filler)}
	for i, g := range raw.Synonyms {
		g = trimAll(g)
		if len(g) < 2 || slices.Contains(g, "") {
			ps.add(name, doc.line(fmt.Sprintf("$.synonyms[%d]", i)), "synonym group needs two or more non-empty words")
			continue
		}
		v.Synonyms = append(v.Synonyms, g)
	}
	for i, e := range raw.Entities {
		if strings.TrimSpace(e.Name) == "" {
			ps.add(name, doc.line(fmt.Sprintf("$.entities[%d]", i)), "entity %d: missing name", i+1)
			continue
		}
		ent := Entity{
			Name:    strings.TrimSpace(e.Name),
			Aliases: trimAll(e.Aliases),
			Kind:    strings.TrimSpace(e.Kind),
			Entry:   strings.TrimSpace(e.Entry),
			Line:    doc.line(fmt.Sprintf("$.entities[%d].name", i)),
		}
		v.Entities = append(v.Entities, ent)
	}
	return v
}

func readErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("missing file")
	}
	return err
}

type rawAbout struct {
	Name     string   `yaml:"name"`
	Summary  string   `yaml:"summary"`
	Featured []string `yaml:"featured"`
}

// loadAbout reads the optional about file. It returns the line of each
// featured id, to report ids that do not exist.
func loadAbout(fsys fs.FS, name string, kb *KB, ps *problems) []int {
	data, err := fs.ReadFile(fsys, AboutFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		ps.add(name, 0, "%v", err)
		return nil
	}
	var raw rawAbout
	doc, ok := decodeYAML(name, data, 0, &raw, ps)
	if !ok {
		return nil
	}
	kb.about = About{Name: strings.TrimSpace(raw.Name), Summary: strings.TrimSpace(raw.Summary), Featured: trimAll(raw.Featured)}
	lines := make([]int, len(raw.Featured))
	for i := range raw.Featured {
		lines[i] = doc.line(fmt.Sprintf("$.featured[%d]", i))
	}
	return lines
}

// completeAbout checks the about file's references and fills what it leaves
// out from the documents and entries.
func (kb *KB) completeAbout(name string, lines []int, ps *problems) {
	for i, id := range kb.about.Featured {
		if _, ok := kb.byID[id]; !ok && i < len(lines) {
			ps.add(name, lines[i], "featured %q: no such entry", id)
		}
	}
	if kb.about.Name == "" && len(kb.docs) > 0 {
		kb.about.Name = kb.docs[0].Title
	}
	if kb.about.Summary == "" && len(kb.docs) > 0 {
		kb.about.Summary = kb.docs[0].Covers
	}
	if len(kb.about.Featured) == 0 {
		for _, e := range kb.entries {
			if e.Kind == Topic && len(kb.about.Featured) < 3 {
				kb.about.Featured = append(kb.about.Featured, e.ID)
			}
		}
	}
}
