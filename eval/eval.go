// Package eval scores the bot on labelled questions: answerable ones must be
// answered with every expected group of words present, the others declined.
package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/explainerbot/explainer/bot"
)

// Case is one labelled question, as in questions.jsonl.
type Case struct {
	Q          string     `json:"q"`
	Answerable bool       `json:"answerable"`
	Expect     [][]string `json:"expect,omitempty"`
	Line       int        `json:"-"`
}

// Read parses JSON lines of cases. Blank lines are skipped; a bad line is an
// error naming its line number.
func Read(r io.Reader) ([]Case, error) {
	var out []Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c Case
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if strings.TrimSpace(c.Q) == "" {
			return nil, fmt.Errorf("line %d: empty \"q\"", n)
		}
		c.Line = n
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("no cases")
	}
	return out, nil
}

// Asker answers questions.
type Asker interface {
	Ask(ctx context.Context, q bot.Question) (bot.Answer, error)
}

// Miss is a case the bot got wrong.
type Miss struct {
	Case    Case
	Answer  bot.Answer
	Missing [][]string // expected groups absent from the answer
}

// Report is the outcome of a run.
type Report struct {
	Total, Passed              int
	Answerable, AnswerablePass int
	Declinable, DeclinePass    int
	Misses                     []Miss
}

// Score is the share of cases passed.
func (r Report) Score() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Passed) / float64(r.Total)
}

func (r Report) String() string {
	return fmt.Sprintf("score %.3f (%d/%d): answerable %d/%d, unanswerable %d/%d",
		r.Score(), r.Passed, r.Total, r.AnswerablePass, r.Answerable, r.DeclinePass, r.Declinable)
}

// Run asks every case and scores the answers.
func Run(ctx context.Context, a Asker, cases []Case) (Report, error) {
	var r Report
	for _, c := range cases {
		ans, err := a.Ask(ctx, bot.Question{Text: c.Q, Platform: bot.PlatformCLI})
		if err != nil {
			return r, fmt.Errorf("line %d: %w", c.Line, err)
		}
		r.Total++
		ok, missing := Check(c, ans)
		if c.Answerable {
			r.Answerable++
		} else {
			r.Declinable++
		}
		if ok {
			r.Passed++
			if c.Answerable {
				r.AnswerablePass++
			} else {
				r.DeclinePass++
			}
			continue
		}
		r.Misses = append(r.Misses, Miss{Case: c, Answer: ans, Missing: missing})
	}
	return r, nil
}

// Check scores one answer: an answerable case needs an answer holding one
// string of every expected group (case-insensitive); any other case needs a
// decline.
func Check(c Case, a bot.Answer) (bool, [][]string) {
	if !c.Answerable {
		return !a.Answered, nil
	}
	if !a.Answered {
		return false, c.Expect
	}
	text := strings.ToLower(a.Text)
	var missing [][]string
	for _, group := range c.Expect {
		found := false
		for _, s := range group {
			if strings.Contains(text, strings.ToLower(s)) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, group)
		}
	}
	return len(missing) == 0, missing
}
