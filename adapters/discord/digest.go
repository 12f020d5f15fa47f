package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
)

// Digests manages the daily digest subscriptions of channels
// (*digest.Channels).
type Digests interface {
	Subscribe(ctx context.Context, platform, channel, at, zone, by string) (digest.Subscribed, error)
	Unsubscribe(ctx context.Context, platform, channel string) error
	Today(ctx context.Context, platform, channel string) (digest.Digest, error)
}

// The /digest command.
const (
	cmdDigest      = "digest"
	subSubscribe   = "subscribe"
	subUnsubscribe = "unsubscribe"
	subNow         = "now"
	optTime        = "time"
	optTimezone    = "timezone"
)

// manageChannels is the permission needed to subscribe or unsubscribe a
// channel (administrators have every permission).
const manageChannels = discordgo.PermissionManageChannels | discordgo.PermissionAdministrator

// digestCommand is /digest: subscribe, unsubscribe, now. Only members who
// may manage channels see it by default; server admins can open it to
// others in the server's Integrations settings, and subscribe and
// unsubscribe still check the permission.
func digestCommand() *discordgo.ApplicationCommand {
	perm := int64(discordgo.PermissionManageChannels)
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	clockLen, minLen := 5, 1
	return &discordgo.ApplicationCommand{
		Name:                     cmdDigest,
		Type:                     discordgo.ChatApplicationCommand,
		Description:              "The daily brief of the story, posted in this channel",
		DefaultMemberPermissions: &perm,
		Contexts:                 &contexts,
		Options: []*discordgo.ApplicationCommandOption{
			{
				Type:        discordgo.ApplicationCommandOptionSubCommand,
				Name:        subSubscribe,
				Description: "Post the daily brief in this channel every day",
				Options: []*discordgo.ApplicationCommandOption{
					{
						Type:        discordgo.ApplicationCommandOptionString,
						Name:        optTime,
						Description: "Time of day, HH:MM on the 24-hour clock (default 09:00)",
						MinLength:   &minLen,
						MaxLength:   clockLen,
					},
					{
						Type:         discordgo.ApplicationCommandOptionString,
						Name:         optTimezone,
						Description:  "Time zone, such as Europe/Berlin (default: the bot's)",
						Autocomplete: true,
						MinLength:    &minLen,
						MaxLength:    maxChoiceText,
					},
				},
			},
			{
				Type:        discordgo.ApplicationCommandOptionSubCommand,
				Name:        subUnsubscribe,
				Description: "Stop the daily brief in this channel",
			},
			{
				Type:        discordgo.ApplicationCommandOptionSubCommand,
				Name:        subNow,
				Description: "Show today's brief here",
			},
		},
	}
}

