package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// channelMessageEdit is Discord's edit of a message: only one the bot
// created, in that channel.
func (f *fakeDiscord) channelMessageEdit(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.mu.Lock()
	channel, ok := f.posted[r.PathValue("msg")]
	f.mu.Unlock()
	if !ok || channel != r.PathValue("id") {
		f.refuse(w, r, body, 404, `{"code":10008,"message":"Unknown Message"}`)
		return
	}
	if err := checkMessage(body, false); err != nil {
		f.t.Errorf("message edit breaks Discord's rules: %v\n%s", err, body)
		f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
		return
	}
	var m map[string]json.RawMessage
	json.Unmarshal(body, &m)
	if _, ok := m["message_reference"]; ok {
		f.t.Errorf("an edit carries a message reference: %s", body)
	}
	f.accept(w, r, body, http.StatusOK, map[string]any{"id": r.PathValue("msg"), "channel_id": channel, "type": 0})
}

// streamer is the real engine with AskStream run by the test.
type streamer struct {
	fakeAsker
	stream func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error)
}

func (s streamer) AskStream(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
	return s.stream(ctx, q, partial)
}

const (
	sentence1 = "By DeepSeek's own account, it trained its models on about 10,000 older Nvidia A100 GPUs plus export-compliant H800 chips [p1][p2]."
	sentence2 = " The article does not confirm these figures [p3], and Scale AI's CEO Alexandr Wang suspects DeepSeek has far more advanced Nvidia chips than it has disclosed [p4]."
)

func fluentHeadline() bot.Answer {
	a := headline()
	a.Lead, a.Fluent = sentence1+sentence2, true
	return a
}

// wire is m as it goes over the wire.
func wire(t *testing.T, m any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON reports whether got, as sent, is the JSON of m.
func sameJSON(t *testing.T, got []byte, m any) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(wire(t, m)), &b); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(a, b)
}

// wait holds a scripted answer until the test lets it go on, or has
// ended (quit is closed by a cleanup that runs before the harness stops).
func wait(step, quit <-chan struct{}) {
	select {
	case <-step:
	case <-quit:
	}
}

func TestRenderGrowingAndFluent(t *testing.T) {
	g := renderGrowing(headlineQuestion, sentence1)
	if data := wire(t, g); checkMessage([]byte(data), true) != nil || !strings.Contains(g.Embeds[0].Description, "[p1][p2]. …") || g.Embeds[0].Footer.Text != growingNote || len(g.Components) != 0 {
		t.Errorf("growing message %s", data)
	}
	d := renderAnswer(headlineQuestion, fluentHeadline(), renderOptions{feedback: true})[0].Embeds[0].Description
	for _, id := range []string{"p1", "p2", "p3", "p4"} {
		if !strings.Contains(d, "**["+id+"]** ") {
			t.Errorf("no point labelled [%s]:\n%s", id, d)
		}
	}
	if strings.Contains(d, "• ") {
		t.Errorf("a fluent answer's points are bullets:\n%s", d)
	}
}

// An interaction's answer shows from its first checked sentence, its
// original response is edited as it grows, and the final embed, buttons
// and all, replaces it.
func TestInteractionAnswerGrowsInPlace(t *testing.T) {
	proceed, quit := make(chan struct{}), make(chan struct{})
	final := fluentHeadline()
	asker := streamer{fakeAsker: fakeAsker{Asker: engine(t)}, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		partial(sentence1)
		wait(proceed, quit)
		partial(sentence1 + sentence2)
		wait(proceed, quit)
		return final, nil
	}}
	h := newHarness(t, harnessOptions{http: true, asker: asker, config: func(c *Config) {
		c.DeferAfter = time.Minute // the first sentence, not the deferral, starts the reply
		c.StreamInterval = time.Millisecond
	}})
	h.run()
	t.Cleanup(func() { close(quit) })
	i := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
	cb := h.interact(i)
	if cb.Type != 4 || !sameJSON(t, cb.Data, renderGrowing(headlineQuestion, sentence1)) {
		t.Fatalf("first response type %d %s, want the first sentence", cb.Type, cb.Data)
	}
	path := "/webhooks/" + h.fake.appID + "/" + i["token"].(string) + "/messages/@original"
	proceed <- struct{}{}
	edits := h.fake.waitFor(1, is("PATCH", path))
	if !sameJSON(t, edits[0].Body, renderGrowing(headlineQuestion, sentence1+sentence2)) {
		t.Fatalf("first edit %s, want both sentences", edits[0].Body)
	}
	proceed <- struct{}{}
	edits = h.fake.waitFor(2, is("PATCH", path))
	want := renderAnswer(headlineQuestion, final, renderOptions{feedback: true})
	if !sameJSON(t, edits[1].Body, whole(want[0])) {
		t.Fatalf("last edit %s\nwant the final answer %s", edits[1].Body, wire(t, want[0]))
	}
	var m wireMessage
	json.Unmarshal(edits[1].Body, &m)
	if len(m.Components) == 0 || m.Embeds[0].Footer != nil {
		t.Errorf("the final answer lacks its buttons or keeps the writing note: %s", edits[1].Body)
	}
}

