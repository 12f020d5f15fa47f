package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/llm/llmtest"
)

// inventedHeadline starts faithfully, then invents a number no point
// gives: the first sentence may show while it is written, the final check
// turns the whole down.
const inventedHeadline = "By DeepSeek's own account, it trained its models on about 10,000 older Nvidia A100 GPUs plus export-compliant H800 chips [p1][p2]. " +
	"It also had 50,000 H100s [p3]."

// modelTime is how long the fake model takes to write an answer, streamed
// or not.
const modelTime = 500 * time.Millisecond

// pacedModel answers with text in modelTime: as JSON after modelTime, or
// streamed in 9-byte chunks spread over it.
func pacedModel(text func() string) llmtest.Handler {
	return func(w http.ResponseWriter, r *http.Request, req llmtest.Request, n int) {
		t := text()
		pause := modelTime / time.Duration(len(llmtest.Chunks(t, 9)))
		llmtest.SaysAfter(t, 0, pause)(w, r, req, n)
	}
}

// processSlack is Slack's Web API as serve uses it: auth.test,
// chat.postMessage and chat.update, recorded.
type processSlack struct {
	*httptest.Server
	token string

	mu    sync.Mutex
	calls []url.Values // with "method" set
	ts    int
	got   chan url.Values
}

func newProcessSlack(t *testing.T, token string) *processSlack {
	s := &processSlack{token: token, got: make(chan url.Values, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("token") != token {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		switch method {
		case "auth.test":
			fmt.Fprint(w, `{"ok":true,"team":"Test","user":"explainer","team_id":"T1","user_id":"UBOT","bot_id":"B1"}`)
			return
		case "chat.postMessage", "chat.update":
		default:
			http.NotFound(w, r)
			return
		}
		form := r.PostForm
		form.Set("method", method)
		s.mu.Lock()
		ts := form.Get("ts")
		if method == "chat.postMessage" {
			s.ts++
			ts = fmt.Sprintf("1700001000.%06d", s.ts)
		}
		s.calls = append(s.calls, form)
		s.mu.Unlock()
		s.got <- form
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, form.Get("channel"), ts)
	}))
	t.Cleanup(s.Close)
	return s
}

// sseEvent is one server-sent event and when it arrived.
type sseEvent struct {
	name, data string
	at         time.Duration // since the request was sent
}

