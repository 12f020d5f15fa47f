package digest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/store"
)

// textPoster is a digest.TextPoster over a fake channel history.
type textPoster struct {
	mu    sync.Mutex
	texts map[string]string // key -> text posted
	order []string
	fail  []error // errors for the next posts, in order
	tries int
}

func (p *textPoster) PostText(_ context.Context, channel, text, key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tries++
	if len(p.fail) > 0 {
		err := p.fail[0]
		p.fail = p.fail[1:]
		if err != nil {
			return err
		}
	}
	if p.texts == nil {
		p.texts = map[string]string{}
	}
	p.texts[channel+"|"+key] = text
	p.order = append(p.order, key)
	return nil
}

func (p *textPoster) Posted(_ context.Context, channel, key string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.texts[channel+"|"+key]
	return ok, nil
}

func (p *textPoster) posts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.order...)
}

type weeklyRig struct {
	clock  *clockwork.FakeClock
	store  *store.Store
	poster *textPoster
	report func(since, due time.Time) string
	since  []time.Time
	events []digest.Event
	mu     sync.Mutex
}

func (r *weeklyRig) weekly(t *testing.T) *digest.Weekly {
	t.Helper()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	w, err := digest.NewWeekly(digest.WeeklyConfig{
		Store: r.store, Poster: r.poster, Platform: "slack", Channel: "CCURATORS",
		Weekday: time.Monday, At: "09:00", Zone: berlin, Clock: r.clock, CatchUp: 3 * time.Hour,
		Report: func(_ context.Context, since, due time.Time) (string, error) {
			r.mu.Lock()
			r.since = append(r.since, since)
			r.mu.Unlock()
			return r.report(since, due), nil
		},
		Observe: func(e digest.Event) {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (r *weeklyRig) kinds() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return strings.Join(out, ",")
}

func newWeeklyRig(t *testing.T, start time.Time) *weeklyRig {
	t.Helper()
	clock := clockwork.NewFakeClockAt(start)
	st, err := store.Open(context.Background(), dbPath(t), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &weeklyRig{clock: clock, store: st, poster: &textPoster{}, report: func(time.Time, time.Time) string { return "3 declined" }}
}

// The report is due Mondays at 09:00 in Berlin (08:00 UTC in winter): it
// is posted once, with the week before as its period, and a restarted
// process does not post it again.
func TestWeeklyPostsOnceAWeek(t *testing.T) {
	ctx := context.Background()
	r := newWeeklyRig(t, utc("2025-01-27T07:59:00Z")) // Monday 08:59 in Berlin
	w := r.weekly(t)
	digest.Look(ctx, w)
	if got := r.poster.posts(); len(got) != 0 {
		t.Fatalf("posted before its time: %v", got)
	}
	if r.kinds() != digest.EventMissed {
		t.Errorf("events %s: last week's report, a week late, should be missed", r.kinds())
	}

	r.clock.Advance(time.Minute) // 09:00
	digest.Look(ctx, w)
	digest.Look(ctx, w)
	want := digest.WeeklyKey("slack", "CCURATORS", digest.Date{Year: 2025, Month: time.January, Day: 27})
	if got := r.poster.posts(); len(got) != 1 || got[0] != want {
		t.Fatalf("posts %v, want one with key %s", got, want)
	}
	if !r.since[0].Equal(utc("2025-01-20T08:00:00Z")) {
		t.Errorf("report since %s, want the Monday before", r.since[0])
	}
	rec, err := r.store.Digest(ctx, store.DigestKey{Platform: "slack", Channel: "curator:CCURATORS", Day: "2025-01-27"})
	if err != nil || rec.State != store.StateSent {
		t.Errorf("record %+v %v", rec, err)
	}

	r.clock.Advance(30 * time.Minute)
	digest.Look(ctx, r.weekly(t)) // a restart
	if got := r.poster.posts(); len(got) != 1 {
		t.Errorf("posted again after a restart: %v", got)
	}

	// Summer time: the next report at 09:00 is 07:00 UTC.
	r.clock.Advance(utc("2025-03-31T06:59:00Z").Sub(r.clock.Now()))
	digest.Look(ctx, w)
	r.clock.Advance(time.Minute)
	digest.Look(ctx, w)
	if got := r.poster.posts(); len(got) != 2 || !strings.HasSuffix(got[1], ":2025-03-31") {
		t.Errorf("posts %v, want the 31 March report at 07:00 UTC", got)
	}
}

func TestWeeklyNothingToReport(t *testing.T) {
	ctx := context.Background()
	r := newWeeklyRig(t, utc("2025-01-27T08:00:00Z"))
	r.report = func(time.Time, time.Time) string { return "" }
	w := r.weekly(t)
	digest.Look(ctx, w)
	r.clock.Advance(time.Minute)
	digest.Look(ctx, r.weekly(t))
	if got := r.poster.posts(); len(got) != 0 || len(r.since) != 1 {
		t.Errorf("posts %v, reports written %d: want none posted and one written", got, len(r.since))
	}
	if rec, err := r.store.Digest(ctx, store.DigestKey{Platform: "slack", Channel: "curator:CCURATORS", Day: "2025-01-27"}); err != nil || rec.State != store.StateSent {
		t.Errorf("an empty week is recorded as %+v %v, want done", rec, err)
	}
}

func TestWeeklyRetriesAndGivesUp(t *testing.T) {
	ctx := context.Background()
	t.Run("temporary", func(t *testing.T) {
		r := newWeeklyRig(t, utc("2025-01-27T08:00:00Z"))
		r.poster.fail = []error{digest.RetryAfter(errors.New("ratelimited"), 90*time.Second)}
		w := r.weekly(t)
		digest.Look(ctx, w)
		r.clock.Advance(time.Minute) // before the Retry-After
		digest.Look(ctx, w)
		if got := r.poster.posts(); len(got) != 0 || r.poster.tries != 1 {
			t.Fatalf("posts %v after %d tries: retried before Retry-After", got, r.poster.tries)
		}
		r.clock.Advance(time.Minute)
		digest.Look(ctx, r.weekly(t)) // another process takes the retry over
		if got := r.poster.posts(); len(got) != 1 {
			t.Errorf("posts %v: the retry did not post", got)
		}
		if k := r.kinds(); k != "retrying,posted" {
			t.Errorf("events %s", k)
		}
	})
	t.Run("permanent", func(t *testing.T) {
		r := newWeeklyRig(t, utc("2025-01-27T08:00:00Z"))
		r.poster.fail = []error{digest.Permanent(errors.New("channel_not_found"))}
		w := r.weekly(t)
		digest.Look(ctx, w)
		r.clock.Advance(time.Hour)
		digest.Look(ctx, w)
		digest.Look(ctx, r.weekly(t))
		if r.poster.tries != 1 || r.kinds() != "failed,done" {
			t.Errorf("%d tries, events %s; want one try, failed for the week", r.poster.tries, r.kinds())
		}
	})
}

// A process that died after posting but before recording it: the next
// one finds the report in the channel and does not post it again.
func TestWeeklyInterruptedPost(t *testing.T) {
	ctx := context.Background()
	r := newWeeklyRig(t, utc("2025-01-27T08:00:00Z"))
	k := store.DigestKey{Platform: "slack", Channel: "curator:CCURATORS", Day: "2025-01-27"}
	if _, err := r.store.ClaimDigest(ctx, k, "dead-process", r.clock.Now(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	key := digest.WeeklyKey("slack", "CCURATORS", digest.Date{Year: 2025, Month: time.January, Day: 27})
	r.poster.PostText(ctx, "CCURATORS", "3 declined", key)

	w := r.weekly(t)
	digest.Look(ctx, w) // the lease still holds
	r.clock.Advance(2 * time.Minute)
	digest.Look(ctx, w)
	if got := r.poster.posts(); len(got) != 1 || r.kinds() != "waiting,confirmed" {
		t.Errorf("posts %v, events %s; want the one post confirmed", got, r.kinds())
	}
}

// A report whose posts keep failing for now is given up for the week after
// MaxAttempts, as a day's digest is, and not tried again that week.
func TestWeeklyGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	r := newWeeklyRig(t, utc("2025-01-27T08:00:00Z"))
	r.poster.fail = []error{errors.New("502"), errors.New("502"), errors.New("502")}
	w, err := digest.NewWeekly(digest.WeeklyConfig{
		Store: r.store, Poster: r.poster, Platform: "slack", Channel: "CCURATORS",
		Weekday: time.Monday, Zone: berlin(t), Clock: r.clock, MaxAttempts: 3, Backoff: time.Minute,
		Report: func(context.Context, time.Time, time.Time) (string, error) { return "3 declined", nil },
		Observe: func(e digest.Event) {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		digest.Look(ctx, w)
		r.clock.Advance(time.Minute)
	}
	if r.poster.tries != 3 || r.kinds() != "retrying,retrying,failed" {
		t.Fatalf("%d tries, events %s; want 3 tries, then the week given up", r.poster.tries, r.kinds())
	}
	rec, err := r.store.Digest(ctx, store.DigestKey{Platform: "slack", Channel: "curator:CCURATORS", Day: "2025-01-27"})
	if err != nil || rec.State != store.StateFailed || rec.Attempts != 3 || !strings.HasPrefix(rec.Error, "gave up after 3 attempts: 502") {
		t.Errorf("record %+v %v, want failed after 3 attempts", rec, err)
	}
}
