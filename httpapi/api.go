package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// MaxQuestionBody is the largest body POST /api/ask reads.
const MaxQuestionBody = 8 << 10

// ClientHeader names the client of the API; the web page sends "web", so
// its questions are counted apart from other API callers'.
const ClientHeader = "X-Explainer-Client"

// Asker answers questions.
type Asker interface {
	Ask(ctx context.Context, q bot.Question) (bot.Answer, error)
}

// Library is the knowledge base being served.
type Library interface {
	KB() *knowledge.KB
	About() bot.About
}

// API is the JSON API: questions and the knowledge base. POST /api/ask
// answers with one JSON object, or, asked with "Accept: text/event-stream",
// with server-sent events showing a fluent answer as it is written (see
// stream.go) when Asker is also a StreamAsker.
type API struct {
	Asker   Asker
	Library Library
	Limiter *Limiter // nil: no rate limit
	Log     *slog.Logger
	// RateLimited, if set, is called for each request refused by Limiter.
	RateLimited func(route string)
}

// Mount adds the API's routes to mux. Every route answers errors as
// {"error": "..."}, including unknown paths and wrong methods.
func (a *API) Mount(mux *http.ServeMux) {
	mux.Handle("POST /api/ask", a.limited("ask", a.ask))
	mux.Handle("/api/ask", methodNotAllowed("POST"))
	mux.Handle("GET /api/entries", a.limited("entries", a.entries))
	mux.Handle("/api/entries", methodNotAllowed("GET, HEAD"))
	mux.Handle("GET /api/entries/{id}", a.limited("entry", a.entry))
	mux.Handle("/api/entries/{id}", methodNotAllowed("GET, HEAD"))
	mux.Handle("GET /api/about", a.limited("about", a.about))
	mux.Handle("/api/about", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/api/", NotFound)
}

// limited refuses requests over their client's rate with 429 and
// Retry-After.
func (a *API) limited(route string, h http.HandlerFunc) http.Handler {
	if a.Limiter == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := a.Limiter.Allow(ClientKey(r)); !ok {
			if a.RateLimited != nil {
				a.RateLimited(route)
			}
			secs := retryAfterSeconds(wait)
			w.Header().Set("Retry-After", secs)
			writeError(w, http.StatusTooManyRequests, "too many requests; try again in "+secs+" s")
			return
		}
		h(w, r)
	})
}

type askRequest struct {
	Question *string `json:"question"`
}

func (a *API) ask(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > MaxQuestionBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", MaxQuestionBody))
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxQuestionBody))
	var req askRequest
	err := dec.Decode(&req)
	if err == nil {
		// One object and nothing after it.
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the JSON object")
			if isTooLarge(extra) {
				err = extra
			}
		}
	}
	switch {
	case isTooLarge(err):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", MaxQuestionBody))
		return
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, `empty body: send {"question": "..."}`)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, `malformed request: `+jsonProblem(err)+`; send {"question": "..."}`)
		return
	case req.Question == nil:
		writeError(w, http.StatusBadRequest, `no question: send {"question": "..."}`)
		return
	case strings.TrimSpace(*req.Question) == "":
		writeError(w, http.StatusBadRequest, "the question is empty")
		return
	}
	platform := bot.PlatformAPI
	if r.Header.Get(ClientHeader) == bot.PlatformWeb {
		platform = bot.PlatformWeb
	}
	if wantsEvents(r) {
		a.askEvents(w, r, bot.Question{Text: *req.Question, Platform: platform})
		return
	}
	ans, err := a.Asker.Ask(r.Context(), bot.Question{Text: *req.Question, Platform: platform})
	if err != nil {
		if r.Context().Err() != nil {
			// The client has gone; nobody reads an answer.
			return
		}
		a.Log.ErrorContext(r.Context(), "answering a question failed", "platform", platform, "err", err)
		writeError(w, http.StatusInternalServerError, "could not answer right now; please try again")
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// jsonProblem words a decoding error without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%q must be a string, not a %s", te.Field, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON ends early"
	}
	return err.Error()
}

// EntrySummary is one entry in GET /api/entries.
type EntrySummary struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"`
}

// EntryList is GET /api/entries.
type EntryList struct {
	Entries []EntrySummary `json:"entries"`
}

func (a *API) entries(w http.ResponseWriter, r *http.Request) {
	es := a.Library.KB().Entries()
	out := EntryList{Entries: make([]EntrySummary, 0, len(es))}
	for _, e := range es {
		out.Entries = append(out.Entries, EntrySummary{ID: e.ID, Title: e.Title, Kind: string(e.Kind)})
	}
	writeJSON(w, http.StatusOK, out)
}

// Entry is GET /api/entries/{id}: an entry as curated, with its sources
// cited for people.
type Entry struct {
	ID        string         `json:"id"`
	Title     string         `json:"title"`
	Kind      string         `json:"kind"`
	Lead      string         `json:"lead"`
	Body      string         `json:"body"`
	Questions []string       `json:"questions"`
	Points    []EntryPoint   `json:"points"`
	Sources   []EntrySource  `json:"sources"`
	Related   []EntrySummary `json:"related"`
	Tags      []string       `json:"tags"`
	Reviewed  string         `json:"reviewed"`
}

// EntryPoint is one attributed statement of an entry.
type EntryPoint struct {
	Text     string `json:"text"`
	By       string `json:"by"`
	Standing string `json:"standing"`
	Source   string `json:"source"` // "article, paragraph 2"
}

// EntrySource is a document paragraph an entry cites.
type EntrySource struct {
	Ref  string `json:"ref"`  // "article#2"
	Cite string `json:"cite"` // "article, paragraph 2"
}

func (a *API) entry(w http.ResponseWriter, r *http.Request) {
	kb := a.Library.KB()
	id := r.PathValue("id")
	e, ok := kb.Entry(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no entry %q", id))
		return
	}
	out := Entry{
		ID: e.ID, Title: e.Title, Kind: string(e.Kind), Lead: e.Lead, Body: e.Body,
		Questions: nonNil(e.Questions), Tags: nonNil(e.Tags), Reviewed: e.Reviewed,
		Points: make([]EntryPoint, 0, len(e.Points)), Sources: []EntrySource{}, Related: []EntrySummary{},
	}
	for _, p := range e.Points {
		out.Points = append(out.Points, EntryPoint{Text: p.Text, By: p.By, Standing: string(p.Standing), Source: kb.Cite(p.Source)})
	}
	for _, s := range e.Sources() {
		out.Sources = append(out.Sources, EntrySource{Ref: s.String(), Cite: kb.Cite(s)})
	}
	for _, id := range e.Related {
		if rel, ok := kb.Entry(id); ok {
			out.Related = append(out.Related, EntrySummary{ID: rel.ID, Title: rel.Title, Kind: string(rel.Kind)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) about(w http.ResponseWriter, r *http.Request) {
	ab := a.Library.About()
	ab.Sources, ab.Featured = nonNil(ab.Sources), nonNil(ab.Featured)
	writeJSON(w, http.StatusOK, ab)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
