package terminal

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/explainerbot/explainer/bot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// headline is the extractive answer to "did DeepSeek really use fewer
// GPUs?" as the engine gives it.
var headline = bot.Answer{
	Question: "did DeepSeek really use fewer GPUs?", Answered: true,
	Lead: "By DeepSeek's own account, yes: it says it used about 10,000 older Nvidia A100s plus export-compliant H800s, far less than leading US labs, but that figure is disputed.",
	Points: []bot.Point{
		{Text: "DeepSeek says it had access to about 10,000 of Nvidia's older A100 GPUs, bought before US export restrictions tightened.", By: "DeepSeek", Standing: bot.StandingDisputed},
		{Text: "DeepSeek also says it used Nvidia's H800, a less powerful chip designed to comply with US export rules.", By: "DeepSeek", Standing: bot.StandingDisputed},
		{Text: "These are DeepSeek's own figures; the article does not confirm them independently.", By: "the article", Standing: bot.StandingFact},
		{Text: "Some industry insiders, including Scale AI's CEO Alexandr Wang, suspect DeepSeek has far more advanced Nvidia chips than it has disclosed.", By: "Alexandr Wang (Scale AI) and other insiders", Standing: bot.StandingClaim},
	},
	Sources:    []bot.Source{{Entry: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Ref: "article, paragraph 2"}, {Entry: "deepseek-gpus", Title: "Did DeepSeek really use fewer GPUs?", Ref: "article, paragraph 7"}},
	Followups:  []string{"Does DeepSeek have more chips than it admits?", "What is the A100?", "What is the H800?"},
	Confidence: 1, Entries: []string{"deepseek-gpus"},
}

func fluent(a bot.Answer, lead string) bot.Answer {
	a.Lead, a.Fluent = lead, true
	return a
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name string
		a    bot.Answer
	}{
		{"extractive", headline},
		{"fluent", fluent(headline, "By DeepSeek's own account, it trained its models on about 10,000 older Nvidia A100 GPUs plus export-compliant H800 chips [p1][p2]. "+
			"The article does not confirm these figures [p3], and Scale AI's CEO Alexandr Wang suspects DeepSeek has far more advanced Nvidia chips than it has disclosed [p4].")},
		{"gap", bot.Answer{Question: "what did nvidia say?", Reason: bot.ReasonGap, Lead: "The article does not quote Nvidia's response.", Followups: []string{"Why did Nvidia stock fall?"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, tt.a); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("rendered:\n%s\nwant (%s):\n%s", b.String(), path, want)
			}
			for i, line := range strings.Split(b.String(), "\n") {
				if n := len([]rune(line)); n > Width {
					t.Errorf("line %d is %d columns, over %d: %q", i+1, n, Width, line)
				}
			}
		})
	}
}

// Every citation in a fluent lead leads to a point labelled with it.
func TestFluentCitationsCanBeFollowed(t *testing.T) {
	a := fluent(headline, "DeepSeek says it used about 10,000 A100s [p1] and H800s [p2]; the article does not confirm it [p3], and Alexandr Wang doubts it [p4].")
	var b bytes.Buffer
	if err := Render(&b, a); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for i, p := range a.Points {
		label := "  [" + bot.PointID(i) + "] " + strings.Fields(p.Text)[0]
		if !strings.Contains(out, label) {
			t.Errorf("no point labelled %q:\n%s", label, out)
		}
	}
	if strings.Contains(out, "•") {
		t.Errorf("a fluent answer's points are bullets, not labelled:\n%s", out)
	}
}
