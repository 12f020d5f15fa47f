package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
)

const headlineQuestion = "did DeepSeek really use fewer GPUs?"

func TestPingGetsPong(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	cb := h.interact(map[string]any{"id": "1", "application_id": h.fake.appID, "type": 1, "token": "t", "version": 1})
	if cb.Type != 1 {
		t.Fatalf("PING answered with type %d, want 1 (PONG)", cb.Type)
	}
}

func TestRefusedRequests(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	_, forger, _ := ed25519.GenerateKey(nil)
	body, _ := json.Marshal(h.slash(cmdAbout))
	now := time.Now()
	good := func() (string, string) { return sign(testKey, body, now) }
	tests := []struct {
		name   string
		method string
		body   []byte
		sig    func() (string, string)
		want   int
	}{
		{"forged signature", "POST", body, func() (string, string) { return sign(forger, body, now) }, 401},
		{"tampered body", "POST", bytes.Replace(body, []byte("about"), []byte("abovt"), 1), good, 401},
		{"no signature", "POST", body, func() (string, string) { _, ts := good(); return "", ts }, 401},
		{"no timestamp", "POST", body, func() (string, string) { s, _ := good(); return s, "" }, 401},
		{"signature not hex", "POST", body, func() (string, string) { _, ts := good(); return "zz", ts }, 401},
		{"stale, signed 6 minutes ago", "POST", body, func() (string, string) { return sign(testKey, body, now.Add(-6*time.Minute)) }, 401},
		{"from the future", "POST", body, func() (string, string) { return sign(testKey, body, now.Add(10*time.Minute)) }, 401},
		{"timestamp not a number", "POST", body, func() (string, string) {
			ts := "yesterday"
			return hexSig(ed25519.Sign(testKey, append([]byte(ts), body...))), ts
		}, 401},
		{"too large", "POST", append(body, bytes.Repeat([]byte(" "), DefaultMaxBody)...), good, 413},
		{"GET", "GET", nil, good, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, ts := tt.sig()
			req, _ := http.NewRequest(tt.method, h.srv.URL+InteractionsPath, bytes.NewReader(tt.body))
			if sig != "" {
				req.Header.Set("X-Signature-Ed25519", sig)
			}
			if ts != "" {
				req.Header.Set("X-Signature-Timestamp", ts)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	// Nothing refused reached Discord, and a good request still works.
	if calls, _ := h.fake.snapshot(); len(calls) != 0 {
		t.Errorf("refused requests made REST calls: %+v", calls)
	}
	if cb := h.interact(h.slash(cmdAbout)); cb.Type != 4 {
		t.Errorf("a good request after refused ones: type %d", cb.Type)
	}
}

func hexSig(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestReplayedInteractionIsNotAnsweredTwice(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	body, _ := json.Marshal(h.slash(cmdAbout))
	sig, ts := sign(testKey, body, time.Now())
	first := h.post(body, sig, ts)
	first.Body.Close()
	again := h.post(body, sig, ts)
	again.Body.Close()
	if first.StatusCode != 200 || again.StatusCode != http.StatusConflict {
		t.Errorf("statuses %d then %d, want 200 then 409", first.StatusCode, again.StatusCode)
	}
}

func TestAskAnswersTheHeadlineQuestion(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	cb := h.interact(h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion)))
	if cb.Type != 4 {
		t.Fatalf("type %d, want 4 (an answer at once)", cb.Type)
	}
	m := cb.message(t)
	if len(m.Embeds) == 0 {
		t.Fatalf("no embed: %s", cb.Data)
	}
	e := m.Embeds[0]
	if e.Title != headlineQuestion {
		t.Errorf("title %q", e.Title)
	}
	for _, want := range []string{"A100", "H800", "⚠️ **disputed**", "suspect"} {
		if !strings.Contains(e.Description, want) {
			t.Errorf("the answer lacks %q:\n%s", want, e.Description)
		}
	}
	if len(e.Fields) == 0 || e.Fields[0].Name != "Sources" || !strings.Contains(e.Fields[0].Value, "article") {
		t.Errorf("no sources field: %+v", e.Fields)
	}
	ids := customIDs(m)
	if !slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, idAsk) }) {
		t.Errorf("no follow-up buttons: %v", ids)
	}
	if !slices.Contains(ids, idHelpful+"deepseek-gpus") || !slices.Contains(ids, idUnhelpful+"deepseek-gpus") {
		t.Errorf("no 👍/👎 buttons: %v", ids)
	}
}

