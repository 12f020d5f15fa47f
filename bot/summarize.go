package bot

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Summarizer writes a short fluent answer from the points of an extractive
// one: a language model, or a fake in tests. The engine checks whatever it
// writes with the grounding guard (guard.go) before anyone sees it, and
// falls back to the extractive answer on any error, so an implementation
// needs no checks of its own beyond honouring ctx.
//
// When partial is not nil the caller can show the answer as it grows: the
// implementation calls partial with the whole text so far, each time longer
// than the last, from the goroutine that called Summarize, and returns the
// final text. When partial is nil it just returns the text.
type Summarizer interface {
	Summarize(ctx context.Context, b Brief, partial func(text string)) (string, error)
}

// Brief is everything a summarizer is given: the question and the points
// behind the extractive answer. Nothing else (no settings, no secrets, no
// user or channel) ever reaches the model.
type Brief struct {
	Question string       // the normalised question
	Entries  []string     // the knowledge base entries the points come from
	Points   []BriefPoint // in the order of Answer.Points
}

// BriefPoint is one point as the model sees it.
type BriefPoint struct {
	ID       string // p1, p2...: how the answer cites it
	Text     string
	By       string
	Standing string
}

// PointID is how a fluent answer cites Answer.Points[i]: "p1" for the first.
func PointID(i int) string { return "p" + strconv.Itoa(i+1) }

// Outcomes of a summary attempt.
const (
	SummaryUsed     = "used"     // the fluent answer passed the guard and replaced the lead
	SummaryRejected = "rejected" // the guard turned it down (Reason is a Rule constant)
	SummaryFailed   = "failed"   // the model failed: Reason is timeout, rate_limited, server_error, malformed...
)

// SummaryOutcome reports one summary attempt, for metrics: count them by
// Result and Reason (both from small fixed sets).
type SummaryOutcome struct {
	Result   string // SummaryUsed, SummaryRejected or SummaryFailed
	Reason   string // why it was rejected or failed; empty when used
	Detail   string // the rejected words or the error, for logs; never a label
	Duration time.Duration
	Streamed bool
}

// FailureReasoner may be implemented by a summarizer's errors to name the
// failure for SummaryOutcome.Reason: "rate_limited", "server_error",
// "malformed"...
type FailureReasoner interface {
	FailureReason() string
}

type partialKey struct{}

// AskStream answers like Ask, showing a fluent answer as it is written.
//
// When a Summarizer is set and the question is answered from the knowledge
// base, partial is called with the fluent text so far, each time longer
// than the last, whole sentences at a time: each sentence is shown only
// after it has passed the grounding guard. Adapters can post the first
// partial text and edit the message as it grows (Slack chat.update,
// Discord's edit of the original interaction response, the web page),
// throttling edits to their platform's rate limits; partial is called from
// the goroutine that called AskStream, so it should return quickly.
//
// The returned Answer is the one to show once AskStream returns, and it
// replaces whatever partial text was shown: the fluent answer
// (Answer.Fluent) when the whole text passed the guard, otherwise the
// extractive answer (the model failed, timed out, or wrote something the
// guard turned down). Declined questions, and engines without a
// Summarizer, never call partial. Errors are those of Ask.
func (e *Engine) AskStream(ctx context.Context, q Question, partial func(text string)) (Answer, error) {
	if partial != nil {
		ctx = context.WithValue(ctx, partialKey{}, partial)
	}
	return e.Ask(ctx, q)
}

// summarize replaces the lead of an answered question with a fluent one
// when the Summarizer writes one the guard accepts; otherwise, and for
// everything else, it returns a as it is. It never fails.
func (e *Engine) summarize(ctx context.Context, a Answer) Answer {
	s := e.opts.Summarizer
	if s == nil || !a.Answered || len(a.Points) == 0 {
		return a
	}
	partial, _ := ctx.Value(partialKey{}).(func(string))
	b := Brief{Question: a.Question, Entries: a.Entries, Points: briefPoints(a.Points)}
	g := newGuard(e.kb.Vocabulary(), b.Points)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var gate *streamGate
	var feed func(string)
	if partial != nil {
		gate = &streamGate{guard: g, show: partial, stop: cancel}
		feed = gate.feed
	}
	start := time.Now()
	text, err := s.Summarize(ctx, b, feed)
	out := SummaryOutcome{Duration: time.Since(start), Streamed: partial != nil}
	var rej *Rejection
	switch {
	case gate != nil && gate.rejected() != nil:
		rej = gate.rejected()
	case err != nil:
		out.Result, out.Reason, out.Detail = SummaryFailed, failureReason(err), err.Error()
	default:
		rej = g.check(text)
	}
	if rej != nil {
		out.Result, out.Reason, out.Detail = SummaryRejected, rej.Rule, rej.Detail
	} else if err == nil {
		out.Result = SummaryUsed
		a = fluentAnswer(a, strings.TrimSpace(text))
	}
	e.report(out, a.Entries)
	return a
}

func briefPoints(ps []Point) []BriefPoint {
	out := make([]BriefPoint, len(ps))
	for i, p := range ps {
		out[i] = BriefPoint{ID: PointID(i), Text: p.Text, By: p.By, Standing: p.Standing}
	}
	return out
}

func failureReason(err error) string {
	var fr FailureReasoner
	switch {
	case errors.As(err, &fr):
		return fr.FailureReason()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

// report logs a summary attempt and passes it to Options.OnSummary.
func (e *Engine) report(o SummaryOutcome, entries []string) {
	if log := e.opts.Logger; log != nil {
		attrs := []any{
			slog.String("result", o.Result),
			slog.Duration("took", o.Duration),
			slog.Bool("streamed", o.Streamed),
			slog.String("entries", strings.Join(entries, ",")),
		}
		switch o.Result {
		case SummaryUsed:
			log.Debug("fluent answer used", attrs...)
		case SummaryRejected:
			log.Info("fluent answer rejected; extractive answer used", append(attrs, slog.String("rule", o.Reason), slog.String("detail", o.Detail))...)
		default:
			log.Warn("summarizer failed; extractive answer used", append(attrs, slog.String("reason", o.Reason), slog.String("error", o.Detail))...)
		}
	}
	if e.opts.OnSummary != nil {
		e.opts.OnSummary(o)
	}
}

// fluentAnswer puts text in place of the lead, keeping the points, sources
// and follow-ups it cites.
func fluentAnswer(a Answer, text string) Answer {
	a.Lead = text
	a.Fluent = true
	a.Text = answerText(a)
	return a
}

// streamGate passes a growing model text on whole sentences at a time,
// each checked by the guard first. On the first sentence the guard turns
// down it shows nothing more and stops the model.
type streamGate struct {
	guard *guard
	show  func(string)
	stop  context.CancelFunc

	mu      sync.Mutex
	checked int // sentences checked and shown
	shown   int // bytes of text shown
	rej     *Rejection
}

func (g *streamGate) feed(text string) {
	g.mu.Lock()
	if g.rej != nil {
		g.mu.Unlock()
		return
	}
	spans := splitSentences(text)
	// The last sentence may still grow, or gain a citation.
	end := g.shown
	for i := g.checked; i < len(spans)-1; i++ {
		_, r := g.guard.checkSentence(text[spans[i].start:spans[i].end])
		if r != nil {
			g.rej = r
			g.mu.Unlock()
			g.stop()
			return
		}
		g.checked = i + 1
		end = spans[i].end
	}
	if end <= g.shown {
		g.mu.Unlock()
		return
	}
	g.shown = end
	g.mu.Unlock()
	g.show(text[:end])
}

func (g *streamGate) rejected() *Rejection {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rej
}
