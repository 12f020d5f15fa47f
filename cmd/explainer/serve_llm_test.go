package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/explainerbot/explainer/config"
	"github.com/explainerbot/explainer/live"
	"github.com/explainerbot/explainer/llm/llmtest"
	"github.com/explainerbot/explainer/metrics"
)

// fluentHeadline is a faithful fluent answer to the headline question:
// every number, name and citation is in its points, and DeepSeek's
// disputed GPU figures keep their attribution.
const fluentHeadline = "By DeepSeek's own account, it trained its models on about 10,000 older Nvidia A100 GPUs plus export-compliant H800 chips [p1][p2]. " +
	"The article does not confirm these figures [p3], and Scale AI's CEO Alexandr Wang suspects DeepSeek has far more advanced Nvidia chips than it has disclosed [p4]."

// newLLMTestServer is serve's wiring, summarizer included, over the
// built-in knowledge base, logging at debug level into logs.
func newLLMTestServer(t *testing.T, environ map[string]string) (*server, *logBuffer) {
	t.Helper()
	cfg, err := config.Load(environ)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	opts, err := serveSummarizer(cfg, log, m)
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := live.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	eng := live.New(ix, opts)
	t.Cleanup(func() { eng.Close() })
	deps := serveDeps{Config: cfg, Log: log, Asker: m.Asker(eng), Engine: eng, Metrics: m, Registry: reg}
	return &server{deps: deps, registry: reg}, logs
}

func TestServeSummarizerSettings(t *testing.T) {
	model := llmtest.New(t, llmtest.Says(fluentHeadline))
	tests := []struct {
		name    string
		environ map[string]string
		log     string
		absent  []string
	}{
		{"off", map[string]string{}, "fluent answers off", nil},
		{"on, with a key", map[string]string{"LLM_BASE_URL": model.URL(), "LLM_MODEL": "gpt-4o-mini", "LLM_API_KEY": "sk-test-secret-key-123"},
			`"model":"gpt-4o-mini","server":"` + model.Addr() + `"`, []string{"sk-test-secret-key-123", "/v1"}},
		{"on, OpenAI key", map[string]string{"LLM_BASE_URL": model.URL(), "LLM_MODEL": "llama3.1", "OPENAI_API_KEY": "sk-openai-secret-456"},
			`"model":"llama3.1"`, []string{"sk-openai-secret-456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := newLLMTestServer(t, tt.environ)
			if !strings.Contains(logs.String(), tt.log) {
				t.Errorf("start-up log lacks %s:\n%s", tt.log, logs)
			}
			for _, a := range tt.absent {
				if strings.Contains(logs.String(), a) {
					t.Errorf("start-up log shows %q:\n%s", a, logs)
				}
			}
			h := mustHandler(t, s)
			on := len(tt.environ) > 0
			if m := get(t, h, "GET", "/metrics", "").Body.String(); strings.Contains(m, "explainer_llm_requests_total") != on {
				t.Errorf("model client metrics exported = %v, want %v", !on, on)
			}
		})
	}
	if _, err := serveSummarizer(config.Config{LLMBaseURL: "ftp://x", LLMModel: "m"}, slog.New(slog.DiscardHandler), metrics.New(prometheus.NewRegistry())); err == nil || !strings.Contains(err.Error(), "LLM settings") {
		t.Errorf("bad base URL: %v, want an error naming the LLM settings", err)
	}
}

// A model that never answers keeps nothing from being ready: /readyz does
// not ask it.
func TestReadyzDoesNotWaitOnTheModel(t *testing.T) {
	model := llmtest.New(t, llmtest.Hangs)
	s, _ := newLLMTestServer(t, map[string]string{"LLM_BASE_URL": model.URL(), "LLM_MODEL": "m", "LLM_TIMEOUT": "1m"})
	rec := get(t, mustHandler(t, s), "GET", "/readyz", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", rec.Code, rec.Body)
	}
	if model.Calls() != 0 {
		t.Errorf("/readyz called the model %d times", model.Calls())
	}
}

// The web page shows the fluent answer growing, then the checked answer
// with numbered points its citations lead to.
func TestWebPageStreamsAFluentAnswer(t *testing.T) {
	ctx, jsErrors := browser(t)
	release := make(chan struct{})
	first, rest, _ := strings.Cut(fluentHeadline, " The article")
	rest = " The article" + rest
	model := llmtest.New(t, func(w http.ResponseWriter, r *http.Request, req llmtest.Request, _ int) {
		if !req.Stream {
			t.Error("the web page's question was not streamed to the model")
			llmtest.WriteJSON(w, req.Model, fluentHeadline, "stop")
			return
		}
		// The first sentence and the start of the next, then nothing until
		// the test has seen the first sentence on the page.
		w.Header().Set("Content-Type", "text/event-stream")
		llmtest.WriteSSE(&noDone{ResponseWriter: w}, req.Model, append(llmtest.Chunks(first, 20), rest[:12]), "", 0)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		llmtest.WriteSSE(&noRole{ResponseWriter: w}, req.Model, llmtest.Chunks(rest[12:], 20), "stop", 0)
	})
	s, _ := newLLMTestServer(t, map[string]string{"LLM_BASE_URL": model.URL(), "LLM_MODEL": "m"})
	srv := httptest.NewServer(mustHandler(t, s))
	defer srv.Close()

	do(t, ctx, "ask the headline question",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#question")),
		chromedp.SendKeys(chromedp.CSS("#question"), headline),
		chromedp.Click(chromedp.CSS("#ask")),
		chromedp.WaitVisible(chromedp.CSS("#answer .lead.writing")),
	)
	partial := run1(t, ctx, "read the partial answer", chromedp.Text(chromedp.CSS("#answer .lead")))
	if partial != first {
		t.Errorf("partial lead %q, want the first sentence %q", partial, first)
	}
	close(release)
	do(t, ctx, "wait for the whole answer", chromedp.WaitVisible(chromedp.CSS("#answer ol.points")))
	lead := run1(t, ctx, "read the lead", chromedp.Text(chromedp.CSS("#answer .lead")))
	cites := run1(t, ctx, "count citations", chromedp.Evaluate[int](`document.querySelectorAll("#answer .lead .cite").length`))
	numbered := run1(t, ctx, "read the third point", chromedp.Text(chromedp.CSS("#point-3")))
	if lead != fluentHeadline || cites != 4 || !strings.HasPrefix(numbered, "[p3]") {
		t.Errorf("final answer: lead %q, %d citations, point 3 %q", lead, cites, numbered)
	}
	if errs := jsErrors(); len(errs) > 0 {
		t.Errorf("errors on the page:\n%s", strings.Join(errs, "\n"))
	}
}

// noDone holds back a stream's end: WriteSSE's "[DONE]" line.
type noDone struct{ http.ResponseWriter }

func (w *noDone) Write(p []byte) (int, error) {
	if string(p) == "data: [DONE]\n\n" {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *noDone) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

// noRole continues a stream: it drops WriteSSE's opening role chunk.
type noRole struct{ http.ResponseWriter }

func (w *noRole) Write(p []byte) (int, error) {
	if strings.Contains(string(p), `"role":"assistant"`) {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *noRole) Flush() { w.ResponseWriter.(http.Flusher).Flush() }
