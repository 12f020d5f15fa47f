package discord

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/bot"
)

// Command and option names.
const (
	cmdAsk      = "ask"
	cmdExplain  = "explain"
	cmdAbout    = "about"
	optQuestion = "question"
	optTopic    = "topic"
)

// Texts people see when something goes wrong.
const (
	msgFailed      = "Sorry, something went wrong while answering. Please try again in a moment."
	msgUnknown     = "I don't know that command. Try /ask, /explain or /about."
	msgFeedbackOK  = "Thanks, noted: %s. Curators read these to improve answers."
	msgFeedbackErr = "Sorry, I couldn't record that just now. Please try again later."
)

// reply is how an interaction is answered: first, within Discord's three
// seconds; then, when later is set, the rest (the deferred answer edited
// in, or continuation messages), after first has been delivered.
type reply struct {
	first callback
	later func(ctx context.Context)
}

// handle works out the reply to an interaction that arrived at received.
// A panic is recovered and answered with an apology to the person who
// asked.
func (a *Adapter) handle(ctx context.Context, i *discordgo.Interaction, received time.Time) (rep reply) {
	defer func() {
		if a.recovered(recover(), "interaction", debug.Stack()) {
			rep = reply{first: callback{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: notice(msgFailed)}}
		}
	}()
	switch i.Type {
	case discordgo.InteractionPing:
		return reply{first: callback{Type: discordgo.InteractionResponsePong}}
	case discordgo.InteractionApplicationCommandAutocomplete:
		return reply{first: a.autocomplete(ctx, i)}
	case discordgo.InteractionApplicationCommand:
		return a.command(ctx, i, received)
	case discordgo.InteractionMessageComponent:
		return a.component(ctx, i, received)
	}
	return reply{first: channelMessage(notice(msgUnknown))}
}

// channelMessage responds with a message.
func channelMessage(m message) callback {
	return callback{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: m}
}

func (a *Adapter) command(ctx context.Context, i *discordgo.Interaction, received time.Time) reply {
	data := i.ApplicationCommandData()
	switch data.Name {
	case cmdAsk:
		q := strings.TrimSpace(option(data.Options, optQuestion))
		return a.answer(ctx, i, received, q, a.ask(question(i, q)))
	case cmdExplain:
		t := strings.TrimSpace(option(data.Options, optTopic))
		return a.answer(ctx, i, received, t, func(ctx context.Context, _ func(string)) (bot.Answer, error) {
			return a.deps.Asker.Explain(ctx, t)
		})
	case cmdAbout:
		return reply{first: channelMessage(renderAbout(a.deps.Asker.About()))}
	case cmdDigest:
		return a.digestReply(ctx, i)
	}
	return reply{first: channelMessage(notice(msgUnknown))}
}

// option returns the string value of the named option.
func option(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o.Name == name && o.Type == discordgo.ApplicationCommandOptionString {
			return o.StringValue()
		}
	}
	return ""
}

// question is what someone asked through an interaction.
func question(i *discordgo.Interaction, text string) bot.Question {
	return bot.Question{Text: text, User: userID(i), Platform: bot.PlatformDiscord, Channel: i.ChannelID, Direct: i.GuildID == ""}
}

func userID(i *discordgo.Interaction) string {
	switch {
	case i.Member != nil && i.Member.User != nil:
		return i.Member.User.ID
	case i.User != nil:
		return i.User.ID
	}
	return ""
}

// autocomplete answers at once with up to 25 choices for the focused
// option: questions the knowledge base answers well for /ask, the names it
// explains for /explain.
func (a *Adapter) autocomplete(ctx context.Context, i *discordgo.Interaction) callback {
	data := i.ApplicationCommandData()
	var typed, name string
	for _, o := range data.Options {
		if o.Focused {
			name = o.Name
			typed, _ = o.Value.(string)
		}
	}
	var texts []string
	switch {
	case data.Name == cmdAsk && name == optQuestion:
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		var err error
		if texts, err = a.deps.Asker.Suggest(ctx, typed, maxChoices); err != nil {
			a.log.Warn("discord: autocomplete", "err", err)
		}
	case data.Name == cmdExplain && name == optTopic:
		texts = a.deps.Asker.Topics(typed, maxChoices)
	case data.Name == cmdDigest:
		texts = digestAutocomplete(data)
	}
	return callback{Type: discordgo.InteractionApplicationCommandAutocompleteResult, Data: choicesData{Choices: choices(texts)}}
}