// askEvents asks q for server-sent events and returns them as they came.
func askEvents(t *testing.T, base, q string) []sseEvent {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"question": q})
	req, _ := http.NewRequest("POST", base+"/api/ask", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var out []sseEvent
	var ev sseEvent
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			ev.at = time.Since(start)
			out = append(out, ev)
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestServeFluentAnswersProcess runs `explainer serve` with a fake model
// that takes 500 ms, and Slack and Discord configured: fluent answers over
// JSON, server-sent events and Slack; an invented number falls back to the
// extractive answer; the summaries are counted; and what reaches the model
// holds no token, setting, user or channel. It reports the latencies.
func TestServeFluentAnswersProcess(t *testing.T) {
	bin := buildExplainer(t)
	var invent atomic.Bool
	model := llmtest.New(t, pacedModel(func() string {
		if invent.Load() {
			return inventedHeadline
		}
		return fluentHeadline
	}))
	const (
		slackToken    = "xoxb-e2e-7-7-slacksecrettoken"
		slackSecret   = "e2e-slack-signing-secret-77"
		discordToken  = "discord-e2e-secret-bot-token-99"
		discordKey    = "8f3c5a1e2b4d6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
		discordApp    = "123456789012345678"
		llmKey        = "sk-e2e-llm-key-0042"
		openAIKey     = "sk-openai-unused-key-88"
		slackUser     = "U0SECRETUSER42"
		slackChannel  = "C0PRIVATECHAN7"
		discordAPIURL = "http://127.0.0.1:1" // nothing listens: the gateway retries
	)
	slack := newProcessSlack(t, slackToken)
	environ := map[string]string{
		"LLM_BASE_URL": model.URL(), "LLM_MODEL": "e2e-model", "LLM_API_KEY": llmKey, "OPENAI_API_KEY": openAIKey,
		"LLM_TIMEOUT": "5s", "LLM_CACHE_SIZE": "0",
		"SLACK_BOT_TOKEN": slackToken, "SLACK_SIGNING_SECRET": slackSecret, "SLACK_API_URL": slack.URL + "/api/",
		"DISCORD_BOT_TOKEN": discordToken, "DISCORD_PUBLIC_KEY": discordKey, "DISCORD_APP_ID": discordApp, "DISCORD_API_URL": discordAPIURL,
	}
	p := startServe(t, bin, environ)
	on := p.waitLog("fluent answers on: a language model writes answers from the retrieved points, under the grounding guard", nil)
	if on["model"] != "e2e-model" || on["server"] != model.Addr() {
		t.Errorf("start-up says model %v on %v, want e2e-model on %s", on["model"], on["server"], model.Addr())
	}
	if r := p.do("GET", "/readyz", ""); strings.Contains(strings.ToLower(r.body), "llm") || strings.Contains(r.body, "model") {
		t.Errorf("/readyz checks the model: %s", r.body)
	}

	const runs = 5
	used, rejected := 0, 0

	// JSON: the fluent answer.
	var jsonTook []time.Duration
	var fluent bot.Answer
	for range runs {
		start := time.Now()
		fluent = p.ask(headline)
		jsonTook = append(jsonTook, time.Since(start))
		used++
		if !fluent.Fluent || fluent.Lead != fluentHeadline {
			t.Fatalf("POST /api/ask: fluent=%v lead %q, want the model's answer", fluent.Fluent, fluent.Lead)
		}
	}

	// Server-sent events: partials, then the same answer.
	var firstTook, finalTook []time.Duration
	for range runs {
		evs := askEvents(t, p.base, headline)
		used++
		if len(evs) < 2 || evs[len(evs)-1].name != "answer" {
			t.Fatalf("events %+v, want partials then the answer", evs)
		}
		for _, ev := range evs[:len(evs)-1] {
			var part struct{ Text string }
			if ev.name != "partial" || json.Unmarshal([]byte(ev.data), &part) != nil || !strings.HasPrefix(fluentHeadline, part.Text) || part.Text == "" {
				t.Fatalf("event %+v, want a partial the answer starts with", ev)
			}
		}
		var a bot.Answer
		json.Unmarshal([]byte(evs[len(evs)-1].data), &a)
		got, _ := json.Marshal(a)
		want, _ := json.Marshal(fluent)
		if !bytes.Equal(got, want) {
			t.Fatalf("streamed answer differs from POST /api/ask's:\n%s\n%s", got, want)
		}
		firstTook = append(firstTook, evs[0].at)
		finalTook = append(finalTook, evs[len(evs)-1].at)
	}

	// Slack: a mention from a user in a channel, answered fluently.
	body := []byte(`{"type":"event_callback","team_id":"T1","event_id":"EvLLM1","authorizations":[{"user_id":"UBOT","is_bot":true}],` +
		`"event":{"type":"app_mention","user":"` + slackUser + `","channel":"` + slackChannel + `","ts":"1700000700.000100","text":"<@UBOT> ` + headline + `"}}`)
	ts, sig := signSlack(slackSecret, time.Now(), body)
	req, _ := http.NewRequest("POST", p.base+"/slack/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("Slack event: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	used++
	deadline := time.After(20 * time.Second)
	for done := false; !done; {
		select {
		case c := <-slack.got:
			// The final answer labels the points its lead cites.
			done = c.Get("channel") == slackChannel && strings.Contains(c.Get("blocks"), "*[p4]*") && strings.Contains(c.Get("blocks"), "[p1][p2]")
		case <-deadline:
			t.Fatal("no fluent answer in Slack")
		}
	}

	// A model that invents "50,000 H100s": the extractive answer, over
	// JSON and over events (where its first, faithful sentence may show).
	invent.Store(true)
	a := p.ask(headline)
	rejected++
	if a.Fluent || strings.Contains(a.Text, "50,000") || !strings.HasPrefix(a.Lead, "By DeepSeek's own account, yes") {
		t.Errorf("invented number: fluent=%v lead %q, want the extractive answer", a.Fluent, a.Lead)
	}
	evs := askEvents(t, p.base, headline)
	rejected++
	last := evs[len(evs)-1]
	var streamed bot.Answer
	if last.name != "answer" || json.Unmarshal([]byte(last.data), &streamed) != nil || streamed.Fluent || streamed.Lead != a.Lead {
		t.Errorf("invented number, streamed: %+v, want the extractive answer last", last)
	}
	for _, ev := range evs[:len(evs)-1] {
		if strings.Contains(ev.data, "50,000") {
			t.Errorf("the invented number showed while it was written: %s", ev.data)
		}
	}

	// Metrics.
	for sample, want := range map[string]int{
		`explainer_summaries_total{reason="",result="used"}`:           used,
		`explainer_summaries_total{reason="number",result="rejected"}`: rejected,
		`explainer_llm_requests_total`:                                 model.Calls(),
		`explainer_llm_failures_total`:                                 0,
	} {
		if got := p.metric(sample); got != strconv.Itoa(want) {
			t.Errorf("%s = %q, want %d", sample, got, want)
		}
	}

	// What reached the model: the question and the points, nothing else.
	secrets := []string{slackToken, slackSecret, discordToken, discordKey, discordApp, llmKey, openAIKey,
		slackUser, slackChannel, slack.URL, strings.TrimPrefix(slack.URL, "http://"), model.Addr(), discordAPIURL, "xoxb-", "EXPLAINER_", "SLACK_", "DISCORD_", "LLM_"}
	if model.Calls() != used+rejected {
		t.Errorf("%d model calls, want %d", model.Calls(), used+rejected)
	}
	for i, r := range model.Requests() {
		for _, s := range secrets {
			if bytes.Contains(bytes.ToLower(r.Body), bytes.ToLower([]byte(s))) {
				t.Errorf("request %d to the model carries %q:\n%s", i, s, r.Body)
			}
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+llmKey {
			t.Errorf("request %d: Authorization %q, want the LLM key", i, got)
		}
		for name, vs := range r.Header {
			for _, v := range vs {
				for _, s := range secrets[:5] {
					if strings.Contains(v, s) {
						t.Errorf("request %d: header %s carries %q", i, name, s)
					}
				}
			}
		}
		if !strings.Contains(string(r.Body), headline) && !strings.Contains(strings.ToLower(string(r.Body)), strings.ToLower(headline)) {
			t.Errorf("request %d does not carry the question", i)
		}
	}
	for _, s := range []string{slackToken, slackSecret, discordToken, llmKey, openAIKey} {
		if strings.Contains(p.rawLogs(), s) {
			t.Errorf("the logs show %q", s)
		}
	}

	// The same question without a model, for comparison.
	plain := startServe(t, bin, nil)
	var plainTook []time.Duration
	for range runs {
		start := time.Now()
		if a := plain.ask(headline); a.Fluent {
			t.Fatal("fluent without a model")
		}
		plainTook = append(plainTook, time.Since(start))
	}
	t.Logf("end to end through serve, model taking %v, median of %d (max):", modelTime, runs)
	t.Logf("  POST /api/ask, extractive (no model):   %8v (%v)", median(plainTook).Round(10*time.Microsecond), slices.Max(plainTook).Round(10*time.Microsecond))
	t.Logf("  POST /api/ask, fluent (JSON):           %8v (%v)", median(jsonTook).Round(100*time.Microsecond), slices.Max(jsonTook).Round(100*time.Microsecond))
	t.Logf("  events: first partial:                  %8v (%v)", median(firstTook).Round(100*time.Microsecond), slices.Max(firstTook).Round(100*time.Microsecond))
	t.Logf("  events: final answer:                   %8v (%v)", median(finalTook).Round(100*time.Microsecond), slices.Max(finalTook).Round(100*time.Microsecond))
	// The acceptance bound, generous: the model's time plus 400 ms.
	if m := median(jsonTook); m > modelTime+400*time.Millisecond {
		t.Errorf("median fluent answer took %v, over %v", m, modelTime+400*time.Millisecond)
	}
	if f, l := median(firstTook), median(finalTook); f >= l {
		t.Errorf("the first partial (%v) came no sooner than the answer (%v)", f, l)
	}
}
