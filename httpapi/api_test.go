package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// fakeAsker answers from a function and remembers the questions.
type fakeAsker struct {
	ask func(q bot.Question) (bot.Answer, error)

	mu    sync.Mutex
	asked []bot.Question
}

func (f *fakeAsker) Ask(_ context.Context, q bot.Question) (bot.Answer, error) {
	f.mu.Lock()
	f.asked = append(f.asked, q)
	f.mu.Unlock()
	return f.ask(q)
}

type library struct{ kb *knowledge.KB }

func (l library) KB() *knowledge.KB { return l.kb }
func (l library) About() bot.About {
	return bot.About{Name: "the story", Summary: "A summary.", Featured: []string{"did DeepSeek really use fewer GPUs?"}}
}

func builtinKB(t testing.TB) *knowledge.KB {
	t.Helper()
	kb, err := knowledge.Default()
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

var sample = bot.Answer{
	Question: "did deepseek use fewer gpus?", Answered: true, Text: "Text <b>&</b>", Lead: "DeepSeek says A100s and H800s.",
	Points:    []bot.Point{{Text: "DeepSeek says 10,000 A100s.", By: "DeepSeek", Standing: bot.StandingDisputed}},
	Sources:   []bot.Source{{Entry: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Ref: "article, paragraph 2"}},
	Followups: []string{"What is the H800?"}, Confidence: 1, Entries: []string{"deepseek-gpus"},
}

func newAPI(t testing.TB, asker *fakeAsker, lim *Limiter) (*http.ServeMux, *[]string) {
	var limited []string
	a := &API{Asker: asker, Library: library{builtinKB(t)}, Limiter: lim, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RateLimited: func(route string) { limited = append(limited, route) }}
	mux := http.NewServeMux()
	a.Mount(mux)
	return mux, &limited
}

func TestAPIErrors(t *testing.T) {
	big := `{"question": "` + strings.Repeat("a", MaxQuestionBody) + `"}`
	tests := []struct {
		name      string
		method    string
		path      string
		body      string
		chunked   bool // send without Content-Length
		status    int
		errHas    string
		allow     string
		wantAsked bool
	}{
		{"no body", "POST", "/api/ask", "", false, 400, "empty body", "", false},
		{"empty object", "POST", "/api/ask", `{}`, false, 400, "no question", "", false},
		{"empty question", "POST", "/api/ask", `{"question": ""}`, false, 400, "empty", "", false},
		{"blank question", "POST", "/api/ask", `{"question": " \n\t "}`, false, 400, "empty", "", false},
		{"not JSON", "POST", "/api/ask", `question=hi`, false, 400, "invalid JSON", "", false},
		{"cut short", "POST", "/api/ask", `{"question": "hi`, false, 400, "ends early", "", false},
		{"number", "POST", "/api/ask", `{"question": 42}`, false, 400, `"question" must be a string`, "", false},
		{"two objects", "POST", "/api/ask", `{"question": "a"} {"question": "b"}`, false, 400, "after the JSON object", "", false},
		{"array", "POST", "/api/ask", `["hi"]`, false, 400, "malformed", "", false},
		{"too large", "POST", "/api/ask", big, false, 413, "over 8192 bytes", "", false},
		{"too large, chunked", "POST", "/api/ask", big, true, 413, "over 8192 bytes", "", false},
		{"GET ask", "GET", "/api/ask", "", false, 405, "use POST", "POST", false},
		{"PUT entries", "PUT", "/api/entries", "", false, 405, "use GET", "GET, HEAD", false},
		{"DELETE entry", "DELETE", "/api/entries/h800", "", false, 405, "use GET", "GET, HEAD", false},
		{"POST about", "POST", "/api/about", "", false, 405, "use GET", "GET, HEAD", false},
		{"unknown entry", "GET", "/api/entries/no-such-entry", "", false, 404, `no entry "no-such-entry"`, "", false},
		{"unknown endpoint", "GET", "/api/nope", "", false, 404, "no such endpoint", "", false},
		{"asker fails", "POST", "/api/ask", `{"question": "fail please"}`, false, 500, "could not answer", "", true},
		{"ok", "POST", "/api/ask", `{"question": "did DeepSeek use fewer GPUs?"}`, false, 200, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asker := &fakeAsker{ask: func(q bot.Question) (bot.Answer, error) {
				if q.Text == "fail please" {
					return bot.Answer{}, errors.New("index exploded")
				}
				return sample, nil
			}}
			mux, _ := newAPI(t, asker, nil)
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length
			}
			req := httptest.NewRequest(tt.method, tt.path, body)
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if tt.status != 200 {
				var e errorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
					t.Fatalf("error body %q is not JSON: %v", rec.Body, err)
				}
				if !strings.Contains(e.Error, tt.errHas) {
					t.Errorf("error = %q, want it to contain %q", e.Error, tt.errHas)
				}
				if strings.Contains(e.Error, "exploded") {
					t.Errorf("error %q leaks the internal error", e.Error)
				}
			}
			if got := len(asker.asked) > 0; got != tt.wantAsked {
				t.Errorf("engine asked = %v, want %v", got, tt.wantAsked)
			}
		})
	}
}

