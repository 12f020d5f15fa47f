package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/explainerbot/explainer/bot"
)

// streamAsker streams its partials, each after the test has let it (when
// gate is set), then answers.
type streamAsker struct {
	*fakeAsker
	partials []string
	gate     chan struct{}
}

func (s streamAsker) AskStream(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
	for _, p := range s.partials {
		if s.gate != nil {
			select {
			case <-s.gate:
			case <-ctx.Done():
				return bot.Answer{}, ctx.Err()
			}
		}
		partial(p)
	}
	return s.Ask(ctx, q)
}

type event struct{ name, data string }

// events reads server-sent events as they arrive.
func events(t *testing.T, body io.Reader) <-chan event {
	t.Helper()
	out := make(chan event, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					out <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

func postEvents(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/api/ask", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestAskStreamsPartialsThenTheAnswer(t *testing.T) {
	fake := &fakeAsker{ask: func(bot.Question) (bot.Answer, error) { return sample, nil }}
	gate := make(chan struct{})
	mux, _ := newAPI(t, fake, nil)
	// The same API, over an asker that streams.
	a := &API{Asker: streamAsker{fakeAsker: fake, partials: []string{"DeepSeek says so [p1].", "DeepSeek says so [p1]. The article does not confirm it [p2]."}, gate: gate},
		Library: library{builtinKB(t)}, Log: discardLog()}
	smux := http.NewServeMux()
	a.Mount(smux)
	srv := httptest.NewServer(Recover(discardLog(), nil, LogRequests(discardLog(), smux)))
	defer srv.Close()

	res := postEvents(t, srv.URL, `{"question": "did DeepSeek use fewer GPUs?"}`)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("status %d, Content-Type %q, Cache-Control %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	evs := events(t, res.Body)
	// Each partial arrives while the answer is still being written: the
	// asker goes on only once the test has let it.
	for i, want := range a.Asker.(streamAsker).partials {
		gate <- struct{}{}
		ev := <-evs
		var p Partial
		if ev.name != EventPartial || json.Unmarshal([]byte(ev.data), &p) != nil || p.Text != want {
			t.Fatalf("event %d = %+v, want partial %q", i, ev, want)
		}
	}
	final := <-evs
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/api/ask", strings.NewReader(`{"question": "did DeepSeek use fewer GPUs?"}`)))
	if final.name != EventAnswer || final.data+"\n" != rec.Body.String() {
		t.Fatalf("last event = %+v\nwant the answer as POST /api/ask gives it:\n%s", final, rec.Body)
	}
	if ev, more := <-evs; more {
		t.Errorf("event after the answer: %+v", ev)
	}
}

func TestAskEventsWithoutStreaming(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		events     []string // names, for 200
		errHas     string
	}{
		{"answer at once", `{"question": "what is cuda?"}`, 200, []string{EventAnswer}, ""},
		{"engine fails", `{"question": "fail please"}`, 200, []string{EventError}, "could not answer"},
		{"bad request stays JSON", `{"question": " "}`, 400, nil, "empty"},
		{"too large stays JSON", `{"question": "` + strings.Repeat("a", MaxQuestionBody) + `"}`, 413, nil, "over 8192"},
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
			srv := httptest.NewServer(mux)
			defer srv.Close()
			res := postEvents(t, srv.URL, tt.body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				var e errorBody
				if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" || json.NewDecoder(res.Body).Decode(&e) != nil || !strings.Contains(e.Error, tt.errHas) {
					t.Fatalf("Content-Type %q, error %q: want JSON containing %q", ct, e.Error, tt.errHas)
				}
				return
			}
			var got []string
			var last event
			for ev := range events(t, res.Body) {
				got = append(got, ev.name)
				last = ev
			}
			if strings.Join(got, ",") != strings.Join(tt.events, ",") {
				t.Fatalf("events %q, want %q", got, tt.events)
			}
			if tt.errHas != "" && (!strings.Contains(last.data, tt.errHas) || strings.Contains(last.data, "exploded")) {
				t.Errorf("error event %q: want %q and no internal detail", last.data, tt.errHas)
			}
		})
	}
}

func TestWantsEvents(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                    false,
		"application/json":                    false,
		"text/event-stream":                   true,
		"application/json, text/event-stream": true,
		"Text/Event-Stream; q=0.9":            true,
		"text/event-streams":                  false,
	} {
		r := httptest.NewRequest("POST", "/api/ask", nil)
		r.Header.Set("Accept", accept)
		if got := wantsEvents(r); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// BenchmarkAskEvents is POST /api/ask as events, with a fluent answer
// shown in three partials: the cost streaming adds to BenchmarkAskHandler.
func BenchmarkAskEvents(b *testing.B) {
	fake := &fakeAsker{ask: func(bot.Question) (bot.Answer, error) { return sample, nil }}
	a := &API{Asker: streamAsker{fakeAsker: fake, partials: []string{"One [p1].", "One [p1]. Two [p1].", "One [p1]. Two [p1]. Three [p1]."}},
		Library: library{builtinKB(b)}, Log: discardLog()}
	mux := http.NewServeMux()
	a.Mount(mux)
	h := Recover(discardLog(), nil, LogRequests(discardLog(), MaxBody(1<<20, mux)))
	body := `{"question": "did DeepSeek really use fewer GPUs?"}`
	b.ReportAllocs()
	for b.Loop() {
		fake.asked = fake.asked[:0]
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/ask", strings.NewReader(body))
		req.Header.Set("Accept", "text/event-stream")
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "event: answer") {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