func customIDs(m wireMessage) []string {
	var ids []string
	for _, row := range m.Components {
		for _, b := range row.Components {
			ids = append(ids, b.CustomID)
		}
	}
	return ids
}

func TestExplainAndAbout(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	m := h.interact(h.slash(cmdExplain, strOpt(optTopic, "H800"))).message(t)
	if e := m.Embeds[0]; e.Title != "H800" || !strings.Contains(e.Description, "export") {
		t.Errorf("/explain H800: %q\n%s", e.Title, e.Description)
	}
	m = h.interact(h.slash(cmdAbout)).message(t)
	if e := m.Embeds[0]; !strings.HasPrefix(e.Title, "I explain ") || len(e.Fields) < 2 || len(customIDs(m)) == 0 {
		t.Errorf("/about: %+v", e)
	}
}

func TestAutocomplete(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	tests := []struct {
		cmd, opt, typed string
		want            string // a choice that must be offered
	}{
		{cmdAsk, optQuestion, "did deepseek really use fewer gpu", "Did DeepSeek really use fewer GPUs?"},
		{cmdAsk, optQuestion, "deepsek gpus", "Did DeepSeek really use fewer GPUs?"}, // a typo
		{cmdAsk, optQuestion, "", ""}, // featured questions
		{cmdExplain, optTopic, "h8", "H800"},
		{cmdExplain, optTopic, "jevons", "Jevons paradox"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+tt.typed, func(t *testing.T) {
			var lat []time.Duration
			var names []string
			for range 21 {
				start := time.Now()
				cb := h.interact(h.autocomplete(tt.cmd, tt.opt, tt.typed))
				lat = append(lat, time.Since(start))
				if cb.Type != 8 {
					t.Fatalf("type %d, want 8", cb.Type)
				}
				var d struct {
					Choices []struct{ Name, Value string }
				}
				json.Unmarshal(cb.Data, &d)
				names = names[:0]
				for _, c := range d.Choices {
					names = append(names, c.Name)
				}
			}
			if len(names) == 0 || len(names) > 25 {
				t.Fatalf("%d choices, want 1..25", len(names))
			}
			if tt.want != "" && !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, tt.want) }) {
				t.Errorf("%q not among the choices %q", tt.want, names)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			median := lat[len(lat)/2]
			t.Logf("autocomplete %q: %d choices, median %v, max %v", tt.typed, len(names), median, lat[len(lat)-1])
			if limit := 50 * time.Millisecond; median > limit && !raceEnabled {
				t.Errorf("autocomplete median %v, want under %v", median, limit)
			}
		})
	}
}

func TestFollowupButtonAsksItsQuestion(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	answer := h.interact(h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion)))
	var followup string
	for _, id := range customIDs(answer.message(t)) {
		if strings.HasPrefix(id, idAsk) && strings.Contains(id, "H800") {
			followup = id
		}
	}
	if followup == "" {
		t.Fatalf("no H800 follow-up among %v", customIDs(answer.message(t)))
	}
	cb := h.interact(h.click(followup, answer.Data))
	if cb.Type != 4 {
		t.Fatalf("type %d, want 4: a new message with the answer", cb.Type)
	}
	m := cb.message(t)
	if m.Flags&64 != 0 {
		t.Error("the follow-up's answer is ephemeral; everyone should see it")
	}
	e := m.Embeds[0]
	if e.Title != strings.TrimPrefix(followup, idAsk) || !strings.Contains(e.Description, "H800") {
		t.Errorf("follow-up answered %q:\n%s", e.Title, e.Description)
	}
}