// A deferred interaction (nothing written within DeferAfter) is edited as
// the answer grows, then replaced by it.
func TestDeferredInteractionGrows(t *testing.T) {
	start, proceed, quit := make(chan struct{}), make(chan struct{}), make(chan struct{})
	asker := streamer{fakeAsker: fakeAsker{Asker: engine(t)}, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		wait(start, quit)
		partial(sentence1)
		wait(proceed, quit)
		return fluentHeadline(), nil
	}}
	h := newHarness(t, harnessOptions{http: true, asker: asker, config: func(c *Config) {
		c.DeferAfter = 10 * time.Millisecond
		c.StreamInterval = time.Millisecond
	}})
	h.run()
	t.Cleanup(func() { close(quit) })
	i := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
	if cb := h.interact(i); cb.Type != 5 {
		t.Fatalf("type %d, want 5 (deferred)", cb.Type)
	}
	close(start)
	path := "/webhooks/" + h.fake.appID + "/" + i["token"].(string) + "/messages/@original"
	edits := h.fake.waitFor(1, is("PATCH", path))
	if !sameJSON(t, edits[0].Body, renderGrowing(headlineQuestion, sentence1)) {
		t.Fatalf("first edit %s, want the first sentence", edits[0].Body)
	}
	close(proceed)
	edits = h.fake.waitFor(2, is("PATCH", path))
	if want := renderAnswer(headlineQuestion, fluentHeadline(), renderOptions{feedback: true}); !sameJSON(t, edits[1].Body, whole(want[0])) {
		t.Fatalf("last edit %s, want the final answer", edits[1].Body)
	}
}

// The real engine with a model whose last sentence invents a number: the
// checked first sentence shows, then the extractive answer replaces it.
func TestRejectedFinalCheckReplacesTheGrowingAnswer(t *testing.T) {
	kb, err := knowledge.Default()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	shown, quit := make(chan struct{}), make(chan struct{})
	const invented = sentence1 + " It also had 50,000 H100s [p3]."
	var mu sync.Mutex
	var outcomes []bot.SummaryOutcome
	eng := bot.New(ix, bot.Options{
		Summarizer: summarizerFunc(func(ctx context.Context, partial func(string)) (string, error) {
			for n := 8; n < len(invented); n += 8 {
				partial(invented[:n])
			}
			wait(shown, quit) // the first sentence is on screen
			return invented, nil
		}),
		OnSummary: func(o bot.SummaryOutcome) {
			mu.Lock()
			defer mu.Unlock()
			outcomes = append(outcomes, o)
		},
	})
	extractive, err := bot.New(ix, bot.Options{}).Ask(context.Background(), bot.Question{Text: headlineQuestion})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{http: true, asker: eng, config: func(c *Config) {
		c.DeferAfter = time.Minute
		c.StreamInterval = time.Millisecond
	}})
	h.run()
	t.Cleanup(func() { close(quit) })
	i := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
	cb := h.interact(i)
	if cb.Type != 4 || !sameJSON(t, cb.Data, renderGrowing(headlineQuestion, sentence1)) {
		t.Fatalf("first response %d %s, want only the checked first sentence", cb.Type, cb.Data)
	}
	close(shown)
	path := "/webhooks/" + h.fake.appID + "/" + i["token"].(string) + "/messages/@original"
	edit := h.fake.waitFor(1, is("PATCH", path))[0]
	want := renderAnswer(headlineQuestion, extractive, renderOptions{feedback: true})
	if !sameJSON(t, edit.Body, whole(want[0])) || strings.Contains(string(edit.Body), "50,000") {
		t.Fatalf("final edit %s\nwant the extractive answer %s", edit.Body, wire(t, want[0]))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 1 || outcomes[0].Result != bot.SummaryRejected || outcomes[0].Reason != bot.RuleNumber {
		t.Errorf("outcomes %+v, want one rejected for a number", outcomes)
	}
}

type summarizerFunc func(ctx context.Context, partial func(string)) (string, error)

func (f summarizerFunc) Summarize(ctx context.Context, _ bot.Brief, partial func(string)) (string, error) {
	if partial == nil {
		partial = func(string) {}
	}
	return f(ctx, partial)
}

