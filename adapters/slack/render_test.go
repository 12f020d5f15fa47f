package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/explainerbot/explainer/bot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// headline is the answer the engine gives to "did DeepSeek really use fewer GPUs?".
var headline = bot.Answer{
	Question: "did DeepSeek really use fewer GPUs?",
	Answered: true,
	Lead:     "By DeepSeek's own account, yes: it says it used about 10,000 older Nvidia A100s plus export-compliant H800s, far less than leading US labs, but that figure is disputed.",
	Points: []bot.Point{
		{Text: "DeepSeek says it had access to about 10,000 of Nvidia's older A100 GPUs, bought before US export restrictions tightened.", By: "DeepSeek", Standing: bot.StandingDisputed},
		{Text: "DeepSeek also says it used Nvidia's H800, a less powerful chip designed to comply with US export rules.", By: "DeepSeek", Standing: bot.StandingDisputed},
		{Text: "These are DeepSeek's own figures; the article does not confirm them independently.", By: "the article", Standing: bot.StandingFact},
		{Text: "Some industry insiders, including Scale AI's CEO Alexandr Wang, suspect DeepSeek has far more advanced Nvidia chips than it has disclosed.", By: "Alexandr Wang (Scale AI) and other insiders", Standing: bot.StandingClaim},
		{Text: "An H800 is an Nvidia data-center GPU with its chip-to-chip bandwidth cut to meet US rules <2023>.", By: "explainer glossary", Standing: bot.StandingBackground},
	},
	Sources: []bot.Source{
		{Entry: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Ref: "article, paragraph 2"},
		{Entry: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Ref: "article, paragraph 7"},
	},
	Followups:  []string{"Does DeepSeek have more chips than it admits?", "What is the A100?", "What is the H800?"},
	Confidence: 1,
	Entries:    []string{"deepseek-gpus"},
}

