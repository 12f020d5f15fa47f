// Package bot is the platform-agnostic answer engine: it turns a Question into
// an Answer built only from the curated knowledge base, and declines plainly
// when the knowledge base does not cover what was asked.
//
// With a Summarizer (a language model, package llm) in Options, an answered
// question's lead is rewritten fluently from its points, and shown only if
// the grounding guard accepts it; otherwise the extractive answer stands.
// Platforms that can edit a message as it grows use Engine.AskStream:
//
//	a, err := eng.AskStream(ctx, q, func(text string) {
//		// post text, or edit the posted message to text (throttled)
//	})
//	// then post or edit the message to the rendered a: it replaces any
//	// partial text (it may be the extractive answer after all)
package bot

// Platforms a question can come from.
const (
	PlatformCLI     = "cli"
	PlatformWeb     = "web"
	PlatformAPI     = "api"
	PlatformSlack   = "slack"
	PlatformDiscord = "discord"
)

// Question is what someone asked, with platform markup already removed.
type Question struct {
	Text     string
	User     string // platform user id; empty when unknown
	Platform string
	Channel  string
	Thread   string
	Direct   bool // asked in a direct message
}

// Standings a point can have; they mirror the knowledge base's.
const (
	StandingFact       = "fact"
	StandingClaim      = "claim"
	StandingDisputed   = "disputed"
	StandingOpinion    = "opinion"
	StandingBackground = "background"
)

// Point is one attributed statement behind an answer.
type Point struct {
	Text     string `json:"text"`
	By       string `json:"by"`
	Standing string `json:"standing"`
}

// Disputed reports whether the point is contested.
func (p Point) Disputed() bool { return p.Standing == StandingDisputed }

// Source is where an answer's points come from.
type Source struct {
	Entry string `json:"entry"` // knowledge base entry id
	Title string `json:"title"` // the entry's title
	Ref   string `json:"ref"`   // for people: "article, paragraph 2"
}

// Decline reasons: why a question was not answered.
const (
	ReasonNotCovered = "not_covered" // the KB has nothing on it
	ReasonGap        = "gap"         // the KB knows the sources do not cover it
	ReasonTask       = "task"        // a request to do something, not a question
	ReasonLive       = "live_data"   // needs today's prices or news
	ReasonAdvice     = "advice"      // investment or buying advice
	ReasonInjection  = "injection"   // an attempt to change the bot's instructions
	ReasonTooLong    = "too_long"
	ReasonNoWords    = "no_words" // emoji, symbols or junk only
	ReasonEmpty      = "empty"
)

// Answer is the engine's reply. Adapters render it; they never compute it.
// An Answer is shared between callers and must not be modified.
type Answer struct {
	Question   string   `json:"question"`
	Answered   bool     `json:"answered"`
	Text       string   `json:"text"` // the whole answer as plain text
	Lead       string   `json:"lead"`
	Points     []Point  `json:"points"`
	Sources    []Source `json:"sources"`
	Followups  []string `json:"followups"`
	Confidence float64  `json:"confidence"`
	Entries    []string `json:"entries"`          // entry ids used
	Reason     string   `json:"reason,omitempty"` // why it declined
	// Fluent is set when Lead was written by the optional language model
	// from Points and passed the grounding guard. It cites the points as
	// [p1] for Points[0], [p2] for Points[1] and so on (see PointID).
	Fluent bool `json:"fluent,omitempty"`
}
