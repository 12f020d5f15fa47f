package llm_test

import (
	"testing"

	"github.com/explainerbot/explainer/llm/llmtest"
)

// The fake OpenAI-compatible server is llmtest's, shared with the tests of
// the commands that use the summarizer; these names keep the tests short.
type (
	fakeOpenAI  = llmtest.Server
	wireRequest = llmtest.Request
)

func newFakeOpenAI(t testing.TB, answer llmtest.Handler) *fakeOpenAI { return llmtest.New(t, answer) }

var (
	says      = llmtest.Says
	fails     = llmtest.Fails
	hangs     = llmtest.Hangs
	writeJSON = llmtest.WriteJSON
	writeSSE  = llmtest.WriteSSE
	chunks    = llmtest.Chunks
)