func TestRenderGolden(t *testing.T) {
	notCovered := bot.Answer{Question: "what's the weather?", Answered: false, Reason: bot.ReasonNotCovered,
		Lead: "I don't know that: my knowledge base doesn't cover it. I can talk about the DeepSeek shock to Nvidia.", Points: []bot.Point{}, Sources: []bot.Source{},
		Followups: []string{"Why did Nvidia's stock fall?", "What is DeepSeek?"}}
	gap := bot.Answer{Question: "how much did R1 cost to train?", Answered: false, Reason: bot.ReasonGap,
		Lead: "The article doesn't give R1's training cost.", Followups: []string{"Did DeepSeek really use fewer GPUs?"}, Entries: []string{"r1-cost-gap"}}
	about := bot.About{Name: "the DeepSeek shock to Nvidia", Summary: "Why Nvidia lost about $600 billion in a day in January 2025, and what it means for chips & export controls.",
		Sources:  []string{"DeepSeek Caused a $600 Billion Freakout: But Is It Really a Threat to Nvidia and U.S. Export Controls?"},
		Featured: []string{"Why did Nvidia's stock fall?", "Did DeepSeek really use fewer GPUs?", "What is the Jevons paradox?"}, Entries: 37}
	cases := []struct {
		name string
		msgs []Message
	}{
		{"answer", renderAnswer(headline, renderOptions{})},
		{"answer_private", renderAnswer(headline, renderOptions{share: "KEY123"})},
		{"answer_asked_by_button", renderAnswer(headline, renderOptions{askedBy: "U0BEN"})},
		{"answer_shared", renderAnswer(headline, renderOptions{sharedBy: "U0ANA"})},
		{"decline_not_covered", renderAnswer(notCovered, renderOptions{share: "KEY124"})},
		{"decline_gap", renderAnswer(gap, renderOptions{})},
		{"help", renderHelp(about, "/explain", "U0BOT")},
		{"long_answer", renderAnswer(longAnswer(3, 2000), renderOptions{share: "KEY125"})},
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
}

func marshalMessages(t *testing.T, msgs []Message) []byte {
	t.Helper()
	type wire struct {
		Text   string           `json:"text"`
		Blocks []slackapi.Block `json:"blocks"`
	}
	var out []wire
	for _, m := range msgs {
		out = append(out, wire(m))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// longAnswer has n points of about size characters each, and a long lead.
func longAnswer(n, size int) bot.Answer {
	a := bot.Answer{Question: "tell me everything", Answered: true, Entries: []string{"e1", "e2"}}
	a.Lead = strings.TrimSpace(strings.Repeat("The lead goes on & on <and on>. ", 150))
	for i := range n {
		standing := []string{bot.StandingFact, bot.StandingDisputed, bot.StandingClaim}[i%3]
		a.Points = append(a.Points, bot.Point{Text: fmt.Sprintf("Point %d: %s", i, strings.Repeat("word ", size/5)), By: "source " + fmt.Sprint(i), Standing: standing})
		a.Sources = append(a.Sources, bot.Source{Entry: "e1", Ref: fmt.Sprintf("article, paragraph %d", i)})
	}
	for i := range 3 + n/2 {
		a.Followups = append(a.Followups, fmt.Sprintf("Follow-up question number %d that is long enough to need cutting on a button label?", i))
	}
	return a
}

// checkLimits checks messages against Slack's Block Kit limits.
func checkLimits(t *testing.T, msgs []Message) {
	t.Helper()
	if len(msgs) == 0 {
		t.Fatal("no messages")
	}
	for i, m := range msgs {
		if len(m.Blocks) == 0 || len(m.Blocks) > maxBlocks {
			t.Errorf("message %d: %d blocks", i, len(m.Blocks))
		}
		if m.Text == "" || textLen(m.Text) > maxSectionText {
			t.Errorf("message %d: fallback text of %d characters", i, textLen(m.Text))
		}
		ids := map[string]bool{}
		for _, b := range m.Blocks {
			switch b := b.(type) {
			case *slackapi.SectionBlock:
				if n := textLen(b.Text.Text); n == 0 || n > maxSectionText {
					t.Errorf("message %d: section of %d characters", i, n)
				}
			case *slackapi.ContextBlock:
				if n := len(b.ContextElements.Elements); n == 0 || n > maxContextElems {
					t.Errorf("message %d: context of %d elements", i, n)
				}
				for _, e := range b.ContextElements.Elements {
					if n := textLen(e.(*slackapi.TextBlockObject).Text); n > maxSectionText {
						t.Errorf("message %d: context text of %d characters", i, n)
					}
				}
			case *slackapi.ActionBlock:
				if n := len(b.Elements.ElementSet); n == 0 || n > maxActionElems {
					t.Errorf("message %d: actions of %d elements", i, n)
				}
				actions := map[string]bool{}
				for _, e := range b.Elements.ElementSet {
					btn := e.(*slackapi.ButtonBlockElement)
					if n := utf8.RuneCountInString(btn.Text.Text); n > maxButtonText {
						t.Errorf("message %d: button text of %d characters", i, n)
					}
					if n := len(btn.Value); n > maxButtonValue {
						t.Errorf("message %d: button value of %d bytes", i, n)
					}
					if actions[btn.ActionID] {
						t.Errorf("message %d: action id %q twice in a block", i, btn.ActionID)
					}
					actions[btn.ActionID] = true
				}
			}
			if id := blockID(b); id != "" {
				if ids[id] {
					t.Errorf("message %d: block id %q twice", i, id)
				}
				ids[id] = true
			}
		}
	}
}

func blockID(b slackapi.Block) string {
	switch b := b.(type) {
	case *slackapi.SectionBlock:
		return b.BlockID
	case *slackapi.ContextBlock:
		return b.BlockID
	case *slackapi.ActionBlock:
		return b.BlockID
	}
	return ""
}

func TestLongAnswerKeepsEverythingInOrder(t *testing.T) {
	a := longAnswer(60, 2000)
	msgs := renderAnswer(a, renderOptions{})
	if len(msgs) < 2 {
		t.Fatalf("%d messages, want the answer split", len(msgs))
	}
	checkLimits(t, msgs)
	var all strings.Builder
	for _, m := range msgs {
		for _, b := range m.Blocks {
			if s, ok := b.(*slackapi.SectionBlock); ok {
				all.WriteString(s.Text.Text + " ")
			}
		}
	}
	text := strings.Join(strings.Fields(all.String()), " ")
	if !strings.Contains(text, strings.Join(strings.Fields(esc(a.Lead)), " ")) {
		t.Error("the lead is not all there, in order")
	}
	last := -1
	for i, p := range a.Points {
		at := strings.Index(text, "• "+esc(strings.Join(strings.Fields(p.Text), " ")))
		if at < 0 || at < last {
			t.Fatalf("point %d missing or out of order", i)
		}
		last = at
	}
	// The buttons come last, on the last message.
	lastMsg := msgs[len(msgs)-1].Blocks
	if ab, ok := lastMsg[len(lastMsg)-1].(*slackapi.ActionBlock); !ok || ab.BlockID != "feedback" {
		t.Error("the feedback buttons are not the last block")
	}
	if msgs[1].Text != "(continued)" {
		t.Errorf("second message's text %q", msgs[1].Text)
	}
}

func TestSplitText(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"fits", "short text", 20, []string{"short text"}},
		{"at a word", "alpha beta gamma", 11, []string{"alpha beta", "gamma"}},
		{"at a paragraph", "one two\n\nthree four", 15, []string{"one two", "three four"}},
		{"at a line", "one two\nthree", 10, []string{"one two", "three"}},
		{"no break", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"not inside an entity", "abc&amp;def", 6, []string{"abc", "&amp;d", "ef"}},
		{"emoji count double", "😀😀😀", 4, []string{"😀😀", "😀"}},
		{"empty", "", 10, []string{""}},
	}
	for _, c := range cases {
		got := splitText(c.in, c.limit)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: splitText(%q, %d) = %q, want %q", c.name, c.in, c.limit, got, c.want)
		}
		for _, p := range got {
			if textLen(p) > c.limit {
				t.Errorf("%s: part %q over the limit", c.name, p)
			}
		}
	}
}

func TestButtonValuesFit(t *testing.T) {
	q := strings.Repeat("é", 3000)
	v := fitValue(q, func(q string) any { return voteValue{Q: q, E: []string{"a", "b"}} })
	if len(v) > maxButtonValue {
		t.Fatalf("value of %d bytes", len(v))
	}
	var back voteValue
	if err := json.Unmarshal([]byte(v), &back); err != nil || !strings.HasPrefix(q, back.Q) || len(back.E) != 2 || len(back.Q) < 1000 {
		t.Errorf("value %q does not decode to a prefix of the question: %v", v, err)
	}
}

func TestDisputedPointsAreMarked(t *testing.T) {
	s := string(marshalMessages(t, renderAnswer(headline, renderOptions{})))
	if n := strings.Count(s, ":warning: *disputed*"); n != 2 {
		t.Errorf("%d disputed marks, want 2", n)
	}
	for _, want := range []string{"_— DeepSeek_", "_— Alexandr Wang (Scale AI) and other insiders_ · claim", "background, not from the article", "article, paragraph 2 · article, paragraph 7", "&lt;2023&gt;"} {
		if !strings.Contains(s, want) {
			t.Errorf("rendered answer lacks %q", want)
		}
	}
}
