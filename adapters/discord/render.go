package discord

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/bot"
)

// Discord's limits on what one message may hold, in characters (counted
// as Discord counts them: UTF-16 code units).
const (
	maxContent     = 2000
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFooter      = 2048
	maxEmbedTotal  = 6000
	maxButtonLabel = 80
	maxCustomID    = 100
	maxRowButtons  = 5
	maxChoices     = 25
	maxChoiceText  = 100
)

// How much of one text an answer shows before trimming it, so that no
// single lead or point can crowd out the rest.
const (
	maxLead        = 3000
	maxPointText   = 1000
	maxAttribution = 200
	// An answer too long for one message continues in at most this many.
	maxPages = 3
)

// Embed colours.
const (
	colorAnswer   = 0x5865F2 // answered
	colorDisputed = 0xF0B232 // answered, with a contested point
	colorDeclined = 0x99AAB5 // not answered
)

// Custom id prefixes of the buttons the bot puts under its answers.
const (
	idAsk       = "ask:" // ask:<question>
	idAskPrefix = "ask~" // ask~<start of a question too long for a custom id>
	idHelpful   = "fb:y:"
	idUnhelpful = "fb:n:"
)

// message is one Discord message as the REST API and interaction
// responses take it.
type message struct {
	Content          string                            `json:"content,omitempty"`
	Embeds           []*discordgo.MessageEmbed         `json:"embeds,omitempty"`
	Components       []discordgo.MessageComponent      `json:"components,omitempty"`
	Flags            discordgo.MessageFlags            `json:"flags,omitempty"`
	AllowedMentions  *discordgo.MessageAllowedMentions `json:"allowed_mentions,omitempty"`
	MessageReference *discordgo.MessageReference       `json:"message_reference,omitempty"`
}

// noPings lets a message mention nobody: the knowledge base's text and a
// user's question are shown, never acted on.
func noPings() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// notice is a short text for the person who clicked or typed only.
func notice(text string) message {
	return message{Content: fit(text, maxContent), Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noPings()}
}

// renderOptions say what an answer's message offers besides the answer.
type renderOptions struct {
	feedback bool // 👍 / 👎 buttons
}

// renderAnswer renders an answer under a title (the question as asked): one
// message, or a few when the points do not fit in one. The buttons (follow-up
// questions, feedback) go on the first message.
func renderAnswer(title string, a bot.Answer, opt renderOptions) []message {
	color := colorDeclined
	if a.Answered {
		color = colorAnswer
		for _, p := range a.Points {
			if p.Disputed() {
				color = colorDisputed
				break
			}
		}
	}

	lead := a.Lead
	if !a.Answered && a.Reason == bot.ReasonGap {
		lead = "I don't know that. " + lead
	}
	chunks := []string{fit(escape(lead), maxLead)}
	if !a.Answered && len(a.Followups) > 0 {
		if a.Reason == bot.ReasonGap {
			chunks[0] += "\n\n*What I can tell you about nearby:*"
		} else {
			chunks[0] += "\n\n*You could ask:*"
		}
	}
	for i, p := range a.Points {
		bullet := "• "
		if a.Fluent {
			// The lead cites the points as [p1], [p2]...: label them so.
			bullet = "**[" + bot.PointID(i) + "]** "
		}
		c := bullet + fit(escape(p.Text), maxPointText) + "\n    — " + attribution(p)
		if i == 0 {
			c = "\n" + c
		}
		chunks = append(chunks, c)
	}

	first := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: fit(escape(title), maxTitle), Color: color}
	if refs := bot.SourceRefs(a.Sources); len(refs) > 0 {
		first.Fields = []*discordgo.MessageEmbedField{{Name: "Sources", Value: fit(escape(strings.Join(refs, "\n")), maxFieldValue)}}
	}
	embeds := paginate(first, chunks, color)

	msgs := make([]message, len(embeds))
	for i, e := range embeds {
		msgs[i] = message{Embeds: []*discordgo.MessageEmbed{e}, AllowedMentions: noPings()}
	}
	var rows []discordgo.MessageComponent
	if row := questionButtons(a.Followups); row != nil {
		rows = append(rows, row)
	}
	if opt.feedback && a.Answered {
		rows = append(rows, feedbackButtons(a.Entries))
	}
	msgs[0].Components = rows
	return msgs
}

