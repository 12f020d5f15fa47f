package knowledge

import (
	"context"
	"fmt"
	"strings"
)

// Lint checks what loading cannot: that every example question finds its own
// entry first, so curators see at once when two entries compete for the same
// wording. Loading has already checked the schema and references.
func Lint(ctx context.Context, ix *Index) ([]Problem, error) {
	var ps problems
	for _, e := range ix.kb.entries {
		seen := make(map[string]bool)
		for i, q := range e.Questions {
			line := e.Line
			if i < len(e.questionLines) {
				line = e.questionLines[i]
			}
			key := strings.ToLower(strings.Join(strings.Fields(q), " "))
			if seen[key] {
				ps.add(e.File, line, "example question %q is repeated", q)
				continue
			}
			seen[key] = true
			res, err := ix.Search(ctx, q, 3)
			if err != nil {
				return nil, fmt.Errorf("lint %s: %w", e.ID, err)
			}
			switch {
			case len(res.Hits) == 0:
				ps.add(e.File, line, "example question %q finds no entry", q)
			case res.Hits[0].Entry.ID != e.ID:
				ps.add(e.File, line, "example question %q finds %q first, not this entry", q, res.Hits[0].Entry.ID)
			}
		}
	}
	return ps, nil
}
