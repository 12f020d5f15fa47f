package httpapi

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time {
	if c.t.IsZero() {
		c.t = time.Date(2026, 1, 27, 9, 0, 0, 0, time.UTC)
	}
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) { c.t = c.Now().Add(d) }

func newTestLimiter(perSecond float64, burst int) (*Limiter, *fakeClock) {
	l := NewLimiter(perSecond, burst)
	c := &fakeClock{}
	l.now = c.Now
	return l, c
}

func TestLimiterBurstAndRetryAfter(t *testing.T) {
	l, clock := newTestLimiter(5, 3)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 200*time.Millisecond {
		t.Fatalf("4th request: ok=%v wait=%s, want refused with 200ms", ok, wait)
	}
	if got := retryAfterSeconds(wait); got != "1" {
		t.Errorf("Retry-After = %s, want 1 (rounded up)", got)
	}
	// A refused request does not use up allowance.
	clock.Advance(200 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after waiting Retry-After")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another client refused")
	}
	if got := retryAfterSeconds(2500 * time.Millisecond); got != "3" {
		t.Errorf("Retry-After for 2.5s = %s", got)
	}
}

func TestLimiterForgetsIdleClients(t *testing.T) {
	l, clock := newTestLimiter(10, 20) // a burst refills in 2 s
	for i := range 1000 {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := l.Clients(); n != 1000 {
		t.Fatalf("%d clients remembered, want 1000", n)
	}
	// Drain one client, then let the others go idle.
	for range 25 {
		l.Allow("busy")
	}
	clock.Advance(sweepEvery)
	l.Allow("busy")
	if n := l.Clients(); n != 1 {
		t.Fatalf("after a sweep %d clients remembered, want only the busy one", n)
	}
	// Forgetting an idle client loses nothing: it gets a full burst.
	for i := range 20 {
		if ok, _ := l.Allow("10.0.0.1"); !ok {
			t.Fatalf("returning client refused at request %d", i+1)
		}
	}
}

func TestLimiterCap(t *testing.T) {
	l, _ := newTestLimiter(1, 1)
	l.max = 100
	for i := range 1000 {
		l.Allow(fmt.Sprint(i))
		if n := l.Clients(); n > 100 {
			t.Fatalf("%d clients remembered, over the cap of 100", n)
		}
	}
}

func TestLimiterOff(t *testing.T) {
	l := NewLimiter(0, 20)
	if l != nil {
		t.Fatal("rate 0 should turn limiting off")
	}
	for range 1000 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatal("refused with limiting off")
		}
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:80", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:80", "2001:db8:1:3::/64"},
		{"pipe", "pipe"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if got := ClientKey(r); got != tt.want {
			t.Errorf("ClientKey(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}

func BenchmarkLimiter(b *testing.B) {
	l := NewLimiter(1e9, 1<<30)
	keys := make([]string, 256)
	for i := range keys {
		keys[i] = fmt.Sprintf("10.0.0.%d", i)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i&255])
			i++
		}
	})
}
