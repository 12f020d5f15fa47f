package bot

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/explainerbot/explainer/knowledge"
)

// The grounding guard reads a language model's answer against the points it
// was given and turns it down unless every checkable detail comes from them:
//
//   - every number, amount, percentage and year is one the points state
//     (10,000 = 10k = ten thousand; "thousands" only if a point has a number
//     in that range);
//   - every product code (A100, H800, V3) is one the points name;
//   - every name (a capitalised word that is not an ordinary sentence
//     opener: people, organisations, products, places, months) is in the
//     points, directly or through the knowledge base's synonyms and aliases;
//   - every citation is one of the given ids, and there is at least one;
//   - a point that someone claims, disputes or argues (standing claim,
//     disputed or opinion) is never stated as fact: a sentence that cites
//     it, repeats one of its own numbers or product codes, or restates most
//     of its distinctive words must carry an attribution or hedge ("DeepSeek
//     says", "according to", "claims", "reportedly") and must not assert it
//     ("in fact", "confirmed").
//
// The rules are lexical on purpose: fast (microseconds an answer), the same
// for any model, and biased to refuse. A refusal only costs fluency: the
// extractive answer, which is always grounded, is used instead.

// Guard rules: why an answer was turned down. They label metrics, so the
// set is fixed.
const (
	RuleNumber      = "number"       // a number, amount, percentage, date or product code not in the points
	RuleName        = "name"         // a person, organisation, product or place not in the points
	RuleCitation    = "citation"     // a citation of an id that was not given, or a malformed one
	RuleUncited     = "uncited"      // no citation at all
	RuleAttribution = "unattributed" // a claimed, disputed or opinion point stated as fact
	RuleFormat      = "format"       // empty, too long, or carrying links
)

// MaxSummaryRunes is the longest model answer the guard accepts.
const MaxSummaryRunes = 1500

// Rejection is why the guard turned down a model's answer.
type Rejection struct {
	Rule   string // one of the Rule constants
	Detail string // the words that failed, for logs
}

func (r *Rejection) Error() string { return "grounding guard: " + r.Rule + ": " + r.Detail }

