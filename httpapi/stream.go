package httpapi

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/explainerbot/explainer/bot"
)

// StreamAsker answers showing a fluent answer as it is written; see
// bot.Engine.AskStream. An API whose Asker is one streams answers to
// clients that ask for server-sent events.
type StreamAsker interface {
	AskStream(ctx context.Context, q bot.Question, partial func(text string)) (bot.Answer, error)
}

// Server-sent events of POST /api/ask with "Accept: text/event-stream".
const (
	// EventPartial carries {"text": "..."}: the fluent answer so far,
	// whole sentences the grounding guard has passed, each event longer
	// than the last. There may be none.
	EventPartial = "partial"
	// EventAnswer carries the answer, the same JSON object POST /api/ask
	// returns. It replaces any partial text: it may be the extractive
	// answer after all. It is the last event.
	EventAnswer = "answer"
	// EventError carries {"error": "..."} when no answer could be given.
	// It is the last event.
	EventError = "error"
)

// Partial is the data of a partial event.
type Partial struct {
	Text string `json:"text"`
}

// wantsEvents reports whether the request asks for server-sent events.
func wantsEvents(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// askEvents answers q as server-sent events: partial events as a fluent
// answer grows, then the answer event. Without a language model there are
// no partials: the answer comes at once. Errors in the request itself were
// answered before, as JSON with their status, like POST /api/ask's.
func (a *API) askEvents(w http.ResponseWriter, r *http.Request, q bot.Question) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no") // proxies pass each event on at once
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()

	send := func(event string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			event, data = EventError, []byte(`{"error":"could not encode the response"}`)
		}
		// JSON holds no raw newline, so the data is one line.
		w.Write([]byte("event: " + event + "\ndata: "))
		w.Write(data)
		w.Write([]byte("\n\n"))
		_ = rc.Flush()
	}
	ctx := r.Context()
	var ans bot.Answer
	var err error
	if s, ok := a.Asker.(StreamAsker); ok {
		ans, err = s.AskStream(ctx, q, func(text string) {
			if ctx.Err() == nil {
				send(EventPartial, Partial{Text: text})
			}
		})
	} else {
		ans, err = a.Asker.Ask(ctx, q)
	}
	if err != nil {
		if ctx.Err() != nil {
			return // the client has gone
		}
		a.Log.ErrorContext(ctx, "answering a question failed", "platform", q.Platform, "err", err)
		send(EventError, errorBody{"could not answer right now; please try again"})
		return
	}
	send(EventAnswer, ans)
}
