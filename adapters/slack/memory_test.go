package slack

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestMemoryEvents(t *testing.T) {
	ctx := t.Context()
	m := NewMemoryEvents(3, time.Hour)
	now := time.Date(2025, 1, 27, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	first := func(source, id string) bool {
		ok, err := m.FirstSeen(ctx, source, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !first("slack:event", "Ev1") || first("slack:event", "Ev1") {
		t.Error("Ev1 not new then seen")
	}
	if !first("slack:message", "Ev1") {
		t.Error("sources are separate")
	}
	now = now.Add(2 * time.Hour)
	if !first("slack:event", "Ev1") {
		t.Error("an id past its TTL is not new again")
	}
	// Bounded: the oldest ids go first.
	first("slack:event", "Ev2")
	first("slack:event", "Ev3")
	if m.Len() != 3 {
		t.Errorf("holds %d ids, want 3", m.Len())
	}
	if !first("slack:message", "Ev1") {
		t.Error("the oldest id was not evicted")
	}
}

func TestMemoryEventsConcurrent(t *testing.T) {
	m := NewMemoryEvents(0, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := map[string]int{}
	for range 8 {
		wg.Go(func() {
			for i := range 500 {
				id := fmt.Sprint(i)
				if ok, _ := m.FirstSeen(t.Context(), "s", id); ok {
					mu.Lock()
					firsts[id]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i := range 500 {
		if n := firsts[fmt.Sprint(i)]; n != 1 {
			t.Fatalf("id %d first seen %d times", i, n)
		}
	}
}

func TestTracker(t *testing.T) {
	var tr tracker
	select {
	case <-tr.idle():
	default:
		t.Fatal("a new tracker is not idle")
	}
	for i, want := range []bool{true, true, false} {
		if got := tr.add(2); got != want {
			t.Fatalf("add %d: %v, want %v (limit 2)", i+1, got, want)
		}
	}
	idle := tr.idle()
	tr.finish()
	select {
	case <-idle:
		t.Fatal("idle with a job in flight")
	default:
	}
	tr.finish()
	<-idle
}

func BenchmarkMemoryEventsFirstSeen(b *testing.B) {
	m := NewMemoryEvents(0, 0)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprintf("Ev%08d", i)
	}
	b.ReportAllocs()
	for i := range b.N {
		m.FirstSeen(b.Context(), "slack:event", ids[i%len(ids)])
	}
}
