package slack

import (
	"context"
	"fmt"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/explainerbot/explainer/bot"
)

// StreamAsker is an Asker that can show a fluent answer as it is written;
// see bot.Engine.AskStream. With one, answers in channels, threads and
// direct messages grow in place: the first checked sentences are posted as
// soon as they exist, the message is edited with chat.update as more
// arrive, and the final answer (which may be the extractive one, when the
// language model's last check fails) replaces it.
//
// Private answers (/explain, and buttons under them) are not streamed:
// Slack cannot chat.update an ephemeral message, and its response URL may
// be used only five times, which a growing answer would spend before the
// final one, and before "Share in channel" needs it.
type StreamAsker interface {
	AskStream(ctx context.Context, q bot.Question, partial func(text string)) (bot.Answer, error)
}

// DefaultStreamInterval is the shortest time between two edits of a
// growing answer: Slack allows about one chat.update a second for a
// message.
const DefaultStreamInterval = time.Second

// growingNote is shown under an answer being written.
const growingNote = ":writing_hand: Writing… each sentence is checked against the sources before it shows."

// renderGrowing renders the fluent text written so far.
func renderGrowing(text string) Message {
	blocks := sections(esc(text))
	blocks = append(blocks, contextBlocks("", growingNote)...)
	return Message{Text: truncateRunes(text, maxSectionText), Blocks: blocks}
}

// growing shows an answer as it is written in one channel or thread: it
// posts the first text, then edits the message, at most once every
// StreamInterval, always to the latest text (intermediate texts are
// skipped). It works in its own goroutine, so the engine never waits on
// Slack.
type growing struct {
	a               *Adapter
	channel, thread string

	wake chan struct{} // a new text is waiting
	quit chan struct{} // the answer is ready: stop editing
	done chan struct{} // the goroutine has stopped

	mu     sync.Mutex
	latest string
	ts     string // the message posted, once it is
}

// grow starts showing an answer in channel (thread, when set) as its text
// grows.
func (a *Adapter) grow(ctx context.Context, channel, thread string) *growing {
	g := &growing{a: a, channel: channel, thread: thread,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go g.run(ctx)
	return g
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

// stop ends the editing, waiting for a call under way, and returns the
// timestamp of the message posted ("" when nothing was).
func (g *growing) stop() string {
	close(g.quit)
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ts
}

func (g *growing) run(ctx context.Context) {
	defer close(g.done)
	defer func() {
		if r := recover(); r != nil {
			g.a.log.Error("slack: panic while showing an answer as it grows", "panic", fmt.Sprint(r))
		}
	}()
	interval := g.a.cfg.StreamInterval
	var shown string
	var next time.Time // no edit before then
	for {
		select {
		case <-g.wake:
		case <-g.quit:
			return
		case <-ctx.Done():
			return
		}
		if wait := time.Until(next); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-g.quit:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		g.mu.Lock()
		text, ts := g.latest, g.ts
		g.mu.Unlock()
		if text == shown {
			continue
		}
		m := renderGrowing(text)
		next = time.Now().Add(interval)
		if ts == "" {
			// The bot is part of the thread from its first words.
			g.a.joinThread(g.channel, g.thread)
			posted, err := g.a.postMessages(ctx, g.channel, g.thread, []Message{m})
			if err != nil {
				g.a.log.Warn("slack: posting the start of an answer failed; the whole answer follows", "channel", g.channel, "err", redact(err.Error()))
				return
			}
			g.mu.Lock()
			g.ts = posted
			g.mu.Unlock()
		} else {
			// One try: a rate limited edit is skipped, the next one waits
			// as long as Slack asked, and the final edit retries.
			err := g.a.updateMessage(ctx, g.channel, ts, m)
			if wait, limited := rateLimited(err); limited {
				next = time.Now().Add(max(wait, interval))
				g.a.log.Debug("slack: editing a growing answer rate limited", "retry_after", wait)
				continue
			}
			if err != nil {
				g.a.log.Warn("slack: editing a growing answer failed; the final answer replaces it", "channel", g.channel, "err", redact(err.Error()))
				return
			}
		}
		shown = text
	}
}

// updateMessage replaces a message the bot posted with chat.update, once.
func (a *Adapter) updateMessage(ctx context.Context, channel, ts string, m Message) error {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.Text, true)}
	opts = append(opts, slackapi.MsgOptionBlocks(m.Blocks...))
	if _, _, _, err := a.api.UpdateMessageContext(ctx, channel, ts, opts...); err != nil {
		return fmt.Errorf("chat.update: %w", err)
	}
	return nil
}

// finishGrowing replaces the growing message ts with the first of the
// final messages and posts the rest after it. Should the edit fail (the
// message deleted meanwhile), the final messages are posted anew.
func (a *Adapter) finishGrowing(ctx context.Context, channel, thread, ts string, msgs []Message) error {
	err := a.retry(ctx, "chat.update", func(ctx context.Context) error {
		return a.updateMessage(ctx, channel, ts, msgs[0])
	})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		a.log.Warn("slack: replacing a growing answer failed; posting the answer", "channel", channel, "err", redact(err.Error()))
		_, err = a.postMessages(ctx, channel, thread, msgs)
		return err
	}
	_, err = a.postMessages(ctx, channel, thread, msgs[1:])
	return err
}