// The answer is byte for byte what `explainer ask --json` prints.
func TestAskAnswersLikeAskJSON(t *testing.T) {
	asker := &fakeAsker{ask: func(bot.Question) (bot.Answer, error) { return sample, nil }}
	mux, _ := newAPI(t, asker, nil)
	for _, tt := range []struct {
		client, platform string
	}{{"", bot.PlatformAPI}, {"web", bot.PlatformWeb}, {"slack", bot.PlatformAPI}} {
		req := httptest.NewRequest("POST", "/api/ask", strings.NewReader(`{"question": "did DeepSeek use fewer GPUs?", "extra": 1}`))
		if tt.client != "" {
			req.Header.Set(ClientHeader, tt.client)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var want strings.Builder
		json.NewEncoder(&want).Encode(sample)
		if rec.Code != 200 || rec.Body.String() != want.String() {
			t.Fatalf("got %d %s\nwant %s", rec.Code, rec.Body, want.String())
		}
		q := asker.asked[len(asker.asked)-1]
		if q.Text != "did DeepSeek use fewer GPUs?" || q.Platform != tt.platform {
			t.Errorf("client %q: engine asked %+v, want platform %q", tt.client, q, tt.platform)
		}
	}
}

func TestEntries(t *testing.T) {
	mux, _ := newAPI(t, &fakeAsker{}, nil)
	kb := builtinKB(t)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/entries", nil))
	var list EntryList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != 200 {
		t.Fatalf("GET /api/entries: %d %v", rec.Code, err)
	}
	if len(list.Entries) != len(kb.Entries()) {
		t.Fatalf("%d entries listed, the KB has %d", len(list.Entries), len(kb.Entries()))
	}
	found := false
	for _, e := range list.Entries {
		if e == (EntrySummary{ID: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Kind: "topic"}) {
			found = true
		}
	}
	if !found {
		t.Errorf("deepseek-gpus not listed as a topic: %+v", list.Entries)
	}

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/entries/deepseek-gpus", nil))
	var e Entry
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != 200 {
		t.Fatalf("GET /api/entries/deepseek-gpus: %d %v", rec.Code, err)
	}
	src, _ := kb.Entry("deepseek-gpus")
	if e.ID != src.ID || e.Lead != src.Lead || len(e.Points) != len(src.Points) || len(e.Questions) != len(src.Questions) {
		t.Errorf("entry = %+v", e)
	}
	if p := e.Points[0]; p.Standing != "disputed" || p.By != "DeepSeek" || p.Source != "article, paragraph 2" {
		t.Errorf("first point = %+v", p)
	}
	if len(e.Sources) == 0 || e.Sources[0] != (EntrySource{Ref: "article#2", Cite: "article, paragraph 2"}) {
		t.Errorf("sources = %+v", e.Sources)
	}
	if len(e.Related) == 0 || e.Related[0].Title == "" {
		t.Errorf("related = %+v", e.Related)
	}
	if strings.Contains(rec.Body.String(), src.File) {
		t.Error("the entry shows the file it was read from")
	}

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/about", nil))
	var ab bot.About
	if err := json.Unmarshal(rec.Body.Bytes(), &ab); err != nil || rec.Code != 200 || ab.Name != "the story" || len(ab.Featured) != 1 {
		t.Errorf("GET /api/about: %d %s", rec.Code, rec.Body)
	}
}

func TestRateLimitedAPI(t *testing.T) {
	lim := NewLimiter(1, 2)
	clock := &fakeClock{}
	lim.now = clock.Now
	asker := &fakeAsker{ask: func(bot.Question) (bot.Answer, error) { return sample, nil }}
	mux, limited := newAPI(t, asker, lim)
	do := func(addr, path string) *httptest.ResponseRecorder {
		method, body := "GET", ""
		if path == "/api/ask" {
			method, body = "POST", `{"question": "hi"}`
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	for i := range 2 {
		if rec := do("192.0.2.1:1000", "/api/ask"); rec.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
		}
	}
	rec := do("192.0.2.1:1001", "/api/ask")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "too many requests") {
		t.Fatalf("over the rate: %d Retry-After=%q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := do("192.0.2.1:1002", "/api/entries"); rec.Code != 429 {
		t.Errorf("entries over the rate: %d", rec.Code)
	}
	if len(asker.asked) != 2 {
		t.Errorf("engine asked %d times, want 2", len(asker.asked))
	}
	if strings.Join(*limited, ",") != "ask,entries" {
		t.Errorf("rate-limited routes counted: %v", *limited)
	}
	if rec := do("192.0.2.2:1000", "/api/ask"); rec.Code != 200 {
		t.Errorf("another client: %d", rec.Code)
	}
	clock.Advance(1e9)
	if rec := do("192.0.2.1:1003", "/api/ask"); rec.Code != 200 {
		t.Errorf("after a second: %d", rec.Code)
	}
}

func TestReady(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		status int
		want   map[string]string
	}{
		{"all ok", []Check{{"kb", func() error { return nil }}, {"slack", func() error { return nil }}}, 200,
			map[string]string{"kb": "ok", "slack": "ok"}},
		{"one down", []Check{{"kb", func() error { return nil }}, {"discord", func() error { return errors.New("gateway not connected") }}}, 503,
			map[string]string{"kb": "ok", "discord": "gateway not connected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Ready(func() []Check { return tt.checks })(rec, httptest.NewRequest("GET", "/readyz", nil))
			var got Readiness
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.status || got.Ready != (tt.status == 200) || len(got.Checks) != len(tt.want) {
				t.Fatalf("got %d %+v", rec.Code, got)
			}
			for k, v := range tt.want {
				if got.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, got.Checks[k], v)
				}
			}
		})
	}
	rec := httptest.NewRecorder()
	Health(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Errorf("healthz: %d %s", rec.Code, rec.Body)
	}
}

func BenchmarkAskHandler(b *testing.B) {
	asker := &fakeAsker{ask: func(bot.Question) (bot.Answer, error) { return sample, nil }}
	mux, _ := newAPI(b, asker, nil)
	h := Recover(slog.New(slog.NewTextHandler(io.Discard, nil)), nil, LogRequests(slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBody(1<<20, mux)))
	body := `{"question": "did DeepSeek really use fewer GPUs?"}`
	b.ReportAllocs()
	for b.Loop() {
		asker.asked = asker.asked[:0]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/ask", strings.NewReader(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
