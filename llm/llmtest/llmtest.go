// Package llmtest is a local OpenAI-compatible server for tests: POST
// /v1/chat/completions answered as one JSON object or, when the request
// asks to stream, as server-sent events ("data: {chunk}" lines ending with
// "data: [DONE]"), as OpenAI, Ollama, vLLM and the llama.cpp server do.
// Each test says how it answers; every request is recorded, body and
// headers, so a test can check what was sent.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is a chat completion request as it goes over the wire.
type Request struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream              bool     `json:"stream"`
	Temperature         *float64 `json:"temperature"`
	MaxTokens           int      `json:"max_tokens"`
	MaxCompletionTokens int      `json:"max_completion_tokens"`
}

// Recorded is one request the server received.
type Recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
	Req                 Request
	At                  time.Time
}

// Handler answers the n-th request (from 1).
type Handler func(w http.ResponseWriter, r *http.Request, req Request, n int)

// Server is the fake model server.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	answer   Handler
	requests []Recorded
}

// New starts a server answering with h; it stops when the test ends.
func New(t testing.TB, h Handler) *Server {
	s := &Server{answer: h}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to configure: the server's /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Addr is the server's host:port.
func (s *Server) Addr() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// SetHandler changes how the server answers from the next request on.
func (s *Server) SetHandler(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = h
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, Req: req, At: at})
	n := len(s.requests)
	answer := s.answer
	s.mu.Unlock()
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	answer(w, r, req, n)
}

// Calls is how many requests the server has received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Request returns the i-th request received (from 0), failing the test if
// there is none.
func (s *Server) Request(t testing.TB, i int) Recorded {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.requests) {
		t.Fatalf("request %d not received (%d in all)", i, len(s.requests))
	}
	return s.requests[i]
}

// Requests returns every request received so far.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.requests...)
}

// Says answers every request with text, as JSON or as a stream of small
// chunks, whichever the request asks for.
func Says(text string) Handler { return SaysAfter(text, 0, 0) }

// SaysAfter answers like Says as a model that takes first before its first
// word and pause between chunks of the stream (a JSON answer waits for the
// whole text: first plus every pause). A request whose client gives up
// ends the wait.
func SaysAfter(text string, first, pause time.Duration) Handler {
	return func(w http.ResponseWriter, r *http.Request, req Request, _ int) {
		parts := Chunks(text, 9)
		wait := first
		if !req.Stream {
			wait += time.Duration(len(parts)) * pause
		}
		if !sleep(r, wait) {
			return
		}
		if req.Stream {
			WriteSSE(w, req.Model, parts, "stop", pause)
			return
		}
		WriteJSON(w, req.Model, text, "stop")
	}
}

// sleep waits d, the model's pace, or until the client gives up.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// WriteJSON answers with a chat completion holding text.
func WriteJSON(w http.ResponseWriter, model, text, finish string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-test","object":"chat.completion","created":%d,"model":%q,`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":%q}],`+
		`"usage":{"prompt_tokens":200,"completion_tokens":60,"total_tokens":260}}`,
		time.Now().Unix(), model, jsonString(text), finish)
}

// WriteSSE streams parts as chat.completion.chunk events, pausing between
// them, then a chunk with the finish reason (none if finish is empty) and
// [DONE].
func WriteSSE(w http.ResponseWriter, model string, parts []string, finish string, pause time.Duration) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	event := func(delta, finishJSON string) {
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-test\",\"object\":\"chat.completion.chunk\",\"created\":%d,\"model\":%q,"+
			"\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]}\n\n", time.Now().Unix(), model, delta, finishJSON)
		fl.Flush()
	}
	event(`{"role":"assistant","content":""}`, "null")
	for _, p := range parts {
		if pause > 0 {
			time.Sleep(pause) // the model's pace, not synchronisation
		}
		event(`{"content":`+jsonString(p)+`}`, "null")
	}
	if finish != "" {
		event(`{}`, jsonString(finish))
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// Chunks cuts s into pieces of n bytes, the last one shorter.
func Chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Fails answers with an HTTP error: status, body and header name-value
// pairs.
func Fails(status int, body string, header ...string) Handler {
	return func(w http.ResponseWriter, r *http.Request, _ Request, _ int) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// Hangs never answers: it holds the request until the client gives up. A
// stream sends its headers and the role chunk first.
func Hangs(w http.ResponseWriter, r *http.Request, req Request, _ int) {
	if req.Stream {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n")
		w.(http.Flusher).Flush()
	}
	<-r.Context().Done()
}
