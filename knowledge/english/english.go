// Package english knows which words are everyday English: words a reader
// may use about any topic, as opposed to names and terms a knowledge base
// would have to know to answer. It also keeps typo correction from
// "fixing" real words.
package english

import (
	_ "embed"
	"strings"
)

// words.txt: one lowercase word a line, sorted bytewise (see NOTICE).
//
//go:embed words.txt
var words string

// IsWord reports whether w (lowercase letters) is a common English word.
// It searches the embedded sorted list directly, so it costs nothing at
// start-up and allocates nothing.
func IsWord(w string) bool {
	if w == "" {
		return false
	}
	lo, hi := 0, len(words)
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Move to the start of the line that holds mid.
		start := strings.LastIndexByte(words[:mid], '\n') + 1
		end := strings.IndexByte(words[start:], '\n')
		if end < 0 {
			end = len(words) - start
		}
		line := words[start : start+end]
		switch {
		case line == w:
			return true
		case line < w:
			lo = start + end + 1
		default:
			hi = start
		}
	}
	return false
}
