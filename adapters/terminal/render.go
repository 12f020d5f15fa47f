// Package terminal renders answers for a terminal: wrapped, readable text.
package terminal

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/explainerbot/explainer/bot"
)

// Width is the column text is wrapped at.
const Width = 80

// Render writes an answer as readable text. The points of a fluent answer
// (written by a language model) are labelled [p1], [p2]... as its lead
// cites them; an extractive answer's are bullets.
func Render(w io.Writer, a bot.Answer) error {
	var b strings.Builder
	if !a.Answered && a.Reason == bot.ReasonGap {
		wrap(&b, "I don't know that. "+a.Lead, "", "")
	} else {
		wrap(&b, a.Lead, "", "")
	}
	if len(a.Points) > 0 {
		b.WriteString("\n")
		for i, p := range a.Points {
			if a.Fluent {
				// The lead cites the points as [p1], [p2]...: label them so.
				label := "  [" + bot.PointID(i) + "] "
				indent := strings.Repeat(" ", utf8.RuneCountInString(label))
				wrap(&b, p.Text, label, indent)
				fmt.Fprintf(&b, "%s— %s\n", indent, p.Attribution())
				continue
			}
			wrap(&b, p.Text, "  • ", "    ")
			fmt.Fprintf(&b, "    — %s\n", p.Attribution())
		}
	}
	if refs := bot.SourceRefs(a.Sources); len(refs) > 0 {
		b.WriteString("\n")
		wrap(&b, "Sources: "+strings.Join(refs, "; "), "", "  ")
	}
	if len(a.Followups) > 0 {
		b.WriteString("\n")
		if a.Answered {
			b.WriteString("Ask next:\n")
		} else if a.Reason == bot.ReasonGap {
			b.WriteString("What I can tell you about nearby:\n")
		} else {
			b.WriteString("You could ask:\n")
		}
		for _, f := range a.Followups {
			wrap(&b, f, "  → ", "    ")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap writes text word-wrapped at Width, the first line after first and the
// others after rest.
func wrap(b *strings.Builder, text, first, rest string) {
	prefix := first
	col := 0
	for i, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		if i > 0 && col+1+n > Width {
			b.WriteString("\n")
			prefix, col = rest, 0
		}
		if col == 0 {
			b.WriteString(prefix)
			col = utf8.RuneCountInString(prefix)
		} else {
			b.WriteString(" ")
			col++
		}
		b.WriteString(word)
		col += n
	}
	b.WriteString("\n")
}
