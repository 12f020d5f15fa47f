package knowledge

import (
	"strings"
	"testing"
)

// The entry parser never panics, and whatever it accepts is well formed.
func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(okEntry))
	f.Add([]byte(strings.Replace(okEntry, "standing: fact", "standing: [", 1)))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\nid: x\n"))
	f.Add([]byte("---\n: : :\n---\nbody"))
	f.Add([]byte("---\nquestions: {a: b}\npoints: 7\n---\n"))
	f.Add([]byte("\xef\xbb\xbf---\r\nid: a\r\n---\r\nlead\r\n"))
	f.Add([]byte("---\nid: &a [*a]\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ps problems
		e := parseEntry("fuzz.md", data, &ps)
		for _, p := range ps {
			if p.File != "fuzz.md" || p.Line < 0 || p.Msg == "" {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if e == nil || len(ps) > 0 {
			return
		}
		// Accepted: the entry must satisfy the schema.
		if !idPattern.MatchString(e.ID) || e.Title == "" || !e.Kind.Valid() || e.Lead == "" || len(e.Questions) < MinQuestions {
			t.Fatalf("accepted an invalid entry: %+v", e)
		}
		for _, p := range e.Points {
			if !p.Standing.Valid() || p.By == "" || p.Text == "" || p.Source.Doc == "" {
				t.Fatalf("accepted an invalid point: %+v", p)
			}
		}
	})
}