// component handles a click on a button under an answer.
func (a *Adapter) component(ctx context.Context, i *discordgo.Interaction, received time.Time) reply {
	id := i.MessageComponentData().CustomID
	switch {
	case strings.HasPrefix(id, idAsk):
		q := strings.TrimPrefix(id, idAsk)
		return a.answer(ctx, i, received, q, a.ask(question(i, q)))
	case strings.HasPrefix(id, idAskPrefix):
		q := a.completeQuestion(ctx, strings.TrimPrefix(id, idAskPrefix))
		return a.answer(ctx, i, received, q, a.ask(question(i, q)))
	case strings.HasPrefix(id, idHelpful):
		return reply{first: channelMessage(a.feedback(ctx, i, true, strings.TrimPrefix(id, idHelpful)))}
	case strings.HasPrefix(id, idUnhelpful):
		return reply{first: channelMessage(a.feedback(ctx, i, false, strings.TrimPrefix(id, idUnhelpful)))}
	}
	return reply{first: channelMessage(notice("That button no longer does anything."))}
}

// completeQuestion finds the question a button's truncated custom id
// starts: the knowledge base's own question when one starts that way.
func (a *Adapter) completeQuestion(ctx context.Context, start string) string {
	ctx, cancel := context.WithTimeout(ctx, interactionWindow/6)
	defer cancel()
	qs, err := a.deps.Asker.Suggest(ctx, start, maxChoices)
	if err != nil {
		return start
	}
	for _, q := range qs {
		if strings.HasPrefix(q, start) {
			return q
		}
	}
	return start
}

// feedback records a 👍 or 👎 on the answer the clicked message holds, and
// thanks the clicker, who alone sees the thanks.
func (a *Adapter) feedback(ctx context.Context, i *discordgo.Interaction, helpful bool, entries string) message {
	if a.deps.Feedback == nil {
		return notice("Thanks! Feedback is not being collected here.")
	}
	f := bot.Feedback{Platform: bot.PlatformDiscord, Channel: i.ChannelID, User: userID(i), Helpful: helpful, At: time.Now().UTC()}
	if entries != "" {
		f.Entries = strings.Split(entries, ",")
	}
	if i.Message != nil && len(i.Message.Embeds) > 0 {
		f.Question = unescape(i.Message.Embeds[0].Title)
	}
	ctx, cancel := context.WithTimeout(ctx, interactionWindow/2)
	defer cancel()
	if err := a.deps.Feedback.RecordFeedback(ctx, f); err != nil {
		a.log.Error("discord: record feedback", "err", err)
		return notice(msgFeedbackErr)
	}
	verdict := "helpful 👍"
	if !helpful {
		verdict = "not helpful 👎"
	}
	return notice(fmt.Sprintf(msgFeedbackOK, verdict))
}

