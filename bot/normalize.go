package bot

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var (
	// <@U123>, <@!123>, <#C1|general>, <!here>, <@&role>: platform mentions.
	mentionPattern = regexp.MustCompile(`<[@#!][^<>\s]{0,80}>`)
	// <https://x|label> keeps the label; bare links are dropped.
	slackLinkPattern = regexp.MustCompile(`<(?:https?|mailto):[^|<>\s]*\|([^<>]*)>`)
	urlPattern       = regexp.MustCompile(`(?:<)?https?://[^\s<>]+(?:>)?`)
)

// Normalize cleans a question for matching: Unicode is brought to one form
// (NFKC), platform mentions and links are removed, invisible and control
// characters dropped, curly quotes straightened and white space collapsed.
// It never fails, whatever the input.
func Normalize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	s = norm.NFKC.String(s)
	s = slackLinkPattern.ReplaceAllString(s, "$1")
	s = mentionPattern.ReplaceAllString(s, " ")
	s = urlPattern.ReplaceAllString(s, " ")
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading space
	for _, r := range s {
		switch r {
		case '‘', '’', '`', '´':
			r = '\''
		case '“', '”':
			r = '"'
		}
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			if !space {
				b.WriteByte(' ')
				space = true
			}
		case unicode.Is(unicode.Cf, r): // zero-width and format characters
		default:
			b.WriteRune(r)
			space = false
		}
	}
	return strings.TrimSpace(b.String())
}

// hasWords reports whether s has at least one letter or digit.
func hasWords(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// mostlyLatin reports whether most letters of s are Latin, which the English
// knowledge base can match.
func mostlyLatin(s string) bool {
	var latin, other int
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		if unicode.Is(unicode.Latin, r) {
			latin++
		} else {
			other++
		}
	}
	return latin >= other
}
