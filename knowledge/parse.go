package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// MinQuestions is how many example questions an entry needs.
const MinQuestions = 4

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// rawEntry is the front matter as written.
type rawEntry struct {
	ID        string     `yaml:"id"`
	Title     string     `yaml:"title"`
	Kind      string     `yaml:"kind"`
	Questions []string   `yaml:"questions"`
	Points    []rawPoint `yaml:"points"`
	Tags      []string   `yaml:"tags"`
	Related   []string   `yaml:"related"`
	Reviewed  string     `yaml:"reviewed"`
}

type rawPoint struct {
	Text     string `yaml:"text"`
	By       string `yaml:"by"`
	Standing string `yaml:"standing"`
	Source   string `yaml:"source"`
}

// yamlDoc is a parsed YAML document that can say on which line a value sits.
type yamlDoc struct {
	file   *ast.File
	offset int // lines before the YAML text in its file
}

// line returns the file line of the value at a YAML path such as
// "$.points[1].standing", or of the nearest parent that exists.
func (d yamlDoc) line(path string) int {
	for path != "" && path != "$" {
		p, err := yaml.PathString(path)
		if err == nil {
			if n, err := p.FilterFile(d.file); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line + d.offset
				}
			}
		}
		path = parentPath(path)
	}
	return d.offset + 1
}

func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i <= 0 {
		return ""
	}
	return path[:i]
}

// decodeYAML parses data into v, rejecting unknown fields. A failure is a
// problem with the line it is on.
func decodeYAML(name string, data []byte, offset int, v any, ps *problems) (yamlDoc, bool) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		ps.add(name, errLine(err, offset), "invalid YAML: %s", errMessage(err))
		return yamlDoc{}, false
	}
	doc := yamlDoc{file: f, offset: offset}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		ps.add(name, offset+1, "empty YAML")
		return doc, false
	}
	if err := yaml.NodeToValue(f.Docs[0].Body, v, yaml.DisallowUnknownField()); err != nil {
		ps.add(name, errLine(err, offset), "%s", errMessage(err))
		return doc, false
	}
	return doc, true
}

func errLine(err error, offset int) int {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return tk.Position.Line + offset
		}
	}
	return offset + 1
}

func errMessage(err error) string {
	var ye yaml.Error
	if errors.As(err, &ye) {
		return ye.GetMessage()
	}
	return err.Error()
}

// splitFrontMatter separates "---\nYAML\n---\nbody". It returns the YAML, the
// body and the file line the body starts on.
func splitFrontMatter(data []byte) (front, body []byte, bodyLine int, err error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, nil, 0, errors.New(`must start with a "---" line, then YAML front matter, then "---"`)
	}
	rest := data[4:]
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		if bytes.HasSuffix(rest, []byte("\n---")) {
			end = len(rest) - 4
		} else {
			return nil, nil, 0, errors.New(`front matter is not closed by a "---" line`)
		}
	}
	front = rest[:end+1]
	body = nil
	if end+5 <= len(rest) {
		body = rest[end+5:]
	}
	bodyLine = 2 + bytes.Count(front, []byte("\n")) + 1
	return front, body, bodyLine, nil
}

// parseEntry reads one entry file. It returns nil when the file cannot be
// read as an entry at all; otherwise the entry, with any problems recorded.
func parseEntry(name string, data []byte, ps *problems) *Entry {
	front, body, bodyLine, err := splitFrontMatter(data)
	if err != nil {
		ps.add(name, 1, "%v", err)
		return nil
	}
	var raw rawEntry
	doc, ok := decodeYAML(name, front, 1, &raw, ps)
	if !ok {
		return nil
	}
	e := &Entry{
		ID:        strings.TrimSpace(raw.ID),
		Title:     strings.TrimSpace(raw.Title),
		Kind:      Kind(strings.TrimSpace(raw.Kind)),
		Questions: trimAll(raw.Questions),
		Tags:      trimAll(raw.Tags),
		Related:   trimAll(raw.Related),
		Reviewed:  strings.TrimSpace(raw.Reviewed),
		File:      name,
		Line:      doc.line("$.id"),
	}
	e.Lead, e.Body = splitBody(body)

	switch {
	case e.ID == "":
		ps.add(name, doc.line("$.id"), "missing id")
	case !idPattern.MatchString(e.ID):
		ps.add(name, doc.line("$.id"), "id %q: use lowercase letters, digits and dashes", e.ID)
	}
	if e.Title == "" {
		ps.add(name, doc.line("$.title"), "missing title")
	}
	if !e.Kind.Valid() {
		ps.add(name, doc.line("$.kind"), "kind %q: want topic, person, org, glossary or gap", raw.Kind)
	}
	if len(e.Questions) < MinQuestions {
		ps.add(name, doc.line("$.questions"), "%d example question(s): want at least %d, in different words", len(e.Questions), MinQuestions)
	}
	for i, q := range e.Questions {
		line := doc.line(fmt.Sprintf("$.questions[%d]", i))
		e.questionLines = append(e.questionLines, line)
		if q == "" {
			ps.add(name, line, "empty example question")
		}
	}
	if e.Lead == "" {
		ps.add(name, bodyLine, "missing answer: the body's first paragraph is the lead")
	}
	if !datePattern.MatchString(e.Reviewed) {
		ps.add(name, doc.line("$.reviewed"), "reviewed %q: want a date YYYY-MM-DD", e.Reviewed)
	}
	if len(raw.Points) == 0 && e.Kind != Gap && e.Kind.Valid() {
		ps.add(name, doc.line("$.points"), "no points: every answer rests on attributed points")
	}
	for i, rp := range raw.Points {
		at := func(field string) int { return doc.line(fmt.Sprintf("$.points[%d].%s", i, field)) }
		p := Point{
			Text:     strings.TrimSpace(rp.Text),
			By:       strings.TrimSpace(rp.By),
			Standing: Standing(strings.TrimSpace(rp.Standing)),
		}
		if p.Text == "" {
			ps.add(name, at("text"), "point %d: missing text", i+1)
		}
		if p.By == "" {
			ps.add(name, at("by"), "point %d: missing by (who says it)", i+1)
		}
		if !p.Standing.Valid() {
			ps.add(name, at("standing"), "point %d: standing %q: want fact, claim, disputed, opinion or background", i+1, rp.Standing)
		}
		ref, err := ParseSourceRef(rp.Source)
		if err != nil {
			ps.add(name, at("source"), "point %d: %v", i+1, err)
		}
		p.Source = ref
		e.Points = append(e.Points, p)
	}
	return e
}

// splitBody returns the first paragraph (joined into one line) and the rest.
func splitBody(body []byte) (lead, rest string) {
	text := strings.TrimSpace(string(body))
	first, more, _ := strings.Cut(text, "\n\n")
	return strings.Join(strings.Fields(first), " "), strings.TrimSpace(more)
}

func trimAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}
