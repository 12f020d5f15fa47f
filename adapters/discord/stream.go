package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/bot"
)

// StreamAsker is an Asker that can show a fluent answer as it is written;
// see bot.Engine.AskStream. With one, answers grow in place: an
// interaction's response shows the first checked sentences (or is
// deferred) and is edited as more arrive; a reply to a mention is posted
// with the first sentences and edited. The final answer, which may be the
// extractive one when the language model's last check fails, replaces the
// growing text, with its buttons.
type StreamAsker interface {
	AskStream(ctx context.Context, q bot.Question, partial func(text string)) (bot.Answer, error)
}

// DefaultStreamInterval is the shortest time between two edits of a
// growing answer, well inside Discord's rate limits for editing a message.
const DefaultStreamInterval = time.Second

// growingNote is shown under an answer being written.
const growingNote = "Writing… each sentence is checked against the sources before it shows."

// renderGrowing renders the fluent text written so far under title.
func renderGrowing(title, text string) message {
	e := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       fit(escape(title), maxTitle),
		Description: fit(escape(text)+" …", maxLead),
		Color:       colorAnswer,
		Footer:      &discordgo.MessageEmbedFooter{Text: growingNote},
	}
	return message{Embeds: []*discordgo.MessageEmbed{e}, AllowedMentions: noPings()}
}

// growing is the text of an answer being written: the engine hands it
// partial texts without waiting; show passes them on.
type growing struct {
	wake     chan struct{} // a new text is waiting
	finished chan struct{} // closed when the answer is ready

	mu     sync.Mutex
	latest string
}

func newGrowing() *growing {
	return &growing{wake: make(chan struct{}, 1), finished: make(chan struct{})}
}

// partial takes the text written so far; it never blocks.
func (g *growing) partial(text string) {
	g.mu.Lock()
	g.latest = text
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

func (g *growing) text() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.latest
}

// show calls send with each new text, the latest only, at most once every
// interval (the first send waits interval too when shown is not empty: it
// has just been sent), until the answer is ready or ctx ends. A failed
// send ends the showing; the final answer follows anyway. It returns the
// text last shown.
func (g *growing) show(ctx context.Context, interval time.Duration, shown string, send func(ctx context.Context, text string) error, log *slog.Logger) string {
	var next time.Time
	if shown != "" {
		next = time.Now().Add(interval)
	}
	for {
		select {
		case <-g.wake:
		case <-g.finished:
			return shown
		case <-ctx.Done():
			return shown
		}
		if wait := time.Until(next); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-g.finished:
				t.Stop()
				return shown
			case <-ctx.Done():
				t.Stop()
				return shown
			}
		}
		text := g.text()
		if text == shown {
			continue
		}
		if err := send(ctx, text); err != nil {
			log.Warn("discord: showing a growing answer failed; the final answer replaces it", "err", err)
			return shown
		}
		shown, next = text, time.Now().Add(interval)
	}
}

// askGrowing answers a mention with a StreamAsker, posting the reply from
// the first checked sentences and editing it as the answer grows. It
// returns the answer and the id of the reply posted, "" when no text
// showed before the answer was ready; finishGrowing then replaces it.
func (g *gateway) askGrowing(ctx context.Context, s StreamAsker, m *discordgo.MessageCreate, q bot.Question) (bot.Answer, string, error) {
	a := g.a
	gr := newGrowing()
	var id string // written by the goroutine, read once it is done
	showing := make(chan struct{})
	go func() {
		defer close(showing)
		defer func() { a.recovered(recover(), "growing answer", debug.Stack()) }()
		gr.show(ctx, a.cfg.StreamInterval, "", func(ctx context.Context, text string) error {
			msg := renderGrowing(q.Text, text)
			if id == "" {
				var err error
				id, err = a.rest.sendMessage(ctx, m.ChannelID, replyTo(m, msg))
				return err
			}
			return a.rest.editMessage(ctx, m.ChannelID, id, msg)
		}, a.log)
	}()
	ans, err := s.AskStream(ctx, q, gr.partial)
	close(gr.finished)
	<-showing
	return ans, id, err
}

// replyTo makes msg a reply to m that pings nobody but its author.
func replyTo(m *discordgo.MessageCreate, msg message) message {
	no := false
	msg.AllowedMentions = noPings()
	msg.AllowedMentions.RepliedUser = true
	msg.MessageReference = &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, FailIfNotExists: &no}
	return msg
}

// finishGrowing replaces the growing reply id with the first of msgs and
// posts the rest after it.
func (g *gateway) finishGrowing(ctx context.Context, channelID, id string, msgs []message) {
	for n, msg := range msgs {
		msg.AllowedMentions = noPings()
		var err error
		if n == 0 {
			err = g.a.rest.editMessage(ctx, channelID, id, msg)
		} else {
			err = g.a.rest.send(ctx, channelID, msg)
		}
		if err != nil {
			g.a.log.Error("discord: reply to mention", "err", err)
			return
		}
	}
}

// sendMessage posts a message to a channel and returns its id.
func (r *rest) sendMessage(ctx context.Context, channelID string, m message) (string, error) {
	body, err := r.do(ctx, r.bot, http.MethodPost, discordgo.EndpointChannelMessages(channelID), m)
	if err != nil {
		return "", err
	}
	var sent struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &sent); err != nil || sent.ID == "" {
		return "", fmt.Errorf("discord POST %s: no message id in the reply", routeOf(discordgo.EndpointChannelMessages(channelID)))
	}
	return sent.ID, nil
}

// editMessage replaces a message the bot posted, whole.
func (r *rest) editMessage(ctx context.Context, channelID, messageID string, m message) error {
	_, err := r.do(ctx, r.bot, http.MethodPatch, discordgo.EndpointChannelMessage(channelID, messageID), whole(m))
	return err
}

// replaceOriginal replaces an interaction's original response, whole.
func (r *rest) replaceOriginal(ctx context.Context, i *discordgo.Interaction, m message) error {
	_, err := r.do(ctx, r.hooks, http.MethodPatch, discordgo.EndpointInteractionResponseActions(i.AppID, i.Token), whole(m))
	return err
}

// replacement is an edit that leaves nothing of the message it edits: an
// edit changes only the fields it names, so its content, embeds and
// components are named even when empty (an apology after a growing
// answer has no embed, and must not keep the growing one).
type replacement struct {
	message
	Content    string                       `json:"content"`
	Embeds     []*discordgo.MessageEmbed    `json:"embeds"`
	Components []discordgo.MessageComponent `json:"components"`
}

func whole(m message) replacement {
	m.MessageReference = nil // fixed when the message was posted
	r := replacement{message: m, Content: m.Content, Embeds: m.Embeds, Components: m.Components}
	if r.Embeds == nil {
		r.Embeds = []*discordgo.MessageEmbed{}
	}
	if r.Components == nil {
		r.Components = []discordgo.MessageComponent{}
	}
	return r
}
