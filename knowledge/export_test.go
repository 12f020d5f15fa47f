package knowledge

import (
	"context"

	"github.com/blevesearch/bleve/v2"
)

// explain runs a raw bleve search with scoring explanations, for tests that
// prove which scoring model is on.
func (ix *Index) explain(ctx context.Context, text string) (*bleve.SearchResult, error) {
	q := bleve.NewMatchQuery(text)
	q.SetField(fieldText)
	req := bleve.NewSearchRequest(q)
	req.Explain = true
	return ix.bleve.SearchInContext(ctx, req)
}
