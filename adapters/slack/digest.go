package slack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
)

// Digests manages the daily digest subscriptions of channels
// (*digest.Channels).
type Digests interface {
	Subscribe(ctx context.Context, platform, channel, at, zone, by string) (digest.Subscribed, error)
	Unsubscribe(ctx context.Context, platform, channel string) error
	List(ctx context.Context, platform string) ([]digest.Subscribed, error)
	Today(ctx context.Context, platform, channel string) (digest.Digest, error)
}

// digestEventType is the message metadata event type of the bot's
// scheduled posts; their payload's "key" is the post's idempotency key.
const digestEventType = "explainer_digest"

// historyLimit is how many of a channel's latest messages Posted reads.
const historyLimit = 100

// Poster posts the daily digest and the curators' weekly report to Slack
// channels (digest.Poster and digest.TextPoster). Every post carries its
// key in the message metadata, where Posted looks for it in the channel's
// history.
type Poster struct{ a *Adapter }

// Poster returns the adapter's poster. It needs only the bot token, not
// a running connection.
func (a *Adapter) Poster() *Poster { return &Poster{a: a} }

// Post posts a day's digest to a channel as Block Kit.
func (p *Poster) Post(ctx context.Context, channel string, d digest.Digest, key string) error {
	return p.post(ctx, channel, renderDigest(d), key)
}

// PostText posts plain text, shown as preformatted, to a channel.
func (p *Poster) PostText(ctx context.Context, channel, text, key string) error {
	return p.post(ctx, channel, Message{Text: "```\n" + truncateRunes(strings.TrimRight(text, "\n"), maxPlainText) + "\n```"}, key)
}

// maxPlainText keeps a plain message well inside the 40,000 characters
// Slack keeps of a message's text.
const maxPlainText = 30_000

// post makes one chat.postMessage call: rate limits are left to the
// scheduler, which retries with backoff.
func (p *Poster) post(ctx context.Context, channel string, m Message, key string) error {
	opts := []slackapi.MsgOption{
		slackapi.MsgOptionText(m.Text, true),
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionMetadata(slackapi.SlackMetadata{EventType: digestEventType, EventPayload: map[string]any{"key": key}}),
	}
	if len(m.Blocks) > 0 {
		opts = append(opts, slackapi.MsgOptionBlocks(m.Blocks...))
	}
	_, _, err := p.a.api.PostMessageContext(ctx, channel, opts...)
	return posterError("chat.postMessage", err)
}

// Posted reports whether a post carrying key is among the channel's
// latest messages (conversations.history with the messages' metadata).
func (p *Poster) Posted(ctx context.Context, channel, key string) (bool, error) {
	res, err := p.a.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
		ChannelID: channel, Limit: historyLimit, IncludeAllMetadata: true,
	})
	if err != nil {
		return false, posterError("conversations.history", err)
	}
	for _, m := range res.Messages {
		if m.Metadata.EventType == digestEventType && m.Metadata.EventPayload["key"] == key {
			return true, nil
		}
	}
	return false, nil
}

// lostChannel lists the Slack errors after which posting to a channel
// will not work however often it is tried: the channel is gone or
// archived, the bot is not in it, or its token no longer works.
var lostChannel = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"account_inactive": true, "invalid_auth": true, "token_revoked": true,
}

