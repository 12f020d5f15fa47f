package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/eval"
)

func runEval(ctx context.Context, c cli) error {
	fs := newFlagSet("eval", "eval [--kb DIR] [--tune] FILE.jsonl", c.stderr)
	var k kbFlags
	k.register(fs, c.env)
	tune := fs.Bool("tune", false, "score every decline threshold (--min-coverage) instead of one run")
	args, err := parseFlags(fs, c.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("eval takes one file of labelled questions (JSON lines)")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	cases, err := eval.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	ix, err := k.load()
	if err != nil {
		return err
	}
	defer ix.Close()

	if *tune {
		fmt.Fprintln(c.stdout, "min-coverage  score   answerable  unanswerable")
		for t := 0.30; t < 0.951; t += 0.05 {
			r, err := eval.Run(ctx, bot.New(ix, bot.Options{MinCoverage: t}), cases)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%.2f          %.3f   %3d/%-3d     %3d/%-3d\n", t, r.Score(), r.AnswerablePass, r.Answerable, r.DeclinePass, r.Declinable)
		}
		return nil
	}

	r, err := eval.Run(ctx, k.engine(ix), cases)
	if err != nil {
		return err
	}
	for _, m := range r.Misses {
		switch {
		case !m.Case.Answerable:
			fmt.Fprintf(c.stdout, "MISS line %d: %q should be declined; answered from %s (confidence %.2f)\n",
				m.Case.Line, m.Case.Q, strings.Join(m.Answer.Entries, ", "), m.Answer.Confidence)
		case !m.Answer.Answered:
			fmt.Fprintf(c.stdout, "MISS line %d: %q was declined (%s, confidence %.2f)\n",
				m.Case.Line, m.Case.Q, m.Answer.Reason, m.Answer.Confidence)
		default:
			fmt.Fprintf(c.stdout, "MISS line %d: %q answered from %s without %v\n",
				m.Case.Line, m.Case.Q, strings.Join(m.Answer.Entries, ", "), m.Missing)
		}
	}
	fmt.Fprintln(c.stdout, r)
	return nil
}