func reject(rule, format string, args ...any) *Rejection {
	return &Rejection{Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// CheckGrounded runs the grounding guard on text written from points, which
// it may cite as [p1] for points[0], [p2] for points[1] and so on. It
// returns a *Rejection, or nil when the text may be shown.
func (e *Engine) CheckGrounded(text string, points []Point) error {
	if r := newGuard(e.kb.Vocabulary(), briefPoints(points)).check(text); r != nil {
		return r
	}
	return nil
}

// guard holds what the points ground, prepared once per answer. The
// knowledge base's vocabulary is read only for words the points do not
// ground directly, which keeps preparing a guard cheap.
type guard struct {
	vocab      knowledge.Vocabulary
	ids        map[string]bool
	quantities []quantity
	codes      map[string]bool
	words      map[string]bool // lower-cased words of the points
	text       string          // the points and who says them
	lower      string
	attributed []attributed
	memo       map[string]bool // words grounded through the vocabulary, and names known, by lookup
}

// attributed is a point that must keep its attribution, with what gives a
// restatement of it away.
type attributed struct {
	id         string
	quantities []quantity
	codes      map[string]bool
	words      map[string]bool // its distinctive content words
}

func newGuard(v knowledge.Vocabulary, points []BriefPoint) *guard {
	g := &guard{
		vocab: v,
		ids:   make(map[string]bool, len(points)),
		codes: make(map[string]bool),
		words: make(map[string]bool),
	}
	var all strings.Builder
	plain := make(map[string]bool)  // content words of fact and background points
	plainQ := []quantity{}          // their quantities
	plainC := make(map[string]bool) // their codes
	type pointFacts struct {
		quantities []quantity
		codes      map[string]bool
		words      map[string]bool
		by         []token
	}
	facts := make([]pointFacts, len(points))
	for i, p := range points {
		g.ids[p.ID] = true
		all.WriteString(p.Text)
		all.WriteString(" \n ")
		all.WriteString(p.By)
		all.WriteString(" \n ")
		toks, by := tokenize(p.Text), tokenize(p.By)
		pf := pointFacts{quantities: quantities(toks, 0), codes: make(map[string]bool), words: make(map[string]bool), by: by}
		for _, t := range toks {
			g.words[t.word] = true
			if c, ok := code(t); ok {
				pf.codes[c] = true
				g.codes[c] = true
			} else if isContent(t.word) {
				pf.words[stem(t.word)] = true
			}
		}
		for _, t := range by {
			g.words[t.word] = true
		}
		g.quantities = append(g.quantities, pf.quantities...)
		g.quantities = append(g.quantities, quantities(by, 0)...)
		facts[i] = pf
		if !needsAttribution(p.Standing) {
			for w := range pf.words {
				plain[w] = true
			}
			for c := range pf.codes {
				plainC[c] = true
			}
			plainQ = append(plainQ, pf.quantities...)
		}
	}
	g.text = all.String()
	g.lower = strings.ToLower(g.text)

	// What gives away a restatement of an attributed point is what only
	// attributed points say: not the words, numbers and codes that plain
	// facts among the points also use.
	for i, p := range points {
		if !needsAttribution(p.Standing) {
			continue
		}
		a := attributed{id: p.ID, codes: make(map[string]bool), words: make(map[string]bool)}
		for _, q := range facts[i].quantities {
			if !q.in(plainQ) {
				a.quantities = append(a.quantities, q)
			}
		}
		for c := range facts[i].codes {
			if !plainC[c] {
				a.codes[c] = true
			}
		}
		by := make(map[string]bool)
		for _, t := range facts[i].by {
			by[stem(t.word)] = true
		}
		for w := range facts[i].words {
			if !plain[w] && !by[w] && !hedgeWords[w] {
				a.words[w] = true
			}
		}
		g.attributed = append(g.attributed, a)
	}
	return g
}

// grounded reports whether the points use the lower-cased word w: as it is,
// as a plural, or through the knowledge base's synonyms ("American" when
// they say "US") and the aliases of people and organisations ("Alex Wang"
// for "Alexandr Wang").
func (g *guard) grounded(w string) bool {
	if g.words[w] {
		return true
	}
	for _, suffix := range []string{"s", "es", "n", "ns"} { // plurals; American(s) from America
		if strings.HasSuffix(w, suffix) && g.words[strings.TrimSuffix(w, suffix)] {
			return true
		}
	}
	return g.lookup("g:"+w, func() bool {
		for _, group := range g.vocab.Synonyms {
			if hasWord(group, w) && anyMentioned(g.text, g.lower, group) {
				return true
			}
		}
		for _, en := range g.vocab.Entities {
			if en.Kind != "person" && en.Kind != "org" {
				continue
			}
			names := append([]string{en.Name}, en.Aliases...)
			if hasWord(names, w) && anyMentioned(g.text, g.lower, names) {
				return true
			}
		}
		return false
	})
}

// known reports whether w is a word of a name the knowledge base knows (its
// name or a one-word alias: "Nvidia", "Huang"), or a month or weekday.
func (g *guard) known(w string) bool {
	return g.lookup("k:"+w, func() bool {
		if calendarWords[w] {
			return true
		}
		for _, en := range g.vocab.Entities {
			for i, n := range append([]string{en.Name}, en.Aliases...) {
				toks := tokenize(n)
				if i > 0 && len(toks) > 1 {
					continue // "Open AI", "Deep Seek": ordinary words apart
				}
				for _, t := range toks {
					if t.word == w && isCapitalised(t.text) {
						return true
					}
				}
			}
		}
		return false
	})
}

func (g *guard) lookup(key string, f func() bool) bool {
	if v, ok := g.memo[key]; ok {
		return v
	}
	if g.memo == nil {
		g.memo = make(map[string]bool)
	}
	v := f()
	g.memo[key] = v
	return v
}

// hasWord reports whether one of the phrases has the lower-cased word w.
// Codes are never matched through the vocabulary: B200 is not Blackwell.
func hasWord(phrases []string, w string) bool {
	for _, p := range phrases {
		if !strings.Contains(strings.ToLower(p), w) || hasDigit(p) {
			continue
		}
		for _, t := range tokenize(p) {
			if t.word == w {
				return true
			}
		}
	}
	return false
}

// anyMentioned reports whether text mentions one of the phrases as whole
// words. Short phrases (US, FT) must match in capitals, so that the pronoun
// "us" is not the United States.
func anyMentioned(text, lower string, phrases []string) bool {
	for _, p := range phrases {
		hay, needle := lower, strings.ToLower(p)
		if utf8.RuneCountInString(p) <= 3 {
			hay, needle = text, strings.ToUpper(p)
		}
		if containsWord(hay, needle) {
			return true
		}
	}
	return false
}

func containsWord(hay, needle string) bool {
	if needle == "" {
		return false
	}
	for off := 0; ; {
		i := strings.Index(hay[off:], needle)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(needle)
		before, _ := utf8.DecodeLastRuneInString(hay[:i])
		after, _ := utf8.DecodeRuneInString(hay[end:])
		if (i == 0 || !isAlnum(before)) && (end == len(hay) || !isAlnum(after)) {
			return true
		}
		off = i + 1
	}
}

func needsAttribution(standing string) bool {
	return standing == StandingDisputed || standing == StandingClaim || standing == StandingOpinion
}

// check runs every rule on a whole answer.
func (g *guard) check(text string) *Rejection {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return reject(RuleFormat, "empty answer")
	case utf8.RuneCountInString(text) > MaxSummaryRunes:
		return reject(RuleFormat, "answer over %d characters", MaxSummaryRunes)
	}
	cited := 0
	for _, s := range splitSentences(text) {
		n, r := g.checkSentence(text[s.start:s.end])
		if r != nil {
			return r
		}
		cited += n
	}
	if cited == 0 {
		return reject(RuleUncited, "no point cited")
	}
	return nil
}

var (
	bracketPattern  = regexp.MustCompile(`\[([^\[\]\n]{0,80})\]`)
	parenCitPattern = regexp.MustCompile(`\(\s*p\d{1,2}(?:\s*[,;]\s*p\d{1,2})*\s*\)`)
	citeListPattern = regexp.MustCompile(`(?i)^\s*p\d+(?:\s*[,;]\s*p\d+)*\s*$`)
	citeIDPattern   = regexp.MustCompile(`(?i)p\d+`)
)

// checkSentence runs the rules that apply to one sentence, and returns how
// many citations it has.
func (g *guard) checkSentence(s string) (int, *Rejection) {
	if hasLink(s) {
		return 0, reject(RuleFormat, "link in answer")
	}
	// Citations: [p1], [p1, p3], (p2).
	cites := make(map[string]bool)
	var bad *Rejection
	body := bracketPattern.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[1 : len(m)-1]
		if !citeListPattern.MatchString(inner) {
			bad = reject(RuleCitation, "%s is not a citation of a given point", m)
			return " "
		}
		for _, id := range citeIDPattern.FindAllString(inner, -1) {
			cites[strings.ToLower(id)] = true
		}
		return " "
	})
	body = parenCitPattern.ReplaceAllStringFunc(body, func(m string) string {
		for _, id := range citeIDPattern.FindAllString(m, -1) {
			cites[strings.ToLower(id)] = true
		}
		return " "
	})
	if bad != nil {
		return 0, bad
	}
	if strings.ContainsAny(body, "[]") {
		return 0, reject(RuleFormat, "unbalanced brackets in %q", clip(s))
	}
	for id := range cites {
		if !g.ids[id] {
			return 0, reject(RuleCitation, "[%s] was not given", id)
		}
	}

	toks := tokenize(body)
	for _, t := range toks {
		if bareCitation.MatchString(t.word) {
			if !g.ids[t.word] {
				return 0, reject(RuleCitation, "%s was not given", t.text)
			}
			cites[t.word] = true
		}
	}
	for _, q := range quantities(toks, 10) {
		if !q.in(g.quantities) {
			return 0, reject(RuleNumber, "%s is not in the points", q.text)
		}
	}
	for _, t := range toks {
		if c, ok := code(t); ok && !g.codes[c] && !cites[t.word] {
			return 0, reject(RuleNumber, "%s is not in the points", t.text)
		}
	}
	if r := g.checkNames(toks); r != nil {
		return 0, r
	}
	if r := g.checkAttribution(body, toks, cites); r != nil {
		return 0, r
	}
	return len(cites), nil
}