// posterError marks a failed call for the scheduler: permanent when the
// channel is lost, with Slack's Retry-After when rate limited, temporary
// otherwise.
func posterError(call string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("slack %s: %w", call, err)
	if wait, limited := rateLimited(err); limited {
		return digest.RetryAfter(err, wait)
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && lostChannel[se.Err] {
		return digest.Permanent(err)
	}
	return err
}

// Block ids of the digest.
const (
	digestQuestionBlock = "digest-question"
	maxHeaderText       = 150
)

// renderDigest renders a day's digest as one message: a header, the
// summary when there is one, the headline explainer with its sources, the
// key points with who says each and disputed points marked, the question
// of the day with a button that asks it (answered in the digest's thread),
// and where to ask more.
func renderDigest(d digest.Digest) Message {
	blocks := []slackapi.Block{slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, truncateRunes(d.Title, maxHeaderText), true, false))}
	if d.Topic != "" {
		blocks = append(blocks, contextBlocks("", "The daily brief on "+esc(d.Topic))...)
	}
	if d.Summary != "" {
		blocks = append(blocks, sections(esc(d.Summary))...)
	}
	if h := d.Headline; h.Title != "" {
		blocks = append(blocks, sections("*"+esc(h.Title)+"*\n"+esc(h.Lead))...)
		if len(h.Sources) > 0 {
			blocks = append(blocks, contextBlocks("", ":page_facing_up: Sources: "+esc(strings.Join(h.Sources, " · ")))...)
		}
	}
	if len(d.Points) > 0 {
		blocks = append(blocks, slackapi.NewDividerBlock())
		title := "*Key points*"
		if d.Rotation.Days > 1 {
			title += fmt.Sprintf(" · day %d of %d", d.Rotation.Day, d.Rotation.Days)
		}
		texts := []string{title}
		for i, p := range d.Points {
			t := pointText(p.Point)
			if d.Summary != "" { // the summary cites the points as [p1], [p2]...
				t = "• [" + bot.PointID(i) + "] " + strings.TrimPrefix(t, "• ")
			}
			if p.Source != "" {
				if strings.Contains(t, "\n") {
					t += " · " + esc(p.Source)
				} else {
					t += "\n      " + esc(p.Source)
				}
			}
			texts = append(texts, t)
		}
		blocks = append(blocks, packSections(texts)...)
	}
	if q := d.Question.Text; q != "" {
		blocks = append(blocks, slackapi.NewDividerBlock())
		ask := button(actionAsk+":0", truncateRunes(q, maxButtonValue), "Ask it")
		blocks = append(blocks, slackapi.NewSectionBlock(
			slackapi.NewTextBlockObject(slackapi.MarkdownType, truncateRunes("*Question of the day*\n"+esc(q), maxSectionText), false, false),
			nil, slackapi.NewAccessory(ask), slackapi.SectionBlockOptionBlockID(digestQuestionBlock)))
	}
	if d.AskMore != "" {
		blocks = append(blocks, contextBlocks("", esc(d.AskMore))...)
	}
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	return Message{Text: truncateRunes(d.Title, maxSectionText), Blocks: blocks}
}

// packSections puts texts in as few sections as the limits allow, a
// blank line between them.
func packSections(texts []string) []slackapi.Block {
	var out []slackapi.Block
	cur := ""
	for _, t := range texts {
		if cur != "" && textLen(cur)+2+textLen(t) <= maxSectionText {
			cur += "\n\n" + t
			continue
		}
		if cur != "" {
			out = append(out, section(cur))
		}
		parts := splitText(t, maxSectionText)
		for _, part := range parts[:len(parts)-1] {
			out = append(out, section(part))
		}
		cur = parts[len(parts)-1]
	}
	if cur != "" {
		out = append(out, section(cur))
	}
	return out
}

const digestUsage = "*Daily digest commands*\n" +
	"• `%[1]s digest subscribe [HH:MM] [Time/Zone]`: a brief of the story in this channel every day (default 09:00 %[2]s), e.g. `%[1]s digest subscribe 08:30 Europe/Berlin`\n" +
	"• `%[1]s digest unsubscribe`: stop it\n" +
	"• `%[1]s digest now`: today's digest, just for you\n" +
	"• `%[1]s digest list`: the channels that get it"

// digestArgs reports whether a command's text is a digest command, and
// its words after "digest". A question that happens to start with the
// word ("digest this for me") is not one.
func digestArgs(text string) ([]string, bool) {
	words := strings.Fields(text)
	if len(words) == 0 || !strings.EqualFold(words[0], "digest") {
		return nil, false
	}
	if len(words) == 1 {
		return nil, true
	}
	switch strings.ToLower(words[1]) {
	case "subscribe", "unsubscribe", "now", "list", "help":
		return words[1:], true
	}
	return nil, false
}