// digestReply handles /digest.
func (a *Adapter) digestReply(ctx context.Context, i *discordgo.Interaction) reply {
	data := i.ApplicationCommandData()
	if a.deps.Digests == nil {
		return reply{first: channelMessage(notice("Daily digests are not set up for this bot."))}
	}
	if len(data.Options) == 0 {
		return reply{first: channelMessage(notice(digestHelp))}
	}
	sub := data.Options[0]
	switch sub.Name {
	case subSubscribe, subUnsubscribe:
		if !mayManageChannels(i) {
			return reply{first: channelMessage(notice("You need the Manage Channels permission to subscribe this channel to the daily brief or to stop it."))}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, interactionWindow/2)
	defer cancel()
	switch sub.Name {
	case subSubscribe:
		s, err := a.deps.Digests.Subscribe(ctx, bot.PlatformDiscord, i.ChannelID, option(sub.Options, optTime), option(sub.Options, optTimezone), userID(i))
		switch {
		case digest.IsInputError(err):
			return reply{first: channelMessage(notice("⚠️ " + escape(err.Error()) + "\nFor example: `/digest subscribe time:08:30 timezone:Europe/Berlin`"))}
		case err != nil:
			a.log.Error("discord: digest subscribe", "channel", i.ChannelID, "err", err)
			return reply{first: channelMessage(notice(msgFailed))}
		}
		verb := "This channel now gets"
		if !s.Created {
			verb = "Changed: this channel now gets"
		}
		return reply{first: channelMessage(notice(fmt.Sprintf("%s a brief of the story every day at **%s** (%s). The next one comes <t:%d:F> (<t:%d:R>). `/digest unsubscribe` stops it.",
			verb, s.At, escape(s.Zone), s.Next.Unix(), s.Next.Unix())))}
	case subUnsubscribe:
		switch err := a.deps.Digests.Unsubscribe(ctx, bot.PlatformDiscord, i.ChannelID); {
		case errors.Is(err, digest.ErrNotSubscribed):
			return reply{first: channelMessage(notice("This channel doesn't get the daily brief, so there was nothing to stop."))}
		case err != nil:
			a.log.Error("discord: digest unsubscribe", "channel", i.ChannelID, "err", err)
			return reply{first: channelMessage(notice(msgFailed))}
		}
		return reply{first: channelMessage(notice("Done: this channel no longer gets the daily brief."))}
	case subNow:
		// Composing may ask a language model for its summary: defer, then
		// edit the digest in.
		return reply{
			first: callback{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource},
			later: func(ctx context.Context) { a.digestNow(ctx, i) },
		}
	}
	return reply{first: channelMessage(notice(digestHelp))}
}

const digestHelp = "`/digest subscribe time:<HH:MM> timezone:<zone>` posts a brief of the story in this channel every day; `/digest unsubscribe` stops it; `/digest now` shows today's."

// digestNow replaces a deferred response with today's digest.
func (a *Adapter) digestNow(ctx context.Context, i *discordgo.Interaction) {
	m := message{Content: msgFailed, AllowedMentions: noPings()}
	func() {
		defer func() { a.recovered(recover(), "digest", debug.Stack()) }()
		cctx, cancel := context.WithTimeout(ctx, a.cfg.AnswerTimeout)
		defer cancel()
		d, err := a.deps.Digests.Today(cctx, bot.PlatformDiscord, i.ChannelID)
		if err != nil {
			a.log.Error("discord: digest now", "channel", i.ChannelID, "err", err)
			return
		}
		m = renderDigest(d, "")
	}()
	if err := untilKnown(ctx, func() error { return a.rest.editOriginal(ctx, i, m) }); err != nil {
		a.log.Error("discord: edit deferred digest", "err", err)
	}
}

// mayManageChannels reports whether the member who interacted may manage
// the channel: Discord sends the member's permissions in the channel.
func mayManageChannels(i *discordgo.Interaction) bool {
	return i.Member != nil && i.Member.Permissions&manageChannels != 0
}

// digestAutocomplete suggests time zones for /digest subscribe.
func digestAutocomplete(data discordgo.ApplicationCommandInteractionData) []string {
	if len(data.Options) == 0 || data.Options[0].Name != subSubscribe {
		return nil
	}
	for _, o := range data.Options[0].Options {
		if o.Focused && o.Name == optTimezone {
			typed, _ := o.Value.(string)
			return digest.Zones(typed, maxChoices)
		}
	}
	return nil
}

// ref is the short reference of a post's key shown in its footer (and
// sent as its nonce), by which Posted finds the post again.
func ref(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// renderDigest renders a day's digest as one message: an embed with the
// summary when there is one, the headline explainer, the key points with
// who says each and disputed points marked, the question of the day with
// a button that asks it, and where to ask more. A scheduled post's key
// reference goes in the footer.
func renderDigest(d digest.Digest, refText string) message {
	color := colorAnswer
	for _, p := range d.Points {
		if p.Disputed() {
			color = colorDisputed
		}
	}
	e := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: fit(escape(d.Title), maxTitle), Color: color}
	if h := d.Headline; h.Title != "" && len(h.Sources) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Sources", Value: fit(escape(strings.Join(h.Sources, "; ")), maxFieldValue)})
	}
	if q := d.Question.Text; q != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Question of the day", Value: fit(escape(q), maxFieldValue)})
	}
	if d.AskMore != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Want to know more?", Value: fit(escape(strings.TrimPrefix(d.AskMore, "Want to know more? ")), maxFieldValue)})
	}
	footer := "Daily brief · " + d.Day
	if refText != "" {
		footer += " · ref " + refText
	}
	e.Footer = &discordgo.MessageEmbedFooter{Text: footer}

	var chunks []string
	if d.Topic != "" {
		chunks = append(chunks, "*The daily brief on "+escape(d.Topic)+"*")
	}
	if d.Summary != "" {
		chunks = append(chunks, fit(escape(d.Summary), maxLead))
	}
	if h := d.Headline; h.Title != "" {
		chunks = append(chunks, "**"+fit(escape(h.Title), maxTitle)+"**\n"+fit(escape(h.Lead), maxLead))
	}
	if len(d.Points) > 0 {
		title := "**Key points**"
		if d.Rotation.Days > 1 {
			title += fmt.Sprintf(" · day %d of %d", d.Rotation.Day, d.Rotation.Days)
		}
		chunks = append(chunks, title)
	}
	points := make([]string, len(d.Points))
	for i, p := range d.Points {
		cite := ""
		if d.Summary != "" { // the summary cites the points as [p1], [p2]...
			cite = "[" + bot.PointID(i) + "] "
		}
		by := attribution(p.Point)
		if p.Source != "" {
			by += " · " + escape(p.Source)
		}
		points[i] = "• " + cite + fit(escape(p.Text), maxPointText) + "\n    — " + by
	}
	// The description takes what the embed's limits leave; points that do
	// not fit are counted, not cut.
	room := min(maxDescription, maxEmbedTotal-embedLength(e)) - 40
	var b strings.Builder
	add := func(c string, sep string) bool {
		if b.Len() > 0 && units(b.String())+units(sep+c) > room {
			return false
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(c)
		return true
	}
	for _, c := range chunks {
		add(c, "\n\n")
	}
	for i, p := range points {
		if !add(p, "\n") {
			b.WriteString("\n…and " + plural(len(points)-i, "more point") + ".")
			break
		}
	}
	e.Description = fit(b.String(), maxDescription)

	m := message{Embeds: []*discordgo.MessageEmbed{e}, AllowedMentions: noPings()}
	if row := questionButtons([]string{d.Question.Text}); row != nil {
		m.Components = []discordgo.MessageComponent{row}
	}
	return m
}