// checkNames turns down names the points do not ground.
func (g *guard) checkNames(toks []token) *Rejection {
	for i, t := range toks {
		if !isCapitalised(t.text) || isNumeric(t) {
			continue
		}
		if _, ok := code(t); ok {
			continue // checked as a code
		}
		caps := isAllCaps(t.text)
		if genericAcronyms[t.word] || (stopWords[t.word] && !caps) {
			continue
		}
		name := !t.start || caps || hasInnerCapital(t.text) || g.known(t.word) || g.known(stem(t.word))
		if !name && i+1 < len(toks) {
			next := toks[i+1]
			name = (isCapitalised(next.text) && !stopWords[next.word]) || reportingVerbs[next.word]
		}
		if !name || g.grounded(t.word) {
			continue
		}
		return reject(RuleName, "%s is not in the points", t.text)
	}
	return nil
}

// hedgeWords attribute or hedge a sentence: who says it, or that it is
// uncertain. A negated assertion ("not confirmed") hedges too.
var hedgeWords = wordSet(`says say said saying claims claim claimed claiming according asserts asserted maintains
maintained insists insisted reportedly allegedly alleged alleges purportedly supposedly apparently disputed
dispute disputes contested questioned unverified unconfirmed unproven reports reported estimates estimated
estimate suggests suggested suggesting suspects suspect suspected suspicion suspicions believes believe believed thinks
think thought argues argue argued contends contend reckons doubts doubt doubted skeptic skeptics skeptical
sceptic sceptics sceptical may might could possibly perhaps view views opinion argument predicts predicted
warns warned expects sees told wrote writes notes noted`)