// attribution renders who says a point and its standing; a disputed point
// is marked so that nobody reads it as settled.
func attribution(p bot.Point) string {
	by := fit(escape(p.By), maxAttribution)
	switch label := bot.StandingLabel(p.Standing); {
	case p.Disputed():
		return by + " · ⚠️ **" + label + "**"
	case label != "":
		return by + " · *" + label + "*"
	default:
		return by
	}
}

// paginate lays chunks of description out over embeds within Discord's
// limits: first takes what fits after its title and fields, then each
// further embed takes what fits in a description, up to maxPages; what is
// left over is counted, not cut mid-sentence.
func paginate(first *discordgo.MessageEmbed, chunks []string, color int) []*discordgo.MessageEmbed {
	embeds := []*discordgo.MessageEmbed{first}
	cur := first
	var b strings.Builder
	flush := func() { cur.Description = b.String(); b.Reset() }
	room := func(e *discordgo.MessageEmbed) int {
		return min(maxDescription, maxEmbedTotal-embedLength(e))
	}
	const moreNote = 40 // room kept for "…and N more points."
	for i, c := range chunks {
		sep := ""
		if b.Len() > 0 {
			sep = "\n"
		}
		last := len(embeds) == maxPages
		reserve := 0
		if last && i < len(chunks)-1 {
			reserve = moreNote
		}
		if units(b.String())+units(sep+c)+reserve <= room(cur) {
			b.WriteString(sep + c)
			continue
		}
		if last {
			// No further message: say how much is left out rather than
			// cut a point in the middle.
			b.WriteString("\n…and " + plural(len(chunks)-i, "more point") + ".")
			break
		}
		// Every chunk is trimmed to fit an empty description on its own.
		flush()
		cur = &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Color: color}
		embeds = append(embeds, cur)
		b.WriteString(strings.TrimPrefix(c, "\n"))
	}
	flush()
	return embeds
}

// plural says "1 point" or "3 points".
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + one + "s"
}

// questionButtons offers questions as buttons that ask them when clicked.
func questionButtons(questions []string) discordgo.MessageComponent {
	var buttons []discordgo.MessageComponent
	seen := make(map[string]bool)
	for _, q := range questions {
		q = strings.TrimSpace(q)
		id := questionID(q)
		if q == "" || seen[id] {
			continue
		}
		seen[id] = true
		buttons = append(buttons, discordgo.Button{Label: fit(q, maxButtonLabel), Style: discordgo.SecondaryButton, CustomID: id})
		if len(buttons) == maxRowButtons {
			break
		}
	}
	if len(buttons) == 0 {
		return nil
	}
	return discordgo.ActionsRow{Components: buttons}
}

// questionID is the custom id of a button that asks q: the question itself
// when it fits, else its start, which the click resolves to the question.
func questionID(q string) string {
	if len(idAsk)+len(q) <= maxCustomID {
		return idAsk + q
	}
	return idAskPrefix + cutBytes(q, maxCustomID-len(idAskPrefix))
}

// feedbackButtons are 👍 / 👎 for an answer built from entries; the entry
// ids ride in the custom id, as many as fit.
func feedbackButtons(entries []string) discordgo.MessageComponent {
	ids := joinFit(entries, ",", maxCustomID-len(idHelpful))
	return discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Helpful", Emoji: &discordgo.ComponentEmoji{Name: "👍"}, Style: discordgo.SecondaryButton, CustomID: idHelpful + ids},
		discordgo.Button{Label: "Not helpful", Emoji: &discordgo.ComponentEmoji{Name: "👎"}, Style: discordgo.SecondaryButton, CustomID: idUnhelpful + ids},
	}}
}

// joinFit joins as many of parts as fit in n bytes.
func joinFit(parts []string, sep string, n int) string {
	var b strings.Builder
	for _, p := range parts {
		add := p
		if b.Len() > 0 {
			add = sep + p
		}
		if b.Len()+len(add) > n {
			break
		}
		b.WriteString(add)
	}
	return b.String()
}

