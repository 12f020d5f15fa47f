package discord

import (
	"sort"
	"strings"
	"testing"
	"time"
)

// reportLatency reports the median and 99th percentile of lat in ms.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkInteractionHTTP is /ask of the headline question over the HTTP
// endpoint, signed, with the real engine: from request to response.
func BenchmarkInteractionHTTP(b *testing.B) {
	h := newHarness(b, harnessOptions{http: true})
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		i := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
		start := time.Now()
		cb := h.interact(i)
		lat = append(lat, time.Since(start))
		if cb.Type != 4 {
			b.Fatalf("type %d", cb.Type)
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkInteractionGateway is /ask of the headline question dispatched
// over the gateway: from the dispatch to the response's arrival at the
// REST API.
func BenchmarkInteractionGateway(b *testing.B) {
	h := newHarness(b, harnessOptions{gateway: true})
	stop := h.run()
	defer stop()
	h.fake.connected(1)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for n := range b.N {
		i := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
		start := time.Now()
		h.fake.dispatch("INTERACTION_CREATE", i)
		h.fake.waitFor(n+1, is("POST", "/interactions/"))
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkAutocompleteHTTP is /ask autocomplete, with a typo, over the
// HTTP endpoint.
func BenchmarkAutocompleteHTTP(b *testing.B) {
	h := newHarness(b, harnessOptions{http: true})
	lat := make([]time.Duration, 0, b.N)
	typed := []string{"deepsek gpus", "did deepseek really", "export contr", "jevons", "what is cuda"}
	b.ResetTimer()
	for n := range b.N {
		i := h.autocomplete(cmdAsk, optQuestion, typed[n%len(typed)])
		start := time.Now()
		cb := h.interact(i)
		lat = append(lat, time.Since(start))
		if cb.Type != 8 {
			b.Fatalf("type %d", cb.Type)
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkSuggest is the engine's part of autocomplete alone.
func BenchmarkSuggest(b *testing.B) {
	eng := engine(b)
	ctx := b.Context()
	for range b.N {
		if _, err := eng.Suggest(ctx, "deepsek gpus", maxChoices); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderAnswer(b *testing.B) {
	a := headline()
	b.ReportAllocs()
	for range b.N {
		m := renderAnswer(a.Question, a, renderOptions{feedback: true})
		if !strings.Contains(m[0].Embeds[0].Description, "A100") {
			b.Fatal("bad render")
		}
	}
}