// answer replies with the answer compute returns under title: at once when
// it is ready within DeferAfter of the interaction's arrival; else, when a
// fluent answer starts to show first (compute calls partial), with its
// first sentences, edited as it grows and replaced by the answer; else
// with a deferred response that the answer replaces when ready.
func (a *Adapter) answer(ctx context.Context, i *discordgo.Interaction, received time.Time, title string, compute func(ctx context.Context, partial func(string)) (bot.Answer, error)) reply {
	done := make(chan []message, 1)
	g := newGrowing()
	// The answer may outlive the request that asked for it (deferred).
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.AnswerTimeout)
	go func() {
		defer cancel()
		defer close(g.finished)
		defer func() {
			if a.recovered(recover(), "answer", debug.Stack()) {
				done <- nil
			}
		}()
		ans, err := compute(work, g.partial)
		if err != nil {
			a.log.Error("discord: answer", "err", err)
			done <- nil
			return
		}
		done <- renderAnswer(title, ans, renderOptions{feedback: a.deps.Feedback != nil})
	}()

	now := func(msgs []message) reply {
		if msgs == nil {
			return reply{first: channelMessage(notice(msgFailed))}
		}
		rep := reply{first: channelMessage(msgs[0])}
		if len(msgs) > 1 {
			rep.later = func(ctx context.Context) { a.continueAnswer(ctx, i, msgs[1:]) }
		}
		return rep
	}
	t := time.NewTimer(a.cfg.DeferAfter - time.Since(received))
	defer t.Stop()
	select {
	case msgs := <-done:
		return now(msgs)
	case <-g.wake:
		select {
		case msgs := <-done:
			return now(msgs)
		default:
		}
		text := g.text()
		return reply{
			first: channelMessage(renderGrowing(title, text)),
			later: func(ctx context.Context) { a.editDeferred(ctx, i, title, g, text, done) },
		}
	case <-t.C:
		select {
		case msgs := <-done:
			return now(msgs)
		default:
		}
		return reply{
			first: callback{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource},
			later: func(ctx context.Context) { a.editDeferred(ctx, i, title, g, "", done) },
		}
	}
}

// ask is how an interaction's question is answered: shown as it is
// written when the engine can stream it.
func (a *Adapter) ask(q bot.Question) func(ctx context.Context, partial func(string)) (bot.Answer, error) {
	return func(ctx context.Context, partial func(string)) (bot.Answer, error) {
		if s, ok := a.deps.Asker.(StreamAsker); ok {
			return s.AskStream(ctx, q, partial)
		}
		return a.deps.Asker.Ask(ctx, q)
	}
}

// editDeferred edits the original response as a fluent answer grows (from
// shown, the text it shows already), then replaces it with the answer once
// it is ready.
func (a *Adapter) editDeferred(ctx context.Context, i *discordgo.Interaction, title string, g *growing, shown string, done <-chan []message) {
	shown = g.show(ctx, a.cfg.StreamInterval, shown, func(ctx context.Context, text string) error {
		return untilKnown(ctx, func() error { return a.rest.editOriginal(ctx, i, renderGrowing(title, text)) })
	}, a.log)
	var msgs []message
	select {
	case msgs = <-done:
	case <-ctx.Done():
	}
	if msgs == nil {
		msgs = []message{{Content: msgFailed, AllowedMentions: noPings()}}
	}
	edit := a.rest.editOriginal
	if shown != "" {
		edit = a.rest.replaceOriginal // nothing of the growing answer stays
	}
	if err := untilKnown(ctx, func() error { return edit(ctx, i, msgs[0]) }); err != nil {
		a.log.Error("discord: edit deferred response", "err", err)
		return
	}
	a.continueAnswer(ctx, i, msgs[1:])
}

// continueAnswer posts the rest of an answer too long for one message.
func (a *Adapter) continueAnswer(ctx context.Context, i *discordgo.Interaction, msgs []message) {
	for _, m := range msgs {
		if err := untilKnown(ctx, func() error { return a.rest.followup(ctx, i, m) }); err != nil {
			a.log.Error("discord: follow-up message", "err", err)
			return
		}
	}
}

// untilKnown calls fn, a call on an interaction's messages, retrying a
// few times while Discord answers that it does not know them: right after
// a response sent in an HTTP reply, Discord may not have processed it yet.
func untilKnown(ctx context.Context, fn func() error) error {
	wait := 250 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !unknownTarget(err) || attempt == 3 || !sleep(ctx, wait) {
			return err
		}
		wait *= 2
	}
}

// unknownTarget reports whether a REST call failed because Discord does not
// know the interaction or its message (yet).
func unknownTarget(err error) bool {
	var re *discordgo.RESTError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == 404
}

// sleep waits d, or until ctx ends; it reports whether it waited it all.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// laterContext is the context of the work after an interaction's first
// response: it lasts as long as the interaction's token.
func laterContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), followupWindow)
}
