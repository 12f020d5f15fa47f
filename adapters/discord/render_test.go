package discord

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

	"github.com/explainerbot/explainer/bot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// headline is the answer to the headline question, as the engine gives it.
func headline() bot.Answer {
	return bot.Answer{
		Question: "did DeepSeek really use fewer GPUs?",
		Answered: true,
		Lead:     "By DeepSeek's own account, yes: it says it used about 10,000 older Nvidia A100s plus export-compliant H800s, far less than leading US labs, but that figure is disputed.",
		Points: []bot.Point{
			{Text: "DeepSeek says it had access to about 10,000 of Nvidia's older A100 GPUs, bought before US export restrictions tightened.", By: "DeepSeek", Standing: bot.StandingDisputed},
			{Text: "DeepSeek also says it used Nvidia's H800, a less powerful chip designed to comply with US export rules.", By: "DeepSeek", Standing: bot.StandingDisputed},
			{Text: "These are DeepSeek's own figures; the article does not confirm them independently.", By: "the article", Standing: bot.StandingFact},
			{Text: "Some industry insiders, including Scale AI's CEO Alexandr Wang, suspect DeepSeek has far more advanced Nvidia chips than it has disclosed.", By: "Alexandr Wang (Scale AI) and other insiders", Standing: bot.StandingClaim},
		},
		Sources: []bot.Source{
			{Entry: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Ref: "article, paragraph 2"},
			{Entry: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Ref: "article, paragraph 7"},
		},
		Followups:  []string{"Does DeepSeek have more chips than it admits?", "What is the A100?", "What is the H800?"},
		Confidence: 1,
		Entries:    []string{"deepseek-gpus"},
	}
}

// oversized breaks every limit it can: a huge lead, many long points,
// long names, many sources, too many and too long follow-ups.
func oversized() bot.Answer {
	word := func(w string, n int) string { return strings.TrimSpace(strings.Repeat(w+" ", n)) }
	a := bot.Answer{
		Question: word("why", 400),
		Answered: true,
		Lead:     word("lead_*text*", 600),
		Entries:  []string{"entry-one-with-a-long-identifier", "entry-two-with-a-long-identifier", "entry-three-with-a-long-identifier"},
	}
	for i := range 12 {
		a.Points = append(a.Points, bot.Point{Text: word("point", 400), By: word("Someone", 60), Standing: []string{bot.StandingDisputed, bot.StandingFact, bot.StandingOpinion}[i%3]})
	}
	for i := range 60 {
		a.Sources = append(a.Sources, bot.Source{Entry: "e", Ref: "article, paragraph " + strings.Repeat("9", i%5+1) + word(" x", i)})
	}
	a.Followups = []string{"What is the A100?", "What is the A100?", word("very long question", 20) + "?", "One?", "Two?", "Three?", "Four?", "Five?"}
	return a
}

func TestRenderGolden(t *testing.T) {
	declined := bot.Answer{
		Question: "what is the weather in Paris tomorrow?", Answered: false, Reason: bot.ReasonLive,
		Lead:      "I don't have live data such as today's prices or news; I only know the DeepSeek shock to Nvidia as my sources reported it.",
		Followups: []string{"When did DeepSeek get its A100s?", "Is DeepSeek bad news for Nvidia?"},
	}
	gap := bot.Answer{
		Question: "who is nvidia's ceo", Answered: false, Reason: bot.ReasonGap,
		Lead:      "The article does not name or quote company leaders.",
		Followups: []string{"Who is Alexandr Wang?"},
		Entries:   []string{"company-leaders"},
	}
	about := bot.About{
		Name:     "the DeepSeek shock to Nvidia",
		Summary:  "In January 2025 Nvidia lost about $600 billion in market value after DeepSeek released its V3 and R1 models.",
		Sources:  []string{"DeepSeek Caused a $600 Billion Freakout (the article)"},
		Featured: []string{"Did DeepSeek really use fewer GPUs?", "Is DeepSeek bad news for Nvidia?", "What are export controls?"},
		Entries:  42,
	}
	tests := []struct {
		name string
		msgs []message
	}{
		{"headline", renderAnswer("did DeepSeek really use fewer GPUs?", headline(), renderOptions{feedback: true})},
		{"headline-no-feedback", renderAnswer("did DeepSeek really use fewer GPUs?", headline(), renderOptions{})},
		{"declined", renderAnswer(declined.Question, declined, renderOptions{feedback: true})},
		{"gap", renderAnswer(gap.Question, gap, renderOptions{feedback: true})},
		{"about", []message{renderAbout(about)}},
		{"oversized", renderAnswer(oversized().Question, oversized(), renderOptions{feedback: true})},
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
				data, _ := json.Marshal(m)
				if err := checkMessage(data, true); err != nil {
					t.Errorf("message %d breaks Discord's limits: %v", i, err)
				}
			}
		})
	}
}

