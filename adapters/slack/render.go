package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/explainerbot/explainer/bot"
)

// Slack's Block Kit limits.
const (
	maxSectionText  = 3000 // characters in a section's text
	maxBlocks       = 50   // blocks in a message
	maxButtonText   = 75   // characters on a button
	maxButtonValue  = 2000 // characters in a button's value
	maxContextElems = 10   // elements in a context block
	maxActionElems  = 25   // elements in an actions block
	maxQuoteRunes   = 200  // a question quoted back in "asked" lines
)

// Action ids of the buttons the adapter renders. Buttons in one block need
// distinct ids, so ask buttons are numbered after the prefix: "ask:0".
const (
	actionAsk      = "ask"
	actionVoteUp   = "vote:up"
	actionVoteDown = "vote:down"
	actionShare    = "share"
)

// Message is one Slack message: Block Kit blocks and the plain text
// Slack shows in notifications.
type Message struct {
	Text   string
	Blocks []slackapi.Block
}

// renderOptions adjust how an answer is shown.
type renderOptions struct {
	share    string // key of the kept answer: add "Share in channel"
	askedBy  string // user who asked by clicking a button
	sharedBy string // user who shared an answer they asked privately
}

// voteValue is the value of a 👍/👎 button: what was asked and the
// entries the answer was built from.
type voteValue struct {
	Q string   `json:"q"`
	E []string `json:"e,omitempty"`
}

// shareValue is the value of a "Share in channel" button: the key of the
// answer kept in memory, and the question to ask again if it is gone.
type shareValue struct {
	K string `json:"k"`
	Q string `json:"q"`
}

// renderAnswer renders an answer as one or more messages, each within
// Slack's limits; the buttons come last.
func renderAnswer(a bot.Answer, o renderOptions) []Message {
	var blocks []slackapi.Block
	switch {
	case o.askedBy != "":
		blocks = append(blocks, contextBlocks("", fmt.Sprintf("<@%s> asked: _%s_", o.askedBy, esc(truncateRunes(a.Question, maxQuoteRunes))))...)
	case o.sharedBy != "":
		blocks = append(blocks, contextBlocks("", fmt.Sprintf("<@%s> shared an answer to: _%s_", o.sharedBy, esc(truncateRunes(a.Question, maxQuoteRunes))))...)
	}
	lead := a.Lead
	if !a.Answered && a.Reason == bot.ReasonGap {
		lead = "I don't know that. " + lead
	}
	blocks = append(blocks, sections(esc(lead))...)
	blocks = append(blocks, pointSections(a.Points, a.Fluent)...)
	if refs := bot.SourceRefs(a.Sources); len(refs) > 0 {
		blocks = append(blocks, contextBlocks("sources", ":page_facing_up: Sources: "+esc(strings.Join(refs, " · ")))...)
	}
	if len(a.Followups) > 0 {
		label := "Ask next:"
		switch {
		case a.Reason == bot.ReasonGap:
			label = "What I can tell you about nearby:"
		case !a.Answered:
			label = "You could ask:"
		}
		blocks = append(blocks, contextBlocks("", label)...)
		blocks = append(blocks, askButtons("followups", a.Followups)...)
	}
	buttons := []slackapi.BlockElement{
		button(actionVoteUp, fitValue(a.Question, func(q string) any { return voteValue{Q: q, E: a.Entries} }), "👍 Helpful"),
		button(actionVoteDown, fitValue(a.Question, func(q string) any { return voteValue{Q: q, E: a.Entries} }), "👎 Not helpful"),
	}
	if o.share != "" && a.Answered {
		share := button(actionShare, fitValue(a.Question, func(q string) any { return shareValue{K: o.share, Q: q} }), "Share in channel")
		buttons = append(buttons, share.WithStyle(slackapi.StylePrimary))
	}
	blocks = append(blocks, slackapi.NewActionBlock("feedback", buttons...))
	return paginate(blocks, lead)
}

// renderHelp renders what the bot knows and how to ask it.
func renderHelp(ab bot.About, command, botUser string) []Message {
	mention := "@explainer"
	if botUser != "" {
		mention = "<@" + botUser + ">"
	}
	intro := "*I explain " + esc(ab.Name) + ".*"
	if ab.Summary != "" {
		intro += " " + esc(ab.Summary)
	}
	blocks := sections(intro)
	blocks = append(blocks, sections("*How to ask me*\n"+
		"• Mention me in a channel: "+mention+" _your question_. I answer in a thread, and answer follow-ups in that thread without a mention.\n"+
		"• Send me a direct message.\n"+
		"• `"+command+" your question`: only you see the answer; *Share in channel* posts it for everyone.\n"+
		"• `"+command+" digest`: a daily brief of the story in a channel (subscribe, unsubscribe, now, list).")...)
	if len(ab.Sources) > 0 {
		var b strings.Builder
		b.WriteString("*What I answer from*")
		for _, s := range ab.Sources {
			b.WriteString("\n• " + esc(s))
		}
		blocks = append(blocks, sections(b.String())...)
	}
	blocks = append(blocks, contextBlocks("", fmt.Sprintf("I answer only from a curated knowledge base of %d entries and cite its sources; when it doesn't cover something, I say so.", ab.Entries))...)
	if len(ab.Featured) > 0 {
		blocks = append(blocks, contextBlocks("", "Try asking:")...)
		blocks = append(blocks, askButtons("featured", ab.Featured)...)
	}
	return paginate(blocks, "I explain "+ab.Name+".")
}

// textMessage is a message of plain text only.
func textMessage(text string) Message {
	return Message{Text: text, Blocks: sections(esc(text))}
}

