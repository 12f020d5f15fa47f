package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// kbFlags are the flags of every command that loads the knowledge base.
type kbFlags struct {
	dir         string
	minCoverage float64
}

func (k *kbFlags) register(fs *flag.FlagSet, e env) {
	fs.StringVar(&k.dir, "kb", e.get("EXPLAINER_KB"), "load the knowledge base from this `folder` instead of the built-in one (env EXPLAINER_KB)")
	fs.Float64Var(&k.minCoverage, "min-coverage", 0, "share of a question the KB must cover to answer (default from the engine)")
}

// load reads and indexes the knowledge base.
func (k *kbFlags) load() (*knowledge.Index, error) {
	return knowledge.Open(k.dir)
}

func (k *kbFlags) engine(ix *knowledge.Index) *bot.Engine {
	return bot.New(ix, bot.Options{MinCoverage: k.minCoverage})
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, usage string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: explainer %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses flags and positional arguments in any order.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, exitError{0}
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// parseOnlyFlags parses the flags of a command that takes no arguments.
func parseOnlyFlags(fs *flag.FlagSet, args []string) error {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	return nil
}