// ownWords after "own" or a possessive attribute: "DeepSeek's own figures",
// "by its account".
var ownWords = wordSet(`figures figure account numbers estimates estimate words telling view`)

// assertWords vouch for what a sentence says.
var assertWords = wordSet(`indeed definitely certainly undoubtedly confirmed confirms proven proved verified fact facts`)

// negations, up to three words before, turn an assertion into a hedge:
// "has not been independently verified".
var negations = wordSet(`not never no nobody hasn't haven't isn't wasn't weren't aren't cannot can't didn't doesn't
don't nor`)

// hedging reads a sentence for attribution and for assertion.
func hedging(toks []token) (hedged, asserted bool) {
	for i, t := range toks {
		w := t.word
		switch {
		case (w == "doubt" || w == "question") && i > 0 && (toks[i-1].word == "without" || toks[i-1].word == "no"):
			asserted = true // "without doubt"
		case hedgeWords[w]:
			hedged = true
		case ownWords[w] && i > 0 && (toks[i-1].word == "own" || toks[i-1].word == "its" || toks[i-1].word == "their" ||
			toks[i-1].word == "his" || toks[i-1].word == "her"):
			hedged = true
		case assertWords[w]:
			negated := false
			for k := max(0, i-3); k < i; k++ {
				negated = negated || negations[toks[k].word]
			}
			if negated {
				hedged = true
			} else {
				asserted = true
			}
		}
	}
	return hedged, asserted
}