// pointSections renders the points behind an answer, each with who says it
// and its standing, as few sections as the limits allow. The points of a
// fluent answer are labelled [p1], [p2]... as its lead cites them.
func pointSections(points []bot.Point, fluent bool) []slackapi.Block {
	var out []slackapi.Block
	cur := ""
	flush := func() {
		if cur != "" {
			out = append(out, section(cur))
			cur = ""
		}
	}
	for i, p := range points {
		t := pointText(p)
		if fluent {
			t = "*[" + bot.PointID(i) + "]*" + strings.TrimPrefix(t, "•")
		}
		if cur != "" && textLen(cur)+2+textLen(t) <= maxSectionText {
			cur += "\n\n" + t
			continue
		}
		flush()
		parts := splitText(t, maxSectionText)
		for _, part := range parts[:len(parts)-1] {
			out = append(out, section(part))
		}
		cur = parts[len(parts)-1]
	}
	flush()
	return out
}

// pointText renders one point: "• text" and, under it, who says it, with
// disputed points marked.
func pointText(p bot.Point) string {
	var attr []string
	if p.By != "" {
		attr = append(attr, "_— "+esc(p.By)+"_")
	}
	switch {
	case p.Disputed():
		attr = append(attr, ":warning: *disputed*")
	case bot.StandingLabel(p.Standing) != "":
		attr = append(attr, esc(bot.StandingLabel(p.Standing)))
	}
	t := "• " + esc(p.Text)
	if len(attr) > 0 {
		t += "\n      " + strings.Join(attr, " · ")
	}
	return t
}

// askButtons renders questions as buttons that ask them, in as many
// actions blocks as needed.
func askButtons(blockID string, questions []string) []slackapi.Block {
	var out []slackapi.Block
	for start := 0; start < len(questions); start += maxActionElems {
		end := min(start+maxActionElems, len(questions))
		var elems []slackapi.BlockElement
		for i, q := range questions[start:end] {
			elems = append(elems, button(fmt.Sprintf("%s:%d", actionAsk, start+i), truncateRunes(q, maxButtonValue), truncateRunes(q, maxButtonText)))
		}
		id := blockID
		if start > 0 {
			id = fmt.Sprintf("%s-%d", blockID, start/maxActionElems+1)
		}
		out = append(out, slackapi.NewActionBlock(id, elems...))
	}
	return out
}

func button(actionID, value, label string) *slackapi.ButtonBlockElement {
	return slackapi.NewButtonBlockElement(actionID, value, slackapi.NewTextBlockObject(slackapi.PlainTextType, label, true, false))
}

func section(text string) slackapi.Block {
	return slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, false), nil, nil)
}

// sections renders mrkdwn text as sections of at most maxSectionText.
func sections(text string) []slackapi.Block {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var out []slackapi.Block
	for _, part := range splitText(text, maxSectionText) {
		out = append(out, section(part))
	}
	return out
}

// contextBlocks renders mrkdwn text as context blocks, split within the
// limits; only the first block gets the id.
func contextBlocks(blockID, text string) []slackapi.Block {
	parts := splitText(text, maxSectionText)
	var out []slackapi.Block
	for start := 0; start < len(parts); start += maxContextElems {
		var elems []slackapi.MixedElement
		for _, p := range parts[start:min(start+maxContextElems, len(parts))] {
			elems = append(elems, slackapi.NewTextBlockObject(slackapi.MarkdownType, p, false, false))
		}
		out = append(out, slackapi.NewContextBlock(blockID, elems...))
		blockID = ""
	}
	return out
}

// paginate splits blocks into messages of at most maxBlocks. The first
// message's notification text is the lead; later ones say they continue.
func paginate(blocks []slackapi.Block, lead string) []Message {
	var out []Message
	for start := 0; start < len(blocks); start += maxBlocks {
		text := "(continued)"
		if start == 0 {
			text = truncateRunes(lead, maxSectionText)
		}
		out = append(out, Message{Text: text, Blocks: blocks[start:min(start+maxBlocks, len(blocks))]})
	}
	return out
}

// fitValue encodes a button value built from q, shortening q until the
// value fits Slack's limit.
func fitValue(q string, build func(q string) any) string {
	for {
		b, err := json.Marshal(build(q))
		if err != nil {
			return ""
		}
		if len(b) <= maxButtonValue || q == "" {
			return string(b)
		}
		r := []rune(q)
		q = string(r[:len(r)-max(1, (len(b)-maxButtonValue+3)/4)])
	}
}

// esc escapes the characters Slack's mrkdwn reserves.
func esc(s string) string { return escaper.Replace(s) }

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// textLen is a text's length as Slack counts it (UTF-16 code units).
func textLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// splitText splits mrkdwn text into parts of at most limit characters, at
// a paragraph, line or word break where there is one, never inside an
// escaped entity.
func splitText(s string, limit int) []string {
	var out []string
	for textLen(s) > limit {
		cut := prefixBytes(s, limit)
		at := -1
		for _, sep := range []string{"\n\n", "\n", " "} {
			if i := strings.LastIndex(s[:cut], sep); i > 0 {
				at = i
				break
			}
		}
		if at <= 0 {
			at = cut
			if amp := strings.LastIndexByte(s[:cut], '&'); amp > 0 && !strings.Contains(s[amp:cut], ";") {
				at = amp
			}
		}
		part := strings.TrimRight(s[:at], " \n")
		if part != "" {
			out = append(out, part)
		}
		s = strings.TrimLeft(s[at:], " \n")
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

// prefixBytes is the length in bytes of the longest prefix of s that is at
// most limit characters long.
func prefixBytes(s string, limit int) int {
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > limit {
			return i
		}
		n += w
	}
	return len(s)
}

// truncateRunes shortens s to at most n runes, ending in "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
