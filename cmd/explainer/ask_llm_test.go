package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/explainerbot/explainer/bot"
)

// askEnv is a process environment of exactly m.
func askEnv(m map[string]string) env {
	return env{
		get:    func(k string) string { return m[k] },
		lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok },
	}
}

// The ask command writes fluent answers when the LLM settings are set,
// and the same extractive answers as ever when they are not or the model
// fails.
func TestAskUsesTheSummarizerWhenSet(t *testing.T) {
	const fluent = "By DeepSeek's own account, it used about 10,000 older Nvidia A100 GPUs plus H800 chips [p1][p2]; the article does not confirm these figures [p3]."
	var calls atomic.Int32
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		auth.Store(r.Header.Get("Authorization"))
		io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}]}`, fluent)
	}))
	defer srv.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	const q = "did DeepSeek really use fewer GPUs?"
	tests := []struct {
		name    string
		environ map[string]string
		fluent  bool
		calls   int32
	}{
		{"no LLM settings", map[string]string{"SLACK_BOT_TOKEN": "broken"}, false, 0},
		{"local server, no key", map[string]string{"LLM_BASE_URL": srv.URL + "/v1", "LLM_MODEL": "llama3.1", "SLACK_BOT_TOKEN": "broken"}, true, 1},
		{"server down", map[string]string{"LLM_BASE_URL": down.URL + "/v1", "LLM_MODEL": "llama3.1", "LLM_TIMEOUT": "2s"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"ask", "--json", q}, askEnv(tt.environ), strings.NewReader(""), &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			var a bot.Answer
			if err := json.Unmarshal(stdout.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			if !a.Answered || a.Fluent != tt.fluent || (tt.fluent && a.Lead != fluent) {
				t.Errorf("answered=%v fluent=%v lead=%q", a.Answered, a.Fluent, a.Lead)
			}
			if calls.Load() != tt.calls {
				t.Errorf("%d model calls, want %d", calls.Load(), tt.calls)
			}
			if tt.calls > 0 && auth.Load() != "" {
				t.Errorf("Authorization %q sent without a key", auth.Load())
			}
		})
	}
}

func TestAskRejectsBadLLMSettings(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"ask", "what is cuda?"}, askEnv(map[string]string{"LLM_MODEL": "llama3.1", "LLM_TIMEOUT": "soon"}), strings.NewReader(""), &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "LLM_BASE_URL") || !strings.Contains(stderr.String(), "LLM_TIMEOUT") {
		t.Fatalf("exit %d, stderr %q: want both problems named", code, stderr.String())
	}
}
