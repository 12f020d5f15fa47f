package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the built command with a clean environment plus environ.
func runBin(t *testing.T, bin string, environ []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, environ...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// answerJSON is the documented shape of `ask --json`.
type answerJSON struct {
	Question string `json:"question"`
	Answered *bool  `json:"answered"`
	Text     string `json:"text"`
	Lead     string `json:"lead"`
	Points   []struct {
		Text, By, Standing string
	} `json:"points"`
	Sources []struct {
		Entry, Title, Ref string
	} `json:"sources"`
	Followups  []string `json:"followups"`
	Confidence *float64 `json:"confidence"`
}

func decodeAnswer(t *testing.T, line string) answerJSON {
	t.Helper()
	var a answerJSON
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, line)
	}
	if a.Answered == nil || a.Confidence == nil || a.Points == nil || a.Sources == nil || a.Followups == nil {
		t.Fatalf("missing fields in %s", line)
	}
	return a
}

// The command line, end to end, on the built binary.
func TestCLI(t *testing.T) {
	bin := buildExplainer(t)
	const headline = "did DeepSeek really use fewer GPUs?"

	t.Run("ask prints a readable, sourced answer", func(t *testing.T) {
		out, _, code := runBin(t, bin, nil, "", "ask", headline)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		for _, want := range []string{"10,000", "A100", "H800", "DeepSeek; disputed", "Alexandr Wang", "Sources: article, paragraph", "Ask next:"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("ask --json prints one object", func(t *testing.T) {
		out, _, code := runBin(t, bin, nil, "", "ask", "--json", headline)
		if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Fatalf("exit %d, want one line:\n%s", code, out)
		}
		a := decodeAnswer(t, out)
		if !*a.Answered || a.Question != headline || len(a.Points) < 3 || len(a.Sources) == 0 || len(a.Followups) < 2 {
			t.Errorf("answer %+v", a)
		}
		for _, p := range a.Points {
			if p.Text == "" || p.By == "" || p.Standing == "" {
				t.Errorf("point without text, by or standing: %+v", p)
			}
		}
		if !strings.Contains(a.Text, a.Lead) || !strings.Contains(a.Text, "Sources:") {
			t.Errorf("text is not the whole answer: %q", a.Text)
		}
	})

	t.Run("ask --json reads questions from stdin in order", func(t *testing.T) {
		in := "What is the H800?\n\nwrite me a poem\nWho is Miles Brundage?\n"
		out, _, code := runBin(t, bin, nil, in, "ask", "--json")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		var lines []string
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 3 (blank lines skipped):\n%s", len(lines), out)
		}
		want := []struct {
			q        string
			answered bool
		}{{"What is the H800?", true}, {"write me a poem", false}, {"Who is Miles Brundage?", true}}
		for i, w := range want {
			a := decodeAnswer(t, lines[i])
			if a.Question != w.q || *a.Answered != w.answered {
				t.Errorf("line %d: %q answered=%v, want %q answered=%v", i+1, a.Question, *a.Answered, w.q, w.answered)
			}
		}
	})

	t.Run("bad input is a usage error or a polite decline", func(t *testing.T) {
		for _, args := range [][]string{{"ask"}, {"ask", ""}, {"ask", "   "}, {}, {"nope"}, {"ask", "--bogus", "x"}} {
			_, stderr, code := runBin(t, bin, nil, "", args...)
			if code != 2 {
				t.Errorf("%q: exit %d, want 2 (usage)", args, code)
			}
			if len(args) > 0 && stderr == "" {
				t.Errorf("%q: no message on stderr", args)
			}
		}
		for _, q := range []string{strings.Repeat("why did nvidia fall ", 500), "\x01\x02\xff\xfe junk", "🤖🔥💯", "¿Por qué cayó Nvidia después de DeepSeek?", "Почему упали акции Nvidia?"} {
			out, stderr, code := runBin(t, bin, nil, "", "ask", "--json", q)
			if code != 0 {
				t.Errorf("%.20q: exit %d: %s", q, code, stderr)
				continue
			}
			a := decodeAnswer(t, out)
			if *a.Answered || a.Text == "" || len(a.Followups) == 0 {
				t.Errorf("%.20q: want a polite decline with suggestions, got %+v", q, a)
			}
		}
	})

	t.Run("kb lint, list and show", func(t *testing.T) {
		out, _, code := runBin(t, bin, nil, "", "kb", "lint")
		if code != 0 || !strings.HasPrefix(out, "ok:") {
			t.Errorf("kb lint: exit %d\n%s", code, out)
		}
		out, _, code = runBin(t, bin, nil, "", "kb", "list")
		if code != 0 || !strings.Contains(out, "deepseek-gpus") || !strings.Contains(out, "gap") {
			t.Errorf("kb list: exit %d\n%s", code, out)
		}
		out, _, code = runBin(t, bin, nil, "", "kb", "show", "deepseek-gpus")
		if code != 0 || !strings.Contains(out, "Points:") || !strings.Contains(out, "article, paragraph 2") {
			t.Errorf("kb show: exit %d\n%s", code, out)
		}
		_, stderr, code := runBin(t, bin, nil, "", "kb", "show", "no-such-entry")
		if code != 1 || !strings.Contains(stderr, "no entry") {
			t.Errorf("kb show unknown: exit %d %s", code, stderr)
		}
	})

	t.Run("kb lint names the file and line of every problem", func(t *testing.T) {
		dir := writeKB(t, map[string]string{
			"entries/bad.md":  "---\nid: bad\ntitle: Bad\nkind: topic\nquestions: [a, b, c, d]\npoints:\n  - text: x\n    by: y\n    standing: rumour\n    source: article#1\nreviewed: 2026-11-28\n---\nLead.\n",
			"entries/ugly.md": "---\nid: ugly\ntitle: [unclosed\n---\nLead.\n",
		})
		out, _, code := runBin(t, bin, nil, "", "kb", "lint", dir)
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s", code, out)
		}
		for _, want := range []string{filepath.Join(dir, "entries/bad.md") + ":9:", `standing "rumour"`, filepath.Join(dir, "entries/ugly.md") + ":"} {
			if !strings.Contains(out, want) {
				t.Errorf("lint output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("a KB folder replaces the built-in one", func(t *testing.T) {
		dir := writeKB(t, map[string]string{"entries/tea.md": teaEntry})
		for _, env := range [][]string{nil, {"EXPLAINER_KB=" + dir}} {
			args := []string{"ask", "--json", "how do you brew green tea?"}
			if env == nil {
				args = append([]string{"ask", "--kb", dir}, args[1:]...)
			}
			out, stderr, code := runBin(t, bin, env, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if a := decodeAnswer(t, out); !*a.Answered || !strings.Contains(a.Text, "80") {
				t.Errorf("custom KB not used: %+v", a)
			}
		}
	})

	t.Run("eval scores a file of labelled questions", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "q.jsonl")
		os.WriteFile(f, []byte(`{"q": "How many A100s does DeepSeek say it has?", "answerable": true, "expect": [["10,000"]]}
{"q": "What's the capital of France?", "answerable": false}
{"q": "What is the H800?", "answerable": true, "expect": [["a word no answer has"]]}
`), 0o644)
		out, _, code := runBin(t, bin, nil, "", "eval", f)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		if !strings.Contains(out, "score 0.667 (2/3)") || !strings.Contains(out, "MISS line 3") {
			t.Errorf("eval output:\n%s", out)
		}
		_, _, code = runBin(t, bin, nil, "", "eval", filepath.Join(t.TempDir(), "missing.jsonl"))
		if code != 1 {
			t.Errorf("missing file: exit %d, want 1", code)
		}
	})
}

const teaEntry = `---
id: tea
title: How do you brew green tea?
kind: topic
questions:
  - how do you brew green tea
  - green tea water temperature
  - how hot should the water be for green tea
  - best way to make green tea
points:
  - text: Use water at about 80 degrees Celsius, not boiling.
    by: the guide
    standing: fact
    source: guide#1
reviewed: 2026-11-28
---
Brew green tea with water at about 80 degrees, for two to three minutes.
`

// writeKB writes a knowledge base folder with one source document and the
// given files.
func writeKB(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["sources.yaml"] = "documents:\n  - id: guide\n    title: A tea guide\n    paragraphs:\n      1: water\n  - id: article\n    title: An article\n    paragraphs:\n      1: one\n"
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