func TestThumbsUpIsRecorded(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	answer := h.interact(h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion)))
	cb := h.interact(h.click(idHelpful+"deepseek-gpus", answer.Data))
	m := cb.message(t)
	if cb.Type != 4 || m.Flags&64 == 0 || !strings.Contains(m.Content, "👍") {
		t.Errorf("ack: type %d flags %d %q; want an ephemeral thanks", cb.Type, m.Flags, m.Content)
	}
	got := h.feedback.all()
	if len(got) != 1 {
		t.Fatalf("recorded %d feedbacks, want 1", len(got))
	}
	f := got[0]
	if !f.Helpful || f.Question != headlineQuestion || !slices.Equal(f.Entries, []string{"deepseek-gpus"}) ||
		f.User != testUser || f.Channel != testChannel || f.Platform != bot.PlatformDiscord || f.At.IsZero() {
		t.Errorf("recorded %+v", f)
	}

	h.feedback.err = errors.New("disk full")
	m = h.interact(h.click(idUnhelpful+"deepseek-gpus", answer.Data)).message(t)
	if m.Flags&64 == 0 || !strings.Contains(m.Content, "couldn't record") {
		t.Errorf("a failed record is not admitted: %q", m.Content)
	}
}

func TestSlowAnswerIsDeferredThenEdited(t *testing.T) {
	release := make(chan struct{})
	eng := engine(t)
	asker := fakeAsker{Asker: eng, ask: func(ctx context.Context, q bot.Question) (bot.Answer, error) {
		<-release
		return eng.Ask(ctx, q)
	}}
	h := newHarness(t, harnessOptions{http: true, asker: asker, config: func(c *Config) { c.DeferAfter = 20 * time.Millisecond }})
	stop := h.run()
	// The first edit is rate limited: it must still arrive.
	h.fake.rateLimit("PATCH /webhooks/", 1, 0.05)

	i := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
	cb := h.interact(i)
	if cb.Type != 5 {
		t.Fatalf("type %d, want 5 (deferred)", cb.Type)
	}
	// Discord knows the interaction once it has its response.
	h.fake.mu.Lock()
	h.fake.acked[i["token"].(string)] = true
	h.fake.mu.Unlock()
	close(release)

	path := "/webhooks/" + h.fake.appID + "/" + i["token"].(string) + "/messages/@original"
	edits := h.fake.waitFor(1, is("PATCH", path))
	var m wireMessage
	json.Unmarshal(edits[0].Body, &m)
	if len(m.Embeds) == 0 || !strings.Contains(m.Embeds[0].Description, "A100") {
		t.Errorf("edit does not carry the answer: %s", edits[0].Body)
	}
	stop()
	_, refused := h.fake.snapshot()
	if len(refused) != 1 || refused[0].Status != 429 {
		t.Errorf("refused calls %+v, want the one 429", refused)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	eng := engine(t)
	asker := fakeAsker{Asker: eng, ask: func(context.Context, bot.Question) (bot.Answer, error) {
		panic("engine bug")
	}}
	h := newHarness(t, harnessOptions{http: true, asker: asker})
	m := h.interact(h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))).message(t)
	if m.Flags&64 == 0 || !strings.Contains(m.Content, "went wrong") {
		t.Errorf("after a panic: %+v", m)
	}
	if !strings.Contains(h.logs.String(), "panic") {
		t.Error("the panic was not logged")
	}
	if cb := h.interact(h.slash(cmdAbout)); cb.Type != 4 {
		t.Error("the endpoint stopped answering after a panic")
	}
}

