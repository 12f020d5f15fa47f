package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/explainerbot/explainer/digest"
)

// runKBGaps lists the questions the knowledge base served badly: declined,
// or answered and marked 👎, grouped by what they ask, most frequent first.
func runKBGaps(ctx context.Context, c cli) error {
	fset := newFlagSet("kb gaps", "kb gaps [--since 7d] [--all] [--limit N] [--json]", c.stderr)
	since := fset.String("since", "7d", "how far back to look: `age` in days (7d), weeks (2w) or a duration (36h)")
	all := fset.Bool("all", false, "also list declines the knowledge base cannot fix (tasks, advice, live prices, junk)")
	limit := fset.Int("limit", 30, "show at most `N` groups; 0 shows all")
	asJSON := fset.Bool("json", false, "print the groups as JSON")
	var s settingsFlags
	s.register(fset)
	if err := parseOnlyFlags(fset, c.args); err != nil {
		return err
	}
	age, err := parseAge(*since)
	if err != nil {
		return usagef("--since: %v", err)
	}
	if *limit < 0 {
		return usagef("--limit: must be 0 (all) or more")
	}
	cfg, err := s.load(c)
	if err != nil {
		return err
	}
	// A report reads the log; it does not create an empty database.
	if _, err := os.Stat(cfg.DBPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("database %s does not exist: nothing has been logged yet (set EXPLAINER_DB to the file explainer serve uses)", cfg.DBPath)
	}
	st, err := openStore(ctx, cfg, c)
	if err != nil {
		return err
	}
	defer st.Close()
	from := time.Now().Add(-age)
	items, err := st.Gaps(ctx, from, *all)
	if err != nil {
		return err
	}
	groups := digest.GroupGaps(items)
	if *asJSON {
		if *limit > 0 && len(groups) > *limit {
			groups = groups[:*limit]
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(groups)
	}
	return digest.WriteGaps(c.stdout, groups, from.In(cfg.Location()), *limit)
}

// parseAge reads 7d, 2w or a Go duration such as 36h.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("%q: want a positive number of days or weeks, such as 7d or 2w", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want an age such as 7d, 2w or 36h", s)
	}
	return d, nil
}