// digestCommand runs "/explain digest ...": the reply is for the person
// who typed it only.
func (a *Adapter) digestCommand(ctx context.Context, cmd slackapi.SlashCommand, args []string) {
	reply := func(text string) {
		a.respond(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, "", []Message{{Text: text, Blocks: sections(text)}})
	}
	if a.digests == nil {
		reply("Daily digests are not set up on this server.")
		return
	}
	sub := "help"
	if len(args) > 0 {
		sub, args = strings.ToLower(args[0]), args[1:]
	}
	usage := fmt.Sprintf(digestUsage, a.cfg.Command, "in the server's time zone")
	failed := func(what string, err error) {
		a.log.Error("slack: digest command failed", "command", what, "channel", cmd.ChannelID, "err", err)
		reply(sorryText)
	}
	switch sub {
	case "subscribe":
		if !a.mayManageDigests(cmd.UserID) {
			reply(a.notAdminText())
			return
		}
		at, zone, err := digest.ParseArgs(args)
		var s digest.Subscribed
		if err == nil {
			s, err = a.digests.Subscribe(ctx, bot.PlatformSlack, cmd.ChannelID, at, zone, cmd.UserID)
		}
		switch {
		case digest.IsInputError(err):
			reply(":warning: " + esc(err.Error()) + "\n\nFor example: `" + a.cfg.Command + " digest subscribe 08:30 Europe/Berlin`")
		case err != nil:
			failed(sub, err)
		default:
			verb := "This channel now gets"
			if !s.Created {
				verb = "Changed: this channel now gets"
			}
			reply(fmt.Sprintf("%s a brief of the story every day at *%s* (%s). The next one comes *%s*.\n"+
				"I post it here, so I need to be in this channel (`/invite` me if I'm not). `%s digest unsubscribe` stops it.",
				verb, s.At, esc(s.Zone), digest.FormatNext(s.Next), a.cfg.Command))
		}
	case "unsubscribe":
		if !a.mayManageDigests(cmd.UserID) {
			reply(a.notAdminText())
			return
		}
		switch err := a.digests.Unsubscribe(ctx, bot.PlatformSlack, cmd.ChannelID); {
		case errors.Is(err, digest.ErrNotSubscribed):
			reply("This channel doesn't get the daily digest, so there was nothing to stop. `" + a.cfg.Command + " digest list` shows the channels that do.")
		case err != nil:
			failed(sub, err)
		default:
			reply("Done: this channel no longer gets the daily digest.")
		}
	case "now":
		d, err := a.digests.Today(ctx, bot.PlatformSlack, cmd.ChannelID)
		if err != nil {
			failed(sub, err)
			return
		}
		a.respond(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, "", []Message{renderDigest(d)})
	case "list":
		subs, err := a.digests.List(ctx, bot.PlatformSlack)
		if err != nil {
			failed(sub, err)
			return
		}
		if len(subs) == 0 {
			reply("No channel gets the daily digest yet. Subscribe this one with `" + a.cfg.Command + " digest subscribe [HH:MM] [Time/Zone]`.")
			return
		}
		var b strings.Builder
		b.WriteString("*Channels that get the daily digest*")
		for _, s := range subs {
			fmt.Fprintf(&b, "\n• <#%s> at %s %s", s.Channel, s.At, esc(s.Zone))
			if s.Paused {
				fmt.Fprintf(&b, ": paused after %d days it could not be posted (subscribe again to resume)", s.Failures)
			} else {
				b.WriteString(", next " + digest.FormatNext(s.Next))
			}
		}
		reply(b.String())
	default:
		reply(usage)
	}
}

// mayManageDigests reports whether a user may subscribe and unsubscribe
// channels: anyone, unless admin users are configured.
func (a *Adapter) mayManageDigests(user string) bool {
	return len(a.cfg.AdminUsers) == 0 || slices.Contains(a.cfg.AdminUsers, user)
}

func (a *Adapter) notAdminText() string {
	admins := make([]string, 0, len(a.cfg.AdminUsers))
	for _, u := range a.cfg.AdminUsers {
		admins = append(admins, "<@"+u+">")
	}
	return "Only the digest admins can subscribe or unsubscribe a channel here: ask " + strings.Join(admins, " or ") + "."
}
