package bot

import (
	"fmt"
	"strings"

	"github.com/explainerbot/explainer/knowledge"
)

// about is what the engine says about itself when it declines.
type about struct {
	name     string   // what it can talk about, short
	featured []string // questions it answers well
}

func newAbout(kb *knowledge.KB) about {
	info := kb.About()
	a := about{name: info.Name}
	for _, id := range info.Featured {
		if en, ok := kb.Entry(id); ok {
			a.featured = append(a.featured, en.Title)
		}
	}
	return a
}

// decline builds a polite "I don't know that" with what the KB does know
// nearby: the closest entries found, or the featured questions.
func (e *Engine) decline(reason string, near []knowledge.Hit) Answer {
	a := Answer{Answered: false, Reason: reason, Points: []Point{}, Sources: []Source{}, Entries: []string{}}
	if reason == ReasonNotCovered {
		for _, h := range near {
			if h.Entry.Kind == knowledge.Gap || h.Coverage == 0 {
				continue
			}
			if len(a.Followups) == maxFollowups {
				break
			}
			a.Followups = append(a.Followups, h.Entry.Title)
		}
	}
	if len(a.Followups) == 0 {
		a.Followups = append([]string(nil), e.about.featured...)
	}
	a.Lead = e.declineLead(reason)
	a.Text = e.declineText(a)
	return a
}

func (e *Engine) declineLead(reason string) string {
	topic := e.about.name
	switch reason {
	case ReasonTask:
		return fmt.Sprintf("I can't do that: I only answer questions about %s.", topic)
	case ReasonLive:
		return fmt.Sprintf("I don't have live data such as today's prices or news; I only know %s as my sources reported it.", topic)
	case ReasonAdvice:
		return fmt.Sprintf("I can't give investment or buying advice; I can only explain %s.", topic)
	case ReasonInjection:
		return fmt.Sprintf("I can only answer from my knowledge base about %s, and that doesn't change.", topic)
	case ReasonTooLong:
		return fmt.Sprintf("That message is too long for me (over %d characters). Please ask one short question about %s.", MaxQuestionRunes, topic)
	case ReasonNoWords:
		return fmt.Sprintf("I didn't find a question in that. Ask me something about %s, in words.", topic)
	case ReasonEmpty:
		return fmt.Sprintf("Ask me a question about %s.", topic)
	default:
		return fmt.Sprintf("I don't know that: my knowledge base doesn't cover it. I can talk about %s.", topic)
	}
}

func (e *Engine) declineText(a Answer) string {
	var b strings.Builder
	if a.Reason == ReasonGap {
		b.WriteString("I don't know that. ")
	}
	b.WriteString(a.Lead)
	if len(a.Followups) > 0 {
		if a.Reason == ReasonGap {
			b.WriteString("\n\nWhat I can tell you about nearby:")
		} else {
			b.WriteString("\n\nYou could ask:")
		}
		for _, f := range a.Followups {
			b.WriteString("\n- ")
			b.WriteString(f)
		}
	}
	return b.String()
}

// StandingLabel is how a standing is shown next to who says it; facts need
// no label.
func StandingLabel(standing string) string {
	switch standing {
	case StandingDisputed:
		return "disputed"
	case StandingClaim:
		return "claim"
	case StandingOpinion:
		return "opinion"
	case StandingBackground:
		return "background, not from the article"
	}
	return ""
}

// Attribution renders who says a point and its standing: "DeepSeek; disputed".
func (p Point) Attribution() string {
	if l := StandingLabel(p.Standing); l != "" {
		return p.By + "; " + l
	}
	return p.By
}

// answerText renders an answer as plain text: the lead, the points with
// their attribution, the sources. A fluent answer's points carry the ids its
// lead cites: "- [p1] ...".
func answerText(a Answer) string {
	var b strings.Builder
	b.WriteString(a.Lead)
	if len(a.Points) > 0 {
		b.WriteString("\n")
		for i, p := range a.Points {
			b.WriteString("\n- ")
			if a.Fluent {
				b.WriteString("[" + PointID(i) + "] ")
			}
			fmt.Fprintf(&b, "%s (%s)", p.Text, p.Attribution())
		}
	}
	if refs := SourceRefs(a.Sources); len(refs) > 0 {
		b.WriteString("\n\nSources: ")
		b.WriteString(strings.Join(refs, "; "))
	}
	return b.String()
}

// SourceRefs lists the distinct references of the sources, in order.
func SourceRefs(sources []Source) []string {
	var out []string
	seen := make(map[string]bool)
	for _, s := range sources {
		if !seen[s.Ref] {
			seen[s.Ref] = true
			out = append(out, s.Ref)
		}
	}
	return out
}
