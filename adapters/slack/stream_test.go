package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// chatUpdate is Slack's chat.update: it edits a message the bot posted in
// that channel, and refuses a timestamp it does not know.
func (f *fakeSlack) chatUpdate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls["chat.update"]++
	n := f.calls["chat.update"]
	hook := f.postHook
	f.mu.Unlock()
	if r.PostForm.Get("token") != testBotToken {
		writeJSON200(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	if hook != nil && hook(w, "chat.update", n) {
		return
	}
	channel, ts := r.PostForm.Get("channel"), r.PostForm.Get("ts")
	var blocks json.RawMessage
	if b := r.PostForm.Get("blocks"); b != "" {
		if !json.Valid([]byte(b)) {
			writeJSON200(w, map[string]any{"ok": false, "error": "invalid_blocks"})
			return
		}
		blocks = unescapedJSON(b)
	}
	f.mu.Lock()
	known := false
	for _, p := range f.posts {
		known = known || (p.Method == "chat.postMessage" && p.Channel == channel && p.TS == ts)
	}
	if !known {
		f.mu.Unlock()
		writeJSON200(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	p := post{Method: "chat.update", Channel: channel, TS: ts, Text: r.PostForm.Get("text"), Blocks: string(blocks)}
	f.posts = append(f.posts, p)
	f.mu.Unlock()
	f.posted <- p
	writeJSON200(w, map[string]any{"ok": true, "channel": channel, "ts": ts, "text": p.Text})
}

// streamingAsker is fakeAsker with AskStream run by the test.
type streamingAsker struct {
	*fakeAsker
	stream func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error)
}

func (s streamingAsker) AskStream(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
	return s.stream(ctx, q, partial)
}

const (
	sentence1 = "By DeepSeek's own account, it trained its models on about 10,000 older Nvidia A100 GPUs plus export-compliant H800 chips [p1][p2]."
	sentence2 = " The article does not confirm these figures [p3], and Scale AI's CEO Alexandr Wang suspects DeepSeek has far more advanced Nvidia chips than it has disclosed [p4]."
)

func fluentHeadline() bot.Answer {
	a := headline
	a.Points = a.Points[:4]
	a.Lead, a.Fluent = sentence1+sentence2, true
	return a
}

// blocksJSON is messages' first blocks as the fake records them.
func blocksJSON(t *testing.T, m Message) string {
	t.Helper()
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(unescapedJSON(string(b)))
}

func TestRenderStreamGolden(t *testing.T) {
	cases := []struct {
		name string
		msgs []Message
	}{
		{"answer_fluent", renderAnswer(fluentHeadline(), renderOptions{})},
		{"answer_growing", []Message{renderGrowing(sentence1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkLimits(t, c.msgs)
			got := marshalMessages(t, c.msgs)
			path := filepath.Join("testdata", c.name+".golden.json")
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
				t.Errorf("%s differs from %s (run go test -update if the change is intended):\n%s", c.name, path, got)
			}
		})
	}
	// Every citation in the fluent lead names a labelled point.
	blocks := string(marshalMessages(t, renderAnswer(fluentHeadline(), renderOptions{})))
	for _, id := range []string{"p1", "p2", "p3", "p4"} {
		if !strings.Contains(blocks, "*["+id+"]* ") {
			t.Errorf("no point labelled [%s]", id)
		}
	}
}

// A fluent answer is posted from its first checked sentence, edited in
// place as it grows, and replaced by the final answer, buttons and all.
func TestAnswerGrowsInPlace(t *testing.T) {
	proceed := make(chan struct{})
	final := fluentHeadline()
	asker := streamingAsker{fakeAsker: &fakeAsker{}, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		partial(sentence1)
		<-proceed
		partial(sentence1 + sentence2)
		<-proceed
		return final, nil
	}}
	h := newHarness(t, harnessOpts{asker: asker, cfg: func(c *Config) { c.StreamInterval = time.Millisecond }})
	h.event(callback("EvG1", mention("C1", "UANA", "1700000600.000100", "", "<@UBOT> did DeepSeek really use fewer GPUs?")), nil)

	first := h.slack.next(t)
	if first.Method != "chat.postMessage" || first.ThreadTS != "1700000600.000100" || first.Blocks != blocksJSON(t, renderGrowing(sentence1)) {
		t.Fatalf("first message %+v, want the first sentence posted in the thread", first)
	}
	proceed <- struct{}{}
	grown := h.slack.next(t)
	if grown.Method != "chat.update" || grown.TS != first.TS || grown.Channel != "C1" || grown.Blocks != blocksJSON(t, renderGrowing(sentence1+sentence2)) {
		t.Fatalf("second call %+v, want the message edited to both sentences", grown)
	}
	proceed <- struct{}{}
	last := h.slack.next(t)
	want := renderAnswer(final, renderOptions{})
	if last.Method != "chat.update" || last.TS != first.TS || last.Blocks != blocksJSON(t, want[0]) || last.Text != want[0].Text {
		t.Fatalf("last call %+v\nwant the message replaced by the final answer %s", last, blocksJSON(t, want[0]))
	}
	h.idle()
	if n, u := h.slack.count("chat.postMessage"), h.slack.count("chat.update"); n != 1 || u != 2 {
		t.Errorf("%d messages posted and %d edits, want 1 and 2", n, u)
	}
	// The bot answers follow-ups in the thread it is growing an answer in.
	if !h.a.inThread("C1", "1700000600.000100") {
		t.Error("the bot did not join the thread")
	}
}

// Edits wait StreamInterval after the last one, and then show only the
// latest text: a burst of sentences costs no call, and the final answer
// still replaces the message at once.
func TestGrowingEditsAreThrottled(t *testing.T) {
	proceed := make(chan struct{})
	final := fluentHeadline()
	asker := streamingAsker{fakeAsker: &fakeAsker{}, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		partial(sentence1)
		<-proceed
		text := sentence1
		for range 20 {
			text += " More [p1]."
			partial(text)
		}
		return final, nil
	}}
	h := newHarness(t, harnessOpts{asker: asker, cfg: func(c *Config) { c.StreamInterval = time.Hour }})
	h.event(callback("EvG2", message("D1", "im", "UANA", "1700000601.000100", "", "did DeepSeek really use fewer GPUs?")), nil)
	first := h.slack.next(t)
	if first.Method != "chat.postMessage" || first.Channel != "D1" {
		t.Fatalf("first %+v", first)
	}
	proceed <- struct{}{}
	last := h.slack.next(t)
	if want := renderAnswer(final, renderOptions{}); last.Method != "chat.update" || last.Blocks != blocksJSON(t, want[0]) {
		t.Fatalf("after the burst: %+v, want the final answer", last)
	}
	h.idle()
	if u := h.slack.count("chat.update"); u != 1 {
		t.Errorf("%d edits, want only the final one", u)
	}
}

