package slack

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// MemoryEvents remembers which events have been seen, in memory: at most
// size ids, each for ttl. It is the de-duplication used when no store is
// given, and the fast path in front of one. It is safe for concurrent use.
type MemoryEvents struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	seen *simplelru.LRU[string, time.Time]
}

// Defaults for NewMemoryEvents: Slack retries an event for about an hour at
// most, so ids are kept a little longer than that.
const (
	DefaultSeenSize = 100_000
	DefaultSeenTTL  = 2 * time.Hour
)

// NewMemoryEvents returns an empty event memory. Non-positive arguments
// take the defaults.
func NewMemoryEvents(size int, ttl time.Duration) *MemoryEvents {
	if size <= 0 {
		size = DefaultSeenSize
	}
	if ttl <= 0 {
		ttl = DefaultSeenTTL
	}
	l, err := simplelru.NewLRU[string, time.Time](size, nil)
	if err != nil {
		panic(err) // only for a non-positive size, excluded above
	}
	return &MemoryEvents{ttl: ttl, now: time.Now, seen: l}
}

// FirstSeen reports whether id (from source) is seen for the first time,
// and remembers it. It never fails; the error is there to match stores.
func (m *MemoryEvents) FirstSeen(_ context.Context, source, id string) (bool, error) {
	key := source + "\x00" + id
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if at, ok := m.seen.Peek(key); ok && now.Sub(at) < m.ttl {
		return false, nil
	}
	m.seen.Add(key, now)
	return true, nil
}

// Len is how many ids are remembered (expired ones included until evicted).
func (m *MemoryEvents) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen.Len()
}

// tracker counts jobs in flight and tells when there are none.
type tracker struct {
	mu   sync.Mutex
	n    int
	done chan struct{} // closed when n drops to 0
}

// add counts a job in unless limit are already in flight (limit <= 0: no
// limit).
func (t *tracker) add(limit int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if limit > 0 && t.n >= limit {
		return false
	}
	if t.n == 0 {
		t.done = make(chan struct{})
	}
	t.n++
	return true
}

func (t *tracker) finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 {
		close(t.done)
	}
}

// idle returns a channel closed once no job is in flight.
func (t *tracker) idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return t.done
}

func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}
