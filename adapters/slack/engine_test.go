package slack

import (
	"strings"
	"testing"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// TestHeadlineThroughTheRealEngine asks the story's headline question
// through the real engine and knowledge base.
func TestHeadlineThroughTheRealEngine(t *testing.T) {
	kb, err := knowledge.Default()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	h := newHarness(t, harnessOpts{asker: bot.New(ix, bot.Options{})})

	h.event(callback("EvE1", mention("C1", "UANA", "1700000401.000100", "", "<@UBOT> did DeepSeek really use fewer GPUs?")), nil)
	p := h.slack.next(t)
	if p.ThreadTS != "1700000401.000100" {
		t.Errorf("reply not in the thread: %+v", p)
	}
	for _, want := range []string{"A100", "H800", ":warning: *disputed*", "Sources: article, paragraph"} {
		if !strings.Contains(p.Blocks, want) {
			t.Errorf("reply lacks %q: %s", want, p.Blocks)
		}
	}
	// Its first follow-up button asks the engine in the same thread.
	h.click(blockAction("UBEN", "C1", p.TS, "1700000401.000100", false, "ask:0", buttonValue(t, p.Blocks, "ask:0"), h.slack.responseURLFor("e1"), "trigE1"))
	if f := h.slack.next(t); f.ThreadTS != "1700000401.000100" || !strings.Contains(f.Blocks, "<@UBEN> asked") {
		t.Errorf("follow-up %+v", f)
	}

	// /explain help lists what the real knowledge base knows.
	h.command(slashForm("help", "C1", "UANA", h.slack.responseURLFor("e2"), "trigE2"))
	help := h.slack.next(t)
	if !strings.Contains(help.Blocks, "I explain ") || !strings.Contains(help.Blocks, "ask:0") {
		t.Errorf("help %s", help.Blocks)
	}
}
