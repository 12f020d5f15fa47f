package live

import (
	"context"
	"fmt"

	"github.com/explainerbot/explainer/knowledge"
)

// Load reads and indexes the knowledge base in dir (the built-in one when
// dir is empty), then lints it. A knowledge base that cannot be loaded is
// an error naming each problem's file and line; lint problems are returned
// as warnings beside a usable index.
func Load(ctx context.Context, dir string) (*knowledge.Index, []knowledge.Problem, error) {
	ix, err := knowledge.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	warnings, err := knowledge.Lint(ctx, ix)
	if err != nil {
		ix.Close()
		return nil, nil, fmt.Errorf("lint knowledge base: %w", err)
	}
	return ix, warnings, nil
}