// checkAttribution turns down a sentence that restates a claimed, disputed
// or opinion point without saying whose it is.
func (g *guard) checkAttribution(body string, toks []token, cites map[string]bool) *Rejection {
	if len(g.attributed) == 0 {
		return nil
	}
	qs := quantities(toks, 0)
	codes := make(map[string]bool)
	words := make(map[string]bool)
	for _, t := range toks {
		if c, ok := code(t); ok {
			codes[c] = true
		} else if isContent(t.word) {
			words[stem(t.word)] = true
		}
	}
	hedged, asserted := hedging(toks)
	for _, a := range g.attributed {
		if !a.restatedBy(qs, codes, words, cites) {
			continue
		}
		if !hedged {
			return reject(RuleAttribution, "[%s] stated as fact: %q", a.id, clip(body))
		}
		if asserted {
			return reject(RuleAttribution, "[%s] asserted as fact: %q", a.id, clip(body))
		}
	}
	return nil
}

func (a attributed) restatedBy(qs []quantity, codes, words, cites map[string]bool) bool {
	if cites[a.id] {
		return true
	}
	for _, q := range qs {
		if q.in(a.quantities) {
			return true
		}
	}
	for c := range codes {
		if a.codes[c] {
			return true
		}
	}
	if len(a.words) < 3 {
		return false
	}
	shared := 0
	for w := range words {
		if a.words[w] {
			shared++
		}
	}
	return shared >= 3 && float64(shared) >= 0.5*float64(len(a.words))
}

// hasLink reports a web address or a Markdown link.
func hasLink(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "http://") || strings.Contains(l, "https://") || strings.Contains(l, "www.") || strings.Contains(s, "](")
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 120 {
		return string([]rune(s)[:120]) + "…"
	}
	return s
}

// token is one word or number of a text.
type token struct {
	text  string // as written, without a possessive 's
	word  string // lower-cased, dots removed: "u.s." -> "us"
	start bool   // first word of a sentence, or after a colon or an opening quote
	pct   bool   // followed by %
}

// tokenize splits s into words and numbers. Hyphens separate words
// ("DeepSeek-V3" is DeepSeek and V3); dots, apostrophes and thousands
// commas inside a word or number keep it whole ("U.S.", "5.6", "10,000").
func tokenize(s string) []token {
	out := make([]token, 0, len(s)/6+1)
	start := true
	prev := ' ' // the rune before i
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isAlnum(r) {
			switch r {
			case ':', '“', '«', '.', '!', '?':
				start = true
			case '"':
				if unicode.IsSpace(prev) {
					start = true
				}
			}
			prev = r
			i += size
			continue
		}
		j := i + size
		for j < len(s) {
			c, n := utf8.DecodeRuneInString(s[j:])
			if isAlnum(c) {
				j += n
				continue
			}
			if next, _ := utf8.DecodeRuneInString(s[j+n:]); j+n < len(s) && isAlnum(next) {
				if c == '.' || c == '\'' || c == '’' || c == ',' && thousandsGroup(s, j) {
					j += n
					continue
				}
			}
			break
		}
		text := s[i:j]
		for _, p := range []string{"'s", "’s", "'", "’"} {
			if len(text) > len(p) && strings.HasSuffix(text, p) {
				text = strings.TrimSuffix(text, p)
				break
			}
		}
		word := strings.ReplaceAll(strings.ToLower(text), "’", "'")
		if strings.Contains(word, ".") && strings.IndexFunc(word, unicode.IsLetter) >= 0 {
			word = strings.ReplaceAll(word, ".", "") // U.S. -> us; 5.6 stays
		}
		out = append(out, token{text: text, word: word, start: start, pct: j < len(s) && s[j] == '%'})
		start = false
		prev, _ = utf8.DecodeLastRuneInString(s[:j])
		i = j
	}
	return out
}

// thousandsGroup reports whether the comma at s[j] separates thousands: a
// digit before it and exactly three digits after it.
func thousandsGroup(s string, j int) bool {
	if j == 0 || !isASCIIDigit(s[j-1]) || j+3 >= len(s) {
		return false
	}
	for k := j + 1; k <= j+3; k++ {
		if !isASCIIDigit(s[k]) {
			return false
		}
	}
	return j+4 >= len(s) || !isASCIIDigit(s[j+4])
}

func isASCIIDigit(b byte) bool { return b >= '0' && b <= '9' }

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func hasDigit(s string) bool { return strings.IndexFunc(s, unicode.IsDigit) >= 0 }