// The real engine with a model whose last sentence invents a number: its
// checked first sentence shows, then the extractive answer replaces it.
func TestRejectedFinalCheckShowsTheExtractiveAnswer(t *testing.T) {
	kb, err := knowledge.Default()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	shown := make(chan struct{})
	const invented = sentence1 + " It also had 50,000 H100s [p3]."
	model := &fakeSummarizer{write: func(ctx context.Context, partial func(string)) (string, error) {
		for i := 8; i < len(invented); i += 8 {
			partial(invented[:i])
		}
		partial(invented)
		select { // the test has seen the first sentence
		case <-shown:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return invented, nil
	}}
	var outcomes []bot.SummaryOutcome
	var mu sync.Mutex
	eng := bot.New(ix, bot.Options{Summarizer: model, OnSummary: func(o bot.SummaryOutcome) {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, o)
	}})
	extractive, err := bot.New(ix, bot.Options{}).Ask(context.Background(), bot.Question{Text: "did DeepSeek really use fewer GPUs?"})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOpts{asker: eng, cfg: func(c *Config) { c.StreamInterval = time.Millisecond }})
	h.event(callback("EvG3", mention("C1", "UANA", "1700000602.000100", "", "<@UBOT> did DeepSeek really use fewer GPUs?")), nil)

	first := h.slack.next(t)
	if first.Method != "chat.postMessage" || first.Blocks != blocksJSON(t, renderGrowing(sentence1)) {
		t.Fatalf("first %+v, want only the checked first sentence", first)
	}
	close(shown)
	last := h.slack.next(t)
	want := renderAnswer(extractive, renderOptions{})
	if last.Method != "chat.update" || last.TS != first.TS || last.Blocks != blocksJSON(t, want[0]) {
		t.Fatalf("last %+v\nwant the extractive answer in place of the growing one", last)
	}
	if strings.Contains(last.Blocks, "50,000") || strings.Contains(last.Blocks, "[p1]") {
		t.Errorf("the final message keeps the model's text: %s", last.Blocks)
	}
	h.idle()
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 1 || outcomes[0].Result != bot.SummaryRejected || outcomes[0].Reason != bot.RuleNumber {
		t.Errorf("outcomes %+v, want one rejected for a number", outcomes)
	}
}

// fakeSummarizer is a bot.Summarizer that streams what write says.
type fakeSummarizer struct {
	write func(ctx context.Context, partial func(string)) (string, error)
}

func (f *fakeSummarizer) Summarize(ctx context.Context, _ bot.Brief, partial func(string)) (string, error) {
	if partial == nil {
		partial = func(string) {}
	}
	return f.write(ctx, partial)
}

// An error after the answer began to show replaces it with an apology.
func TestGrowingAnswerThatFailsIsReplaced(t *testing.T) {
	proceed := make(chan struct{})
	asker := streamingAsker{fakeAsker: &fakeAsker{}, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		partial(sentence1)
		<-proceed
		return bot.Answer{}, errors.New("search: index closed")
	}}
	h := newHarness(t, harnessOpts{asker: asker, cfg: func(c *Config) { c.StreamInterval = time.Millisecond }})
	h.event(callback("EvG4", mention("C1", "UANA", "1700000603.000100", "", "<@UBOT> gpus?")), nil)
	first := h.slack.next(t)
	proceed <- struct{}{}
	last := h.slack.next(t)
	if last.Method != "chat.update" || last.TS != first.TS || last.Text != sorryText {
		t.Fatalf("last %+v, want the apology in place of the growing answer", last)
	}
}

// Private answers are never streamed: Slack cannot edit an ephemeral
// message, and a response URL takes five messages at most.
func TestPrivateAnswersAreNotStreamed(t *testing.T) {
	fake := &fakeAsker{}
	asker := streamingAsker{fakeAsker: fake, stream: func(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
		t.Error("AskStream called for a private answer")
		return fake.Ask(ctx, q)
	}}
	h := newHarness(t, harnessOpts{asker: asker, cfg: func(c *Config) { c.StreamInterval = time.Millisecond }})
	h.command(slashForm("what is cuda?", "C1", "UANA", h.slack.responseURLFor("g5"), "trigG5"))
	p := h.slack.next(t)
	h.idle()
	if p.Method != "response_url" || p.ResponseType != "ephemeral" || !strings.Contains(p.Blocks, "Answer to: what is cuda?") {
		t.Errorf("private answer %+v", p)
	}
	if n := h.slack.count("response_url"); n != 1 {
		t.Errorf("%d response URL calls, want 1", n)
	}
}