// renderAbout renders what the bot knows: its subject, sources and
// questions to try, which are also offered as buttons.
func renderAbout(a bot.About) message {
	desc := escape(a.Summary)
	if desc != "" {
		desc += "\n\n"
	}
	desc += "I answer only from a curated knowledge base"
	if a.Entries > 0 {
		desc += " of " + strconv.Itoa(a.Entries) + " entries"
	}
	desc += ", say who claims what, and say so when it does not cover a question."
	title := "About this bot"
	if a.Name != "" {
		title = "I explain " + a.Name
	}
	e := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       fit(escape(title), maxTitle),
		Description: fit(desc, maxDescription),
		Color:       colorAnswer,
		Footer:      &discordgo.MessageEmbedFooter{Text: "/ask a question · /explain a term · or mention me with a question"},
	}
	if len(a.Sources) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Sources", Value: bullets(a.Sources)})
	}
	if len(a.Featured) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Try asking", Value: bullets(a.Featured)})
	}
	m := message{Embeds: []*discordgo.MessageEmbed{e}, AllowedMentions: noPings()}
	if row := questionButtons(a.Featured); row != nil {
		m.Components = []discordgo.MessageComponent{row}
	}
	return m
}

// bullets lists items in one field value, as many as fit.
func bullets(items []string) string {
	var lines []string
	for _, it := range items {
		lines = append(lines, "• "+fit(escape(it), 200))
	}
	return fit(joinFit(lines, "\n", maxFieldValue), maxFieldValue)
}

// choices turns texts into autocomplete choices: at most 25, each name and
// value within 100 characters, no value twice.
func choices(texts []string) []*discordgo.ApplicationCommandOptionChoice {
	out := make([]*discordgo.ApplicationCommandOptionChoice, 0, min(len(texts), maxChoices))
	seen := make(map[string]bool)
	for _, t := range texts {
		t = strings.TrimSpace(t)
		v := cutUnits(t, maxChoiceText)
		if t == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: fit(t, maxChoiceText), Value: v})
		if len(out) == maxChoices {
			break
		}
	}
	return out
}

// embedLength is an embed's size as Discord counts it towards the 6,000
// characters a message's embeds may hold.
func embedLength(e *discordgo.MessageEmbed) int {
	n := units(e.Title) + units(e.Description)
	for _, f := range e.Fields {
		n += units(f.Name) + units(f.Value)
	}
	if e.Footer != nil {
		n += units(e.Footer.Text)
	}
	if e.Author != nil {
		n += units(e.Author.Name)
	}
	return n
}

// units is the length of s in UTF-16 code units, as Discord counts.
func units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// cutUnits returns the longest prefix of s within n UTF-16 units.
func cutUnits(s string, n int) string {
	u := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if u+w > n {
			return s[:i]
		}
		u += w
	}
	return s
}

// cutBytes returns the longest prefix of s within n bytes that ends on a
// rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// fit returns s if it is within n UTF-16 units, else its start cut at a
// word boundary (when one is near) and ended with "…".
func fit(s string, n int) string {
	if units(s) <= n {
		return s
	}
	if n <= 1 {
		return cutUnits("…", n)
	}
	head := cutUnits(s, n-1)
	if i := strings.LastIndexAny(head, " \n"); i >= len(head)/2 {
		head = head[:i]
	}
	head = strings.TrimRight(head, " \n\t,;:—-")
	// Never leave half of a Markdown escape at the end.
	if k := len(head) - len(strings.TrimRight(head, `\`)); k%2 == 1 {
		head = head[:len(head)-1]
	}
	return head + "…"
}

// markdown is what Discord reads as formatting in text it shows.
var markdown = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "~", `\~`, "`", "\\`", "|", `\|`)

var unmarkdown = strings.NewReplacer(`\\`, `\`, `\*`, `*`, `\_`, `_`, `\~`, "~", "\\`", "`", `\|`, "|")

// escape makes text show as written, not as Markdown.
func escape(s string) string { return markdown.Replace(s) }

// unescape reverses escape.
func unescape(s string) string { return unmarkdown.Replace(s) }