func isCapitalised(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

func isAllCaps(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

// hasInnerCapital reports a capital after the first letter: DeepSeek, OpenAI.
func hasInnerCapital(s string) bool {
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

// isContent reports whether a lower-cased word carries meaning for the
// restatement test.
func isContent(w string) bool {
	return utf8.RuneCountInString(w) >= 3 && !stopWords[w] && !hasDigit(w)
}

// stem folds simple plurals: chips -> chip, restrictions -> restriction.
func stem(w string) string {
	if len(w) > 4 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
		return strings.TrimSuffix(w, "s")
	}
	return w
}

// quantity is a number an answer states: exact (lo == hi) or a vague range
// ("thousands" is [2000, 1e6)).
type quantity struct {
	lo, hi  float64
	percent bool
	text    string
}

func (q quantity) exact() bool { return q.lo == q.hi }

// in reports whether one of the grounded quantities supports q.
func (q quantity) in(grounded []quantity) bool {
	for _, p := range grounded {
		switch {
		case q.exact() && p.exact():
			if p.percent == q.percent && closeTo(p.lo, q.lo) {
				return true
			}
		case !q.exact() && p.exact():
			if !p.percent && p.lo >= q.lo && p.lo < q.hi {
				return true
			}
		case !q.exact() && !p.exact():
			if closeTo(p.lo, q.lo) && closeTo(p.hi, q.hi) {
				return true
			}
		}
	}
	return false
}

func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

var (
	plainNumber  = regexp.MustCompile(`^\d+(?:,\d{3})*(?:\.\d+)?$`)
	suffixNumber = regexp.MustCompile(`^(\d+(?:,\d{3})*(?:\.\d+)?)(k|m|mn|bn|b|tn|t|x|s|st|nd|rd|th)$`)
	bareCitation = regexp.MustCompile(`^p\d{1,2}$`)
)

var suffixScale = map[string]float64{"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12, "t": 1e12}

// isNumeric reports whether a token is a number: 10,000, 5.6, 10k, 1990s, 27th.
func isNumeric(t token) bool {
	if t.word == "" || t.word[0] < '0' || t.word[0] > '9' {
		return false
	}
	return plainNumber.MatchString(t.word) || suffixNumber.MatchString(t.word)
}

// code returns the normalised product code of a token that mixes letters
// and digits (A100, H800s, V3, 4o), or false.
func code(t token) (string, bool) {
	if !hasDigit(t.word) || isNumeric(t) || strings.IndexFunc(t.word, unicode.IsLetter) < 0 {
		return "", false
	}
	c := t.word
	if n := len(c); n > 2 && c[n-1] == 's' && c[n-2] >= '0' && c[n-2] <= '9' {
		c = c[:n-1] // A100s
	}
	return c, true
}

var (
	unitWords = map[string]float64{
		"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
		"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
		"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
		"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
	}
	scaleWords  = map[string]float64{"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
	pluralScale = map[string]float64{"dozens": 12, "hundreds": 100, "thousands": 1e3, "millions": 1e6, "billions": 1e9, "trillions": 1e12}
	vaguePrefix = map[string]float64{"tens": 10, "dozens": 12, "hundreds": 100}
)

// quantities finds the numbers in toks. Spelled-out numbers below min
// without a scale word are skipped ("one reason", "two chips" read as
// words); digits always count.
func quantities(toks []token, min float64) []quantity {
	var out []quantity
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		digit := t.word[0] >= '0' && t.word[0] <= '9'
		if m := matchIf(digit, suffixNumber, t.word); m != nil {
			v := parseNumber(m[1])
			if s, ok := suffixScale[m[2]]; ok {
				v *= s
			}
			out = append(out, quantity{lo: v, hi: v, text: t.text})
			continue
		}
		if digit && plainNumber.MatchString(t.word) {
			v, text := parseNumber(t.word), t.text
			if i+1 < len(toks) {
				if s, ok := scaleWords[toks[i+1].word]; ok && s >= 1e3 {
					v *= s
					text += " " + toks[i+1].text
					i++
				}
			}
			pct := toks[i].pct || percentAt(toks, i+1)
			out = append(out, quantity{lo: v, hi: v, percent: pct, text: text})
			continue
		}
		if q, n, ok := vague(toks, i); ok {
			out = append(out, q)
			i += n - 1
			continue
		}
		if q, n, ok := spelled(toks, i); ok {
			if q.lo >= min || n > 1 && hasScale(toks[i:i+n]) {
				q.percent = percentAt(toks, i+n)
				out = append(out, q)
			}
			i += n - 1
		}
	}
	return out
}

func matchIf(ok bool, re *regexp.Regexp, s string) []string {
	if !ok {
		return nil
	}
	return re.FindStringSubmatch(s)
}

func parseNumber(s string) float64 {
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

func percentAt(toks []token, i int) bool {
	if i >= len(toks) {
		return false
	}
	switch toks[i].word {
	case "percent", "pct":
		return true
	case "per":
		return i+1 < len(toks) && toks[i+1].word == "cent"
	}
	return false
}

func hasScale(toks []token) bool {
	for _, t := range toks {
		if _, ok := scaleWords[t.word]; ok {
			return true
		}
	}
	return false
}

// spelled reads a spelled-out number at toks[i]: "fifty thousand",
// "twenty five", "a million" (the "a" is not consumed, the scale alone
// counts as one of it). It returns the quantity and the tokens used.
func spelled(toks []token, i int) (quantity, int, bool) {
	var total, current float64
	n := 0
	for j := i; j < len(toks); j++ {
		w := toks[j].word
		if u, ok := unitWords[w]; ok {
			current += u
		} else if s, ok := scaleWords[w]; ok {
			if current == 0 {
				current = 1
			}
			if s == 100 {
				current *= s
			} else {
				total += current * s
				current = 0
			}
		} else if w == "and" && n > 0 && j+1 < len(toks) && isNumberWord(toks[j+1].word) {
			// "one hundred and twenty"
		} else {
			break
		}
		n = j - i + 1
	}
	if n == 0 {
		return quantity{}, 0, false
	}
	v := total + current
	words := make([]string, n)
	for k := range n {
		words[k] = toks[i+k].text
	}
	return quantity{lo: v, hi: v, text: strings.Join(words, " ")}, n, true
}

func isNumberWord(w string) bool {
	_, u := unitWords[w]
	_, s := scaleWords[w]
	return u || s
}

// vague reads "thousands", "tens of thousands", "hundreds of millions" as
// a range: at least two of the unit and less than a thousand of them
// ("thousands" is [2000, 1e6)); with a prefix, two of the prefix up to the
// next power ("tens of thousands" is [20,000, 100,000)).
func vague(toks []token, i int) (quantity, int, bool) {
	w := toks[i].word
	if p, ok := vaguePrefix[w]; ok && i+2 < len(toks) && toks[i+1].word == "of" {
		if s, ok := pluralScale[toks[i+2].word]; ok && s >= 1e3 {
			return quantity{lo: 2 * p * s, hi: p * 10 * s, text: toks[i].text + " of " + toks[i+2].text}, 3, true
		}
	}
	if s, ok := pluralScale[w]; ok {
		hi := 1000 * s
		if s == 12 { // dozens
			hi = 100
		}
		return quantity{lo: 2 * s, hi: hi, text: toks[i].text}, 1, true
	}
	return quantity{}, 0, false
}

// sentence is a span of an answer.
type span struct{ start, end int }

var abbreviations = map[string]bool{
	"us": true, "uk": true, "eu": true, "eg": true, "ie": true, "mr": true, "mrs": true, "ms": true, "dr": true,
	"vs": true, "inc": true, "corp": true, "co": true, "ltd": true, "jr": true, "sr": true, "st": true,
	"approx": true, "est": true, "fig": true,
}

// splitSentences splits text into sentences: after . ! ? (not in 5.6, U.S.
// or an initial), with any closing quotes and citations that follow
// ("... A100s. [p1] Next" keeps [p1] with the first sentence); and at line
// breaks.
func splitSentences(text string) []span {
	var out []span
	start := 0
	i := 0
	for i < len(text) {
		c := text[i]
		if c == '\n' {
			if strings.TrimSpace(text[start:i]) != "" {
				out = append(out, span{start, i})
			}
			start = i + 1
			i++
			continue
		}
		if c != '.' && c != '!' && c != '?' {
			i++
			continue
		}
		if c == '.' && abbreviationBefore(text, i) {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && strings.ContainsRune(".!?\"')”’»", rune(text[j])) {
			j++
		}
		for j < len(text) && strings.HasPrefix(text[j:], "”") {
			j += len("”")
		}
		if j < len(text) && text[j] != ' ' && text[j] != '\n' && text[j] != '\t' && text[j] != '[' {
			i = j
			continue
		}
		// Citations that follow the stop belong to this sentence.
		k := j
		for {
			m := k
			for m < len(text) && (text[m] == ' ' || text[m] == '\t') {
				m++
			}
			if m < len(text) && text[m] == '[' {
				if close := strings.IndexByte(text[m:], ']'); close > 0 && close < 80 {
					k = m + close + 1
					continue
				}
			}
			break
		}
		out = append(out, span{start, k})
		start = k
		i = k
	}
	if strings.TrimSpace(text[start:]) != "" {
		out = append(out, span{start, len(text)})
	}
	// Trim white space off each span.
	for n := range out {
		s := &out[n]
		for s.start < s.end && unicode.IsSpace(rune(text[s.start])) {
			s.start++
		}
		for s.end > s.start && unicode.IsSpace(rune(text[s.end-1])) {
			s.end--
		}
	}
	return out
}

// abbreviationBefore reports whether the dot at text[i] ends an
// abbreviation or an initial rather than a sentence, or sits in a number.
func abbreviationBefore(text string, i int) bool {
	if i+1 < len(text) && text[i+1] >= '0' && text[i+1] <= '9' {
		return true
	}
	j := i
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(text[:j])
		if !unicode.IsLetter(r) && r != '.' {
			break
		}
		j -= size
	}
	w := strings.ToLower(strings.ReplaceAll(text[j:i], ".", ""))
	if abbreviations[w] {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[j:i])
	return utf8.RuneCountInString(w) == 1 && unicode.IsUpper(r) // an initial: "W. S. Jevons"
}

// stopWords are ordinary words that start sentences and glue them together;
// capitalised at the start of a sentence they are not names.
var stopWords = wordSet(`a about above according across after again against all almost also although always
am among an and another any anyone anything are around as at back be because been before being below
between both but by can could did do does doing done down during each either else even ever every
few first for from further had has have having he her here hers herself him himself his how however
i if in instead into is it its itself just last later least less like likely many may maybe me meanwhile
might more moreover most much must my neither never nevertheless next no none nor not nothing now of off
often on once one only or other others otherwise our ours out over overall own per perhaps rather
really same second several she should since so some something still such than that the their theirs
them then there therefore these they this those though through thus to today together too under
unlike until up upon us very was we well were what whatever when where whether which while who whom
whose why will with within without would yes yet you your yours yesterday tomorrow finally first
second third besides hence indeed furthermore nonetheless regardless because note notably so-called
short long put simply basically essentially ultimately still sure true false briefly despite
given`)

// reportingVerbs after a capitalised sentence opener make it a name:
// "Musk says", "Critics argue".
var reportingVerbs = wordSet(`says said say claims claimed claim argues argued argue thinks thought think believes believed
believe suspects suspected suspect warns warned warn told tells wrote writes estimates estimated
reported reports notes noted insists insisted maintains maintained contends contended disputes disputed
admits admitted agrees agreed denies denied`)

// genericAcronyms are common nouns written in capitals, not names.
var genericAcronyms = wordSet(`ai gpu gpus cpu cpus ceo ceos cto llm llms api apis ok`)

var calendarWords = wordSet(`january february march april june july august september october november december
monday tuesday wednesday thursday friday saturday sunday`)

func wordSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