// Poster posts the daily digest and the curators' weekly report to
// Discord channels with the bot token (digest.Poster and
// digest.TextPoster). Each post shows a short reference of its key, in
// the embed's footer or under the text, and sends it as its nonce;
// Posted looks for it among the channel's latest messages.
type Poster struct{ a *Adapter }

// Poster returns the adapter's poster. It needs the bot token, not a
// running gateway.
func (a *Adapter) Poster() *Poster { return &Poster{a: a} }

// channelPost is a message posted to a channel with a nonce: with
// enforce_nonce, Discord creates one message however often the same nonce
// is sent within a few minutes.
type channelPost struct {
	message
	Nonce        string `json:"nonce,omitempty"`
	EnforceNonce bool   `json:"enforce_nonce,omitempty"`
}

// Post posts a day's digest to a channel.
func (p *Poster) Post(ctx context.Context, channel string, d digest.Digest, key string) error {
	return p.send(ctx, channel, renderDigest(d, ref(key)), key)
}

// PostText posts plain text, shown as preformatted, to a channel.
func (p *Poster) PostText(ctx context.Context, channel, text, key string) error {
	return p.send(ctx, channel, textPost(text, ref(key)), key)
}

// textPost lays text out in a code block with its reference under it,
// cut at a line to fit a message.
func textPost(text, refText string) message {
	text = strings.ReplaceAll(strings.TrimRight(text, "\n"), "```", "`\u200b``")
	tail := "\n```\n-# ref " + refText
	const cut = "\n… (the rest: explainer kb gaps)"
	room := maxContent - units("```\n") - units(tail)
	if units(text) > room {
		text = cutUnits(text, room-units(cut))
		if i := strings.LastIndexByte(text, '\n'); i > 0 {
			text = text[:i]
		}
		text += cut
	}
	return message{Content: "```\n" + text + tail, AllowedMentions: noPings()}
}

func (p *Poster) send(ctx context.Context, channel string, m message, key string) error {
	_, err := p.a.rest.do(ctx, p.a.rest.bot, http.MethodPost, discordgo.EndpointChannelMessages(channel),
		channelPost{message: m, Nonce: ref(key), EnforceNonce: true})
	return posterError(err)
}

// historyLimit is how many of a channel's latest messages Posted reads
// (Discord's most in one call).
const historyLimit = 100

// Posted reports whether a post with key's reference is among the
// channel's latest messages.
func (p *Poster) Posted(ctx context.Context, channel, key string) (bool, error) {
	body, err := p.a.rest.do(ctx, p.a.rest.bot, http.MethodGet, discordgo.EndpointChannelMessages(channel)+"?limit="+strconv.Itoa(historyLimit), nil)
	if err != nil {
		return false, posterError(err)
	}
	var msgs []struct {
		Content string `json:"content"`
		Embeds  []struct {
			Footer *struct {
				Text string `json:"text"`
			} `json:"footer"`
		} `json:"embeds"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		return false, fmt.Errorf("discord channel messages: %w", err)
	}
	mark := "ref " + ref(key)
	for _, m := range msgs {
		if strings.HasSuffix(m.Content, mark) {
			return true, nil
		}
		for _, e := range m.Embeds {
			if e.Footer != nil && strings.HasSuffix(e.Footer.Text, mark) {
				return true, nil
			}
		}
	}
	return false, nil
}

// Discord's error codes after which posting to a channel will not work
// however often it is tried.
const (
	codeUnknownChannel     = 10003
	codeMissingAccess      = 50001
	codeMissingPermissions = 50013
)

// posterError marks a failed call for the scheduler: permanent when the
// channel is gone or the bot may not post there, with Discord's
// retry_after when still rate limited, temporary otherwise.
func posterError(err error) error {
	if err == nil {
		return nil
	}
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return digest.RetryAfter(err, rl.RetryAfter)
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		switch re.Message.Code {
		case codeUnknownChannel, codeMissingAccess, codeMissingPermissions:
			return digest.Permanent(err)
		}
	}
	return err
}
