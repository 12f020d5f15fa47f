package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

func runKB(ctx context.Context, c cli) error {
	if len(c.args) == 0 {
		return usagef("want a subcommand: lint [DIR], list, show ID, gaps [--since 7d]")
	}
	sub, c2 := c.args[0], c
	c2.args = c.args[1:]
	switch sub {
	case "lint":
		return runKBLint(ctx, c2)
	case "list":
		return runKBList(ctx, c2)
	case "show":
		return runKBShow(ctx, c2)
	case "gaps":
		return runKBGaps(ctx, c2)
	}
	return usagef("unknown subcommand %q: want lint, list, show or gaps", sub)
}

// runKBLint checks a knowledge base and prints every problem with its file
// and line. It fails when there is any.
func runKBLint(ctx context.Context, c cli) error {
	fs := newFlagSet("kb lint", "kb lint [DIR]   (default: the built-in knowledge base, or EXPLAINER_KB)", c.stderr)
	var k kbFlags
	k.register(fs, c.env)
	args, err := parseFlags(fs, c.args)
	if err != nil {
		return err
	}
	if len(args) > 1 {
		return usagef("lint takes one folder, got %d", len(args))
	}
	if len(args) == 1 {
		k.dir = args[0]
	}
	ix, err := k.load()
	var pe *knowledge.ProblemsError
	if errors.As(err, &pe) {
		for _, p := range pe.Problems {
			fmt.Fprintln(c.stdout, p)
		}
		fmt.Fprintf(c.stdout, "%d problem(s)\n", len(pe.Problems))
		return exitError{1}
	}
	if err != nil {
		return err
	}
	defer ix.Close()
	problems, err := knowledge.Lint(ctx, ix)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(c.stdout, p)
	}
	kb := ix.KB()
	if len(problems) > 0 {
		fmt.Fprintf(c.stdout, "%d problem(s) in %d entries\n", len(problems), len(kb.Entries()))
		return exitError{1}
	}
	questions := 0
	for _, e := range kb.Entries() {
		questions += len(e.Questions)
	}
	fmt.Fprintf(c.stdout, "ok: %d entries, %d example questions, %d synonym groups, %d entities\n",
		len(kb.Entries()), questions, len(kb.Vocabulary().Synonyms), len(kb.Vocabulary().Entities))
	return nil
}

func runKBList(_ context.Context, c cli) error {
	fs := newFlagSet("kb list", "kb list [--kb DIR]", c.stderr)
	var k kbFlags
	k.register(fs, c.env)
	if _, err := parseFlags(fs, c.args); err != nil {
		return err
	}
	ix, err := k.load()
	if err != nil {
		return err
	}
	defer ix.Close()
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTITLE")
	for _, e := range ix.KB().Entries() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.ID, e.Kind, e.Title)
	}
	return tw.Flush()
}

func runKBShow(_ context.Context, c cli) error {
	fs := newFlagSet("kb show", "kb show [--kb DIR] ID", c.stderr)
	var k kbFlags
	k.register(fs, c.env)
	args, err := parseFlags(fs, c.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("show takes one entry id")
	}
	ix, err := k.load()
	if err != nil {
		return err
	}
	defer ix.Close()
	kb := ix.KB()
	e, ok := kb.Entry(args[0])
	if !ok {
		return fmt.Errorf("no entry %q (see explainer kb list)", args[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  [%s]  %s\n", e.ID, e.Kind, e.File)
	fmt.Fprintf(&b, "%s\n\n%s\n", e.Title, e.Lead)
	if e.Body != "" {
		fmt.Fprintf(&b, "\n%s\n", e.Body)
	}
	if len(e.Points) > 0 {
		b.WriteString("\nPoints:\n")
		for _, p := range e.Points {
			bp := bot.Point{Text: p.Text, By: p.By, Standing: string(p.Standing)}
			fmt.Fprintf(&b, "  - %s\n    (%s) [%s]\n", p.Text, bp.Attribution(), kb.Cite(p.Source))
		}
	}
	b.WriteString("\nExample questions:\n")
	for _, q := range e.Questions {
		fmt.Fprintf(&b, "  - %s\n", q)
	}
	if len(e.Tags) > 0 {
		fmt.Fprintf(&b, "\nTags: %s\n", strings.Join(e.Tags, ", "))
	}
	if len(e.Related) > 0 {
		fmt.Fprintf(&b, "Related: %s\n", strings.Join(e.Related, ", "))
	}
	fmt.Fprintf(&b, "Reviewed: %s\n", e.Reviewed)
	_, err = fmt.Fprint(c.stdout, b.String())
	return err
}