func TestRenderHeadlineMarksDoubt(t *testing.T) {
	m := renderAnswer("did DeepSeek really use fewer GPUs?", headline(), renderOptions{feedback: true})
	if len(m) != 1 {
		t.Fatalf("got %d messages, want 1", len(m))
	}
	e := m[0].Embeds[0]
	for _, want := range []string{"A100", "H800", "DeepSeek · ⚠️ **disputed**", "suspect", "*claim*"} {
		if !strings.Contains(e.Description, want) {
			t.Errorf("description lacks %q:\n%s", want, e.Description)
		}
	}
	if e.Color != colorDisputed {
		t.Errorf("colour %#x, want the disputed colour %#x", e.Color, colorDisputed)
	}
	if len(e.Fields) != 1 || e.Fields[0].Name != "Sources" || e.Fields[0].Value != "article, paragraph 2\narticle, paragraph 7" {
		t.Errorf("sources field = %+v", e.Fields)
	}
}

func TestRenderOversizedSplitsCleanly(t *testing.T) {
	a := oversized()
	msgs := renderAnswer(a.Question, a, renderOptions{feedback: true})
	if len(msgs) < 2 || len(msgs) > maxPages {
		t.Fatalf("got %d messages, want 2..%d", len(msgs), maxPages)
	}
	var all strings.Builder
	for i, m := range msgs {
		data, _ := json.Marshal(m)
		if err := checkMessage(data, true); err != nil {
			t.Errorf("message %d: %v", i, err)
		}
		for _, e := range m.Embeds {
			if !utf8.ValidString(e.Description) || !utf8.ValidString(e.Title) {
				t.Errorf("message %d: invalid UTF-8 after trimming", i)
			}
			all.WriteString(e.Description)
		}
		if i > 0 && m.Components != nil {
			t.Errorf("message %d has buttons; they belong on the first", i)
		}
	}
	text := all.String()
	if !strings.Contains(text, "more points.") {
		t.Errorf("left-out points are not counted:\n%s", text[len(text)-200:])
	}
	if strings.Contains(text, "lead_*") {
		t.Error("Markdown in the knowledge base's text is not escaped")
	}
	// Every point shown is shown whole or trimmed with an ellipsis, never
	// cut mid-word without one.
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "• ") && !strings.HasSuffix(line, "point") && !strings.HasSuffix(line, "…") {
			t.Errorf("point cut badly: ...%s", line[max(0, len(line)-40):])
		}
	}
	if title := msgs[0].Embeds[0].Title; units(title) > maxTitle || !strings.HasSuffix(title, "…") {
		t.Errorf("title not trimmed cleanly: %d units, %q...", units(title), title[:20])
	}
	// Follow-ups: duplicates dropped, at most 5, long ones still ask
	// through a custom id within 100 characters.
	row := msgs[0].Components[0]
	data, _ := json.Marshal(row)
	var r struct {
		Components []struct {
			Label    string `json:"label"`
			CustomID string `json:"custom_id"`
		} `json:"components"`
	}
	json.Unmarshal(data, &r)
	if len(r.Components) != maxRowButtons {
		t.Fatalf("%d follow-up buttons, want %d", len(r.Components), maxRowButtons)
	}
	if r.Components[1].CustomID != idAskPrefix+cutBytes(a.Followups[2], maxCustomID-len(idAskPrefix)) {
		t.Errorf("long follow-up custom id = %q", r.Components[1].CustomID)
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"one two three four five", 12, "one two…"},
		{"supercalifragilistic", 10, "supercali…"},
		{"👍👍👍👍👍", 7, "👍👍👍…"}, // 👍 counts 2, as in UTF-16
		{`ends with escape \*`, 18, "ends with escape…"},
		{`x\*yz`, 3, "x…"}, // never half an escape
		{"", 5, ""},
	}
	for _, tt := range tests {
		got := fit(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if units(got) > tt.n {
			t.Errorf("fit(%q, %d) is %d units long", tt.in, tt.n, units(got))
		}
	}
}

func TestChoices(t *testing.T) {
	var texts []string
	for i := range 40 {
		texts = append(texts, fmt.Sprintf("%02d", i)+strings.Repeat("q", 90+i))
	}
	texts = append([]string{"same", "same", "  "}, texts...)
	got := choices(texts)
	if len(got) != maxChoices {
		t.Fatalf("%d choices, want %d", len(got), maxChoices)
	}
	if got[0].Name != "same" || got[1].Name == "same" {
		t.Errorf("duplicates or blanks kept: %q, %q", got[0].Name, got[1].Name)
	}
	for _, c := range got {
		if units(c.Name) > maxChoiceText || units(c.Value.(string)) > maxChoiceText {
			t.Errorf("choice over 100 characters: %q", c.Name)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "a_b*c~d`e|f\\g", "**bold** _it_"} {
		if got := unescape(escape(s)); got != s {
			t.Errorf("unescape(escape(%q)) = %q", s, got)
		}
	}
}
