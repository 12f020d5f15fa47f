package bot

import (
	"regexp"
	"strings"
)

// Requests the bot declines before looking anything up, whatever words of
// the story they contain. Each is a kind of message, not a topic: a task to
// perform, live data, personal investment advice, or an attempt to talk the
// bot out of its knowledge base.
type intentRule struct {
	reason string
	// triggers are words one of which every match contains; checking them
	// first keeps the regular expression off the common path.
	triggers []string
	pattern  *regexp.Regexp
}

func intentRules() []intentRule {
	const (
		artifact = `(?:poem|poems|haiku|limerick|song|lyrics|rap|story|stories|essay|tweet|thread|post|caption|email|e-mail|letter|speech|joke|jokes|meme|memes|image|picture|drawing|logo|slogan|script|program|function|code|app|website|recipe|summary of (?:my|this|that))`
		// Words of a live number or live news.
		live = `(?:price|prices|priced|trading|trade at|quote|market cap|share price|stock price|worth|valuation|news|headlines|weather|forecast|score|earnings)`
		now  = `(?:today|tonight|tomorrow|right now|rn|now|currently|at the moment|this (?:morning|afternoon|week|month|year)|live|real[- ]time|latest|as of|yesterday)`
	)
	return []intentRule{
		{ReasonInjection, []string{"ignor", "disregard", "forget", "overrid", "bypass", "prompt", "instruction", "message", "pretend", "act ", "behave", "role", "you are now", "from now on", "jailbreak", "developer mode", "dan mode", "rules", "no restrictions", "no filters", "unrestricted", "reveal", "leak", "api key", "token", "secret", "config"}, regexp.MustCompile(`(?i)\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instruction|instructions|prompt|rules|guidelines|previous|above|everything|programming|guardrails|restrictions)\b` +
			`|\b(?:system|hidden|initial|original)\s+(?:prompt|message|instructions)\b` +
			`|\b(?:reveal|show|print|repeat|leak|tell me)\b.{0,30}\b(?:your|the)\s+(?:prompt|instructions|rules|configuration|config|api key|token|secret)s?\b` +
			`|\b(?:pretend|act|behave|roleplay|role-play)\s+(?:to be|as|like|you(?:'re| are))\b` +
			`|\byou are now\b|\bfrom now on,? you\b|\bjailbreak|\bdeveloper mode\b|\bDAN mode\b|\bno (?:rules|restrictions|filters)\b|\bunrestricted\b`)},
		{ReasonTask, []string{"write", "compose", "draft", "generat", "creat", "make", "draw", "design", "paint", "code", "translat", "rewrite", "paraphrase", "book", "order", "buy me", "reserve", "schedule", "remind", "send", "email", "call", "text", "play", "sing", "joke", "story", "recipe"}, regexp.MustCompile(`(?i)^(?:(?:hey|hi|yo|ok|okay|please|pls|plz|can you|could you|would you|will you|bot|explainer)[,!:]?\s+)*` +
			`(?:write|compose|draft|generate|create|make|draw|design|paint|code|translate|rewrite|paraphrase|book|order|buy me|reserve|schedule|remind|send|email|call|text|play|sing|tell me a (?:joke|story)|give me a (?:recipe|joke))\b` +
			`|\b(?:write|compose|draft|generate|create|make|draw)\s+(?:me\s+|us\s+)?(?:a|an|some|the|my|\d+)?\s*(?:\w+\s+){0,3}` + artifact + `\b` +
			`|\btranslate\b.{0,60}\b(?:into|to|in)\s+[a-z]+` +
			`|\b(?:book|reserve)\s+(?:me\s+)?(?:a|an)\s+(?:flight|table|hotel|room|ticket|cab|taxi|uber)\b`)},
		{ReasonAdvice, []string{"should", "good", "bad", "right", "smart", "buy", "sell", "short", "price target", "advice", "recom", "suggest", "will ", "better", "great", "safe", "best"}, regexp.MustCompile(`(?i)\bshould (?:i|we|you)\s+(?:buy|sell|short|hold|invest|dump|get|load up|go long|trade)\b` +
			`|\b(?:good|bad|right|smart) (?:time|moment|idea|investment|buy|bet) to (?:buy|sell|invest|short|get in)\b` +
			`|\b(?:is|are)\s+\w+(?:\s+\w+)?\s+(?:stock\s+|shares\s+)?(?:a )?(?:good|bad|smart) (?:buy|investment|bet|stock)\b` +
			`|\b(?:buy|sell|short)\s+(?:or|vs\.?)\s+(?:sell|hold|buy)\b|\bbuy the dip\b|\bprice target\b|\bfinancial advice\b|\binvestment advice\b` +
			`|\b(?:which|what)\s+(?:stocks?|shares|gpu|graphics card|laptop|chip|pc)\s+should (?:i|we)\b` +
			`|\b(?:recomm?end|suggest)\s+(?:me\s+)?(?:a|an|some)?\s*(?:\w+\s+)?(?:stock|stocks|gpu|gpus|graphics card|laptop|laptops|pc|computer|chip|chips|broker)\b` +
			`|\b(?:better|good|great|bad|smart|safe|best)\s+(?:buy|investment|bet|stock to buy)\b|\bbuying opportunity\b|\bbuy(?:ing)? (?:more|some|the stock|shares)\b` +
			`|\b(?:best|cheapest|good|better)\s+(?:\w+\s+)?(?:gpu|gpus|graphics cards?|laptops?|pcs?|computers?|cpus?|phones?|stocks?)\s+(?:for|to)\b` +
			`|\bwill\s+\w+(?:\s+\w+)?\s+(?:stock|shares)\s+(?:go up|go down|rise|fall|recover|rebound|bounce back)\b`)},
		{ReasonLive, []string{"today", "tonight", "tomorrow", "now", "rn", "currently", "moment", "this ", "live", "real", "latest", "as of", "yesterday", "weather", "forecast", "trading at", "worth", "at right", "news", "update", "development", "headlines", "new"}, regexp.MustCompile(`(?i)\b` + live + `\b.{0,40}\b` + now + `\b` +
			`|\b` + now + `\b.{0,30}\b` + live + `\b` +
			`|\b(?:what(?:'s| is)|how much is)\s+\w+(?:\s+\w+)?\s+(?:trading at|worth now|at right now)\b` +
			`|\bweather\b|\bforecast\b` +
			`|\b(?:any|latest|recent)\s+(?:\w+\s+){0,2}(?:news|updates?|developments?|headlines)\b|\bwhat(?:'s| is) new\b`)},
	}
}

// classify returns the reason a message is declined before retrieval, or "".
func (e *Engine) classify(text string) string {
	lower := strings.ToLower(text)
	for _, r := range e.intents {
		if hasAny(lower, r.triggers) && r.pattern.MatchString(text) {
			return r.reason
		}
	}
	return ""
}

// hasAny reports whether s has one of words at the start of a word ("rn"
// in "rn?" but not in "learn"). Every pattern's keywords start at a word
// boundary, so this never misses a match the pattern would make.
func hasAny(s string, words []string) bool {
	for _, w := range words {
		for off := 0; ; {
			i := strings.Index(s[off:], w)
			if i < 0 {
				break
			}
			i += off
			if i == 0 || !isWordByte(s[i-1]) {
				return true
			}
			off = i + 1
		}
	}
	return false
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}