func TestTwoHundredInteractionsAtOnceOverHTTP(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	stop := h.run()
	const n = 200
	questions := []string{headlineQuestion, "What is the H800?", "What is CUDA?", "Is DeepSeek bad news for Nvidia?"}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	types := make([]int, n)
	titles := make([]string, n)
	tokens := make([]string, n)
	for k := range n {
		i := h.slash(cmdAsk, strOpt(optQuestion, questions[k%len(questions)]))
		tokens[k] = i["token"].(string)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cb, err := h.tryInteract(i)
			if err != nil {
				errs <- err
				return
			}
			types[k] = cb.Type
			if cb.Type == 4 {
				var m wireMessage
				json.Unmarshal(cb.Data, &m)
				if len(m.Embeds) > 0 {
					titles[k] = m.Embeds[0].Title
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Under load an answer may be deferred (type 5) and edited in: each
	// interaction gets exactly one of the two.
	deferred := 0
	for _, typ := range types {
		if typ == 5 {
			deferred++
		}
	}
	h.fake.waitFor(deferred, is("PATCH", "/webhooks/"))
	stop()
	calls, _ := h.fake.snapshot()
	for k, typ := range types {
		edits := count(calls, is("PATCH", "/webhooks/"+h.fake.appID+"/"+tokens[k]+"/"))
		switch {
		case typ == 4 && edits == 0 && titles[k] == questions[k%len(questions)]:
		case typ == 5 && edits == 1:
		default:
			t.Errorf("interaction %d: response type %d, %d edits, title %q", k, typ, edits, titles[k])
		}
	}
	t.Logf("%d of %d answered at once, %d deferred then edited", n-deferred, n, deferred)
}

func TestBodyIsNotReadPastTheCap(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true, config: func(c *Config) { c.MaxBody = 1024 }})
	body := bytes.Repeat([]byte("x"), 1<<20)
	sig, ts := sign(testKey, body, time.Now())
	resp := h.post(body, sig, ts)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

func TestLongAnswerContinuesInFollowUpMessages(t *testing.T) {
	eng := engine(t)
	asker := fakeAsker{Asker: eng, ask: func(context.Context, bot.Question) (bot.Answer, error) { return oversized(), nil }}
	h := newHarness(t, harnessOptions{http: true, asker: asker})
	stop := h.run()
	i := h.slash(cmdAsk, strOpt(optQuestion, "why?"))
	cb := h.interact(i)
	if cb.Type != 4 {
		t.Fatalf("type %d, want 4", cb.Type)
	}
	want := len(renderAnswer("why?", oversized(), renderOptions{feedback: true})) - 1
	path := "/webhooks/" + h.fake.appID + "/" + i["token"].(string)
	more := h.fake.waitFor(want, func(c restCall) bool { return c.Method == "POST" && c.Path == path })
	stop()
	if want < 1 || len(more) != want {
		t.Fatalf("%d follow-up messages, want %d", len(more), want)
	}
	var m wireMessage
	json.Unmarshal(more[len(more)-1].Body, &m)
	if !strings.Contains(m.Embeds[0].Description, "more points.") {
		t.Errorf("the last message does not count what was left out")
	}
}

func TestTruncatedFollowupButtonAsksTheWholeQuestion(t *testing.T) {
	long := "Did DeepSeek really use fewer GPUs than the leading American laboratories that trained comparable models?"
	eng := engine(t)
	asked := make(chan string, 1)
	asker := fakeAsker{Asker: eng,
		ask: func(ctx context.Context, q bot.Question) (bot.Answer, error) {
			asked <- q.Text
			return eng.Ask(ctx, q)
		},
		suggest: func(_ context.Context, typed string, _ int) ([]string, error) {
			return []string{"What is the A100?", long}, nil
		},
	}
	h := newHarness(t, harnessOptions{http: true, asker: asker})
	id := questionID(long)
	if !strings.HasPrefix(id, idAskPrefix) || len(id) > maxCustomID {
		t.Fatalf("custom id %q", id)
	}
	answer := h.interact(h.slash(cmdAbout))
	m := h.interact(h.click(id, answer.Data)).message(t)
	if got := <-asked; got != long {
		t.Errorf("asked %q, want the whole question", got)
	}
	if m.Embeds[0].Title != long {
		t.Errorf("title %q", m.Embeds[0].Title)
	}
}
