package llm_test

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

// fakeOpenAI is an OpenAI-compatible server: POST /v1/chat/completions,
// answered as one JSON object or, when the request asks to stream, as
// server-sent events ("data: {chunk}" lines ending with "data: [DONE]").
// Each test sets how it answers; it records every request.
type fakeOpenAI struct {
	srv *httptest.Server
	// answer handles the n-th request (from 1).
	answer func(w http.ResponseWriter, r *http.Request, req wireRequest, n int)

	mu       sync.Mutex
	requests []recorded
}

// wireRequest is the request body as it goes over the wire.
type wireRequest struct {
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

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
	Req                 wireRequest
}

func newFakeOpenAI(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, req wireRequest, n int)) *fakeOpenAI {
	f := &fakeOpenAI{answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL to configure: the server's /v1.
func (f *fakeOpenAI) URL() string { return f.srv.URL + "/v1" }

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req wireRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, Req: req})
	n := len(f.requests)
	f.mu.Unlock()
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	f.answer(w, r, req, n)
}

func (f *fakeOpenAI) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeOpenAI) request(t testing.TB, i int) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.requests) {
		t.Fatalf("request %d not received (%d in all)", i, len(f.requests))
	}
	return f.requests[i]
}

// says answers every request with text, as JSON or as a stream of small
// chunks, whichever the request asks for.
func says(text string) func(http.ResponseWriter, *http.Request, wireRequest, int) {
	return func(w http.ResponseWriter, r *http.Request, req wireRequest, _ int) {
		if req.Stream {
			writeSSE(w, req.Model, chunks(text, 9), "stop", 0)
			return
		}
		writeJSON(w, req.Model, text, "stop")
	}
}

func writeJSON(w http.ResponseWriter, model, text, finish string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-test","object":"chat.completion","created":%d,"model":%q,`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":%q}],`+
		`"usage":{"prompt_tokens":200,"completion_tokens":60,"total_tokens":260}}`,
		time.Now().Unix(), model, jsonString(text), finish)
}

// writeSSE streams parts as chat.completion.chunk events, pausing between
// them, then a chunk with the finish reason (none if finish is empty) and
// [DONE].
func writeSSE(w http.ResponseWriter, model string, parts []string, finish string, pause time.Duration) {
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

func chunks(s string, n int) []string {
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

// fails answers with an HTTP error.
func fails(status int, body string, header ...string) func(http.ResponseWriter, *http.Request, wireRequest, int) {
	return func(w http.ResponseWriter, r *http.Request, _ wireRequest, _ int) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// hangs never answers: it holds the request until the client gives up.
func hangs(w http.ResponseWriter, r *http.Request, req wireRequest, _ int) {
	if req.Stream {
		// Headers and the role chunk go out, then nothing.
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n")
		w.(http.Flusher).Flush()
	}
	<-r.Context().Done()
}
