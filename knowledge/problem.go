package knowledge

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a knowledge base file.
type Problem struct {
	File string
	Line int // 0 when the problem is not on one line
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// ProblemsError is returned when a knowledge base cannot be used. It holds
// every problem found, not only the first.
type ProblemsError struct {
	Problems []Problem
}

func (e *ProblemsError) Error() string {
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "knowledge base has %d problem(s)", len(e.Problems))
	for i, p := range e.Problems {
		if i == show {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Problems)-show)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects problems while a knowledge base is read.
type problems []Problem

func (ps *problems) add(file string, line int, format string, args ...any) {
	*ps = append(*ps, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}