// A mention's reply is posted from the first checked sentence, edited as
// the answer grows and replaced by the final embed.
func TestMentionReplyGrowsInPlace(t *testing.T) {
	proceed, quit := make(chan struct{}), make(chan struct{})
	final := fluentHeadline()
	asker := streamer{fakeAsker: fakeAsker{Asker: engine(t)}, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		partial(sentence1)
		wait(proceed, quit)
		partial(sentence1 + sentence2)
		wait(proceed, quit)
		return final, nil
	}}
	h := newHarness(t, harnessOptions{gateway: true, asker: asker, config: func(c *Config) { c.StreamInterval = time.Millisecond }})
	h.run()
	t.Cleanup(func() { close(quit) })
	h.fake.connected(1)
	msg := h.mention("<@"+h.fake.botID+"> "+headlineQuestion, true)
	h.fake.dispatch("MESSAGE_CREATE", msg)

	posted := h.fake.waitFor(1, is("POST", "/channels/"+testChannel+"/messages"))[0]
	var first struct {
		wireMessage
		Ref struct {
			MessageID string `json:"message_id"`
		} `json:"message_reference"`
	}
	json.Unmarshal(posted.Body, &first)
	if first.Ref.MessageID != msg["id"] || len(first.Embeds) != 1 || first.Embeds[0].Description != renderGrowing(headlineQuestion, sentence1).Embeds[0].Description {
		t.Fatalf("first reply %s, want the first sentence in reply to the mention", posted.Body)
	}
	edit := is("PATCH", "/channels/"+testChannel+"/messages/")
	proceed <- struct{}{}
	edits := h.fake.waitFor(1, edit)
	if !sameJSON(t, edits[0].Body, whole(renderGrowing(headlineQuestion, sentence1+sentence2))) {
		t.Fatalf("first edit %s, want both sentences", edits[0].Body)
	}
	proceed <- struct{}{}
	edits = h.fake.waitFor(2, edit)
	want := renderAnswer(headlineQuestion, final, renderOptions{feedback: true})[0]
	want.AllowedMentions = noPings()
	if !sameJSON(t, edits[1].Body, whole(want)) {
		t.Fatalf("last edit %s\nwant the final answer %s", edits[1].Body, wire(t, want))
	}
	if edits[0].Path != edits[1].Path {
		t.Errorf("edits of different messages: %s, %s", edits[0].Path, edits[1].Path)
	}
	calls, _ := h.fake.snapshot()
	n := 0
	for _, c := range calls {
		if is("POST", "/channels/")(c) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d messages posted, want 1", n)
	}
}

// An error after the reply began to show replaces it with an apology.
func TestGrowingMentionThatFailsIsReplaced(t *testing.T) {
	proceed, quit := make(chan struct{}), make(chan struct{})
	asker := streamer{fakeAsker: fakeAsker{Asker: engine(t)}, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		partial(sentence1)
		wait(proceed, quit)
		return bot.Answer{}, errors.New("search: index closed")
	}}
	h := newHarness(t, harnessOptions{gateway: true, asker: asker, config: func(c *Config) { c.StreamInterval = time.Millisecond }})
	h.run()
	t.Cleanup(func() { close(quit) })
	h.fake.connected(1)
	h.fake.dispatch("MESSAGE_CREATE", h.mention("<@"+h.fake.botID+"> "+headlineQuestion, true))
	h.fake.waitFor(1, is("POST", "/channels/"+testChannel+"/messages"))
	proceed <- struct{}{}
	edit := h.fake.waitFor(1, is("PATCH", "/channels/"+testChannel+"/messages/"))[0]
	// An edit changes only what it names: the growing embed must be named
	// to go.
	var m map[string]json.RawMessage
	json.Unmarshal(edit.Body, &m)
	if !strings.Contains(string(m["content"]), msgFailed) || string(m["embeds"]) != "[]" {
		t.Errorf("edit %s, want the apology alone, the embed removed", edit.Body)
	}
}

func TestRenderStreamGolden(t *testing.T) {
	tests := []struct {
		name string
		msgs []message
	}{
		{"headline-fluent", renderAnswer(headlineQuestion, fluentHeadline(), renderOptions{feedback: true})},
		{"growing", []message{renderGrowing(headlineQuestion, sentence1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tt.msgs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered %s differs from %s (go test -update to accept):\n%s", tt.name, path, got)
			}
			for i, m := range tt.msgs {
				if err := checkMessage([]byte(wire(t, m)), true); err != nil {
					t.Errorf("message %d breaks Discord's limits: %v", i, err)
				}
			}
		})
	}
}
