package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/explainerbot/explainer/adapters/terminal"
	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/config"
	"github.com/explainerbot/explainer/knowledge"
	"github.com/explainerbot/explainer/llm"
)

func runAsk(ctx context.Context, c cli) error {
	fs := newFlagSet("ask", `ask [--json] [--kb DIR] "question"
       explainer ask --json < questions.txt   (one question a line, one JSON object a line)`, c.stderr)
	asJSON := fs.Bool("json", false, "print the answer as one JSON object")
	why := fs.Bool("why", false, "also print how the question was searched: its terms, their weights, the entries found")
	var k kbFlags
	k.register(fs, c.env)
	args, err := parseFlags(fs, c.args)
	if err != nil {
		return err
	}
	question := strings.TrimSpace(strings.Join(args, " "))
	if question == "" && (!*asJSON || len(args) > 0) {
		return usagef(`no question: explainer ask "did DeepSeek really use fewer GPUs?"`)
	}
	ix, err := k.load()
	if err != nil {
		return err
	}
	defer ix.Close()
	opts, err := summaryOptions(c)
	if err != nil {
		return err
	}
	opts.MinCoverage = k.minCoverage
	eng := bot.New(ix, opts)

	if question == "" {
		return askLines(ctx, eng, c)
	}
	a, err := eng.Ask(ctx, bot.Question{Text: question, Platform: bot.PlatformCLI})
	if err != nil {
		return err
	}
	if *why {
		if err := printSearch(ctx, c, ix, question); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(a)
	}
	return terminal.Render(c.stdout, a)
}

// askLines answers one question a line from stdin, writing one JSON object
// a line, flushed as it goes.
func askLines(ctx context.Context, eng *bot.Engine, c cli) error {
	sc := bufio.NewScanner(c.stdin)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	w := bufio.NewWriter(c.stdout)
	enc := json.NewEncoder(w)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		a, err := eng.Ask(ctx, bot.Question{Text: line, Platform: bot.PlatformCLI})
		if err != nil {
			return err
		}
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("write answer: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write answer: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read questions: %w", err)
	}
	return nil
}

// summaryOptions sets up the LLM summarizer when the LLM settings ask for
// one (LLM_BASE_URL, LLM_MODEL...). Only those settings, and LOG_*, are
// read: a half-configured Slack or Discord must not stop ask.
func summaryOptions(c cli) (bot.Options, error) {
	environ := make(map[string]string)
	for _, name := range config.Variables() {
		if strings.HasPrefix(name, "LLM_") || strings.HasPrefix(name, "LOG_") || name == "OPENAI_API_KEY" {
			if v, ok := c.env.lookup(name); ok {
				environ[name] = v
			}
		}
	}
	cfg, err := config.Load(environ)
	if err != nil {
		return bot.Options{}, err
	}
	if !cfg.LLMEnabled() {
		return bot.Options{}, nil
	}
	log := newLogger(cfg, c.stderr)
	s, err := llm.New(llm.FromSettings(cfg), log)
	if err != nil {
		return bot.Options{}, err
	}
	return bot.Options{Summarizer: s, Logger: log}, nil
}

// printSearch shows curators why a question was answered or declined.
func printSearch(ctx context.Context, c cli, ix *knowledge.Index, question string) error {
	res, err := ix.Search(ctx, bot.Normalize(question), 8)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "searched: %s\nterms:", res.Query)
	for _, t := range res.Terms {
		note := ""
		switch {
		case t.Typo != "":
			note = " typed " + t.Typo
		case t.Everyday:
			note = " everyday"
		case !t.Known:
			note = " unknown"
		}
		fmt.Fprintf(c.stdout, " %s(%.2f%s)", t.Term, t.Weight, note)
	}
	fmt.Fprintln(c.stdout)
	for _, h := range res.Hits {
		fmt.Fprintf(c.stdout, "  %-28s score %6.2f  coverage %.2f\n", h.Entry.ID, h.Score, h.Coverage)
	}
	fmt.Fprintln(c.stdout)
	return nil
}
