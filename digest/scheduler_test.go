package digest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/store"
)

// platform is a fake chat platform: it keeps every digest posted, by
// channel and key, across scheduler restarts, like a channel's history.
type platform struct {
	mu    sync.Mutex
	posts []post
}

type post struct {
	channel, key, day string
	at                time.Time
}

func (p *platform) add(channel, key, day string, at time.Time) {
	p.mu.Lock()
	p.posts = append(p.posts, post{channel, key, day, at})
	p.mu.Unlock()
}

func (p *platform) all() []post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]post(nil), p.posts...)
}

func (p *platform) count(channel string) int {
	n := 0
	for _, x := range p.all() {
		if x.channel == channel {
			n++
		}
	}
	return n
}

func (p *platform) has(channel, key string) bool {
	for _, x := range p.all() {
		if x.channel == channel && x.key == key {
			return true
		}
	}
	return false
}

// poster is a digest.Poster over a platform, with hooks for failures.
type poster struct {
	p     *platform
	clock clockwork.Clock
	// post, when set, runs before the post lands; a non-nil error stops it.
	post func(channel string, attempt int) error
	// check, when set, fails the history check.
	check  error
	mu     sync.Mutex
	tries  int
	checks int
}

func (f *poster) Post(ctx context.Context, channel string, d digest.Digest, key string) error {
	f.mu.Lock()
	f.tries++
	n := f.tries
	f.mu.Unlock()
	if f.post != nil {
		if err := f.post(channel, n); err != nil {
			return err
		}
	}
	if d.Day == "" || len(d.Points) == 0 {
		return errors.New("empty digest")
	}
	f.p.add(channel, key, d.Day, f.clock.Now())
	return nil
}

func (f *poster) Posted(ctx context.Context, channel, key string) (bool, error) {
	f.mu.Lock()
	f.checks++
	f.mu.Unlock()
	if f.check != nil {
		return false, f.check
	}
	return f.p.has(channel, key), nil
}

func (f *poster) attempts() (tries, checks int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries, f.checks
}

// harness runs one scheduler on a fake clock over a store file.
type harness struct {
	t       *testing.T
	clock   *clockwork.FakeClock
	store   *store.Store
	sched   *digest.Scheduler
	jobs    int // timers the scheduler has when idle: the sweep and one a subscription
	mu      sync.Mutex
	log     []digest.Event
	changed chan struct{}
}

var sharedComposer *digest.Composer

func newHarness(t *testing.T, path string, clock *clockwork.FakeClock, cfg digest.Config) *harness {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if sharedComposer == nil {
		sharedComposer = composer(t, digest.Options{})
	}
	h := &harness{t: t, clock: clock, store: st, changed: make(chan struct{}, 1)}
	cfg.Store = st
	cfg.Digests = sharedComposer
	cfg.Clock = clock
	cfg.Observe = func(e digest.Event) {
		h.mu.Lock()
		h.log = append(h.log, e)
		h.mu.Unlock()
		select {
		case h.changed <- struct{}{}:
		default:
		}
	}
	s, err := digest.NewScheduler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.sched = s
	return h
}

func (h *harness) subscribe(platform, channel, at, zone string) {
	h.t.Helper()
	if _, err := h.store.Subscribe(context.Background(), store.Subscription{Platform: platform, Channel: channel, At: at, Zone: zone, CreatedBy: "test"}); err != nil {
		h.t.Fatal(err)
	}
}

// start starts the scheduler and waits for its first sweep and for every
// job's timer to be set.
func (h *harness) start(jobs int) {
	h.t.Helper()
	if err := h.sched.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.sched.Stop(ctx)
	})
	h.jobs = jobs
	h.waitFor(digest.EventSwept, h.clock.Now())
	h.settle()
}

// settle waits until every job has its timer set again.
func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, h.jobs); err != nil {
		h.t.Fatalf("timers not set: %v", err)
	}
}

// find returns the first event of kind at time at (any time when zero).
func (h *harness) find(kind string, at time.Time) (digest.Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.log {
		if e.Kind == kind && (at.IsZero() || e.At.Equal(at)) {
			return e, true
		}
	}
	return digest.Event{}, false
}

// events returns the events of one kind so far.
func (h *harness) events(kind string) []digest.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []digest.Event
	for _, e := range h.log {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// waitFor waits for an event of kind at time at (any time when zero).
func (h *harness) waitFor(kind string, at time.Time) digest.Event {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		if e, ok := h.find(kind, at); ok {
			return e
		}
		select {
		case <-h.changed:
		case <-timeout:
			h.t.Fatalf("no %s event at %s", kind, at.UTC())
			return digest.Event{}
		}
	}
}

// advanceTo moves the clock to t, a whole number of minutes on, and waits
// for the sweep there (and so for the posts the sweep makes).
func (h *harness) advanceTo(t time.Time) {
	h.t.Helper()
	h.settle()
	h.clock.Advance(t.Sub(h.clock.Now()))
	h.waitFor(digest.EventSwept, t)
}

// advanceToEvent moves the clock to t and waits for the sweep and for an
// event of kind at t, which a subscription's own job may bring.
func (h *harness) advanceToEvent(t time.Time, kind string) digest.Event {
	h.t.Helper()
	h.advanceTo(t)
	return h.waitFor(kind, t)
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "explainer.db") }

// TestDaylightSaving: 09:00 Europe/Berlin is 08:00 UTC in winter and 07:00
// UTC in summer, on both sides of each change.
func TestDaylightSaving(t *testing.T) {
	tests := []struct {
		name  string
		start string
		want  []string
	}{
		{"spring forward", "2025-03-28T09:00:00Z", []string{"2025-03-29T08:00:00Z", "2025-03-30T07:00:00Z", "2025-03-31T07:00:00Z"}},
		{"fall back", "2025-10-24T09:00:00Z", []string{"2025-10-25T07:00:00Z", "2025-10-26T08:00:00Z", "2025-10-27T08:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(utc(tc.start))
			plat := &platform{}
			h := newHarness(t, dbPath(t), clock, digest.Config{
				Posters: map[string]digest.Poster{"slack": &poster{p: plat, clock: clock}},
				CatchUp: 3 * time.Hour,
			})
			h.subscribe("slack", "C-berlin", "09:00", "Europe/Berlin")
			h.start(2)
			// gocron's own plan, in the zone's time.
			runs := h.sched.NextRuns("slack", "C-berlin", 3)
			if len(runs) != 3 {
				t.Fatalf("next runs %v", runs)
			}
			for i, r := range runs {
				if !r.Equal(utc(tc.want[i])) {
					t.Errorf("cron run %d at %s, want %s", i, r.UTC(), tc.want[i])
				}
			}
			for i, w := range tc.want {
				due := utc(w)
				h.advanceTo(due.Add(-time.Minute))
				if n := len(plat.all()); n != i {
					t.Fatalf("a minute before %s: %d posts, want %d", w, n, i)
				}
				h.advanceToEvent(due, digest.EventPosted)
			}
			h.advanceTo(utc(tc.want[2]).Add(12 * time.Hour))
			posts := plat.all()
			if len(posts) != 3 {
				t.Fatalf("%d posts, want 3: %+v", len(posts), posts)
			}
			for i, p := range posts {
				if !p.at.Equal(utc(tc.want[i])) || p.day != utc(tc.want[i]).In(berlin(t)).Format(time.DateOnly) {
					t.Errorf("post %d: %s for %s, want %s", i, p.at.UTC(), p.day, tc.want[i])
				}
			}
		})
	}
}

func berlin(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestCronTimes checks the cron plan of subscriptions in several zones.
func TestCronTimes(t *testing.T) {
	tests := []struct {
		at, zone, now string
		want          []string
	}{
		{"09:00", "Europe/Berlin", "2025-01-27T00:00:00Z", []string{"2025-01-27T08:00:00Z", "2025-01-28T08:00:00Z"}},
		{"09:00", "Europe/Berlin", "2025-07-01T00:00:00Z", []string{"2025-07-01T07:00:00Z", "2025-07-02T07:00:00Z"}},
		{"09:00", "America/New_York", "2025-03-08T00:00:00Z", []string{"2025-03-08T14:00:00Z", "2025-03-09T13:00:00Z"}},
		{"07:30", "Asia/Kathmandu", "2025-01-27T00:00:00Z", []string{"2025-01-27T01:45:00Z", "2025-01-28T01:45:00Z"}},
		{"23:59", "Pacific/Auckland", "2025-04-05T00:00:00Z", []string{"2025-04-05T10:59:00Z", "2025-04-06T11:59:00Z"}},
		{"00:00", "UTC", "2025-01-27T00:00:30Z", []string{"2025-01-28T00:00:00Z", "2025-01-29T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.zone+" "+tc.at, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(utc(tc.now))
			h := newHarness(t, dbPath(t), clock, digest.Config{Posters: map[string]digest.Poster{}, Sweep: -1})
			h.subscribe("slack", "C1", tc.at, tc.zone)
			h.start(1)
			runs := h.sched.NextRuns("slack", "C1", len(tc.want))
			for i := range tc.want {
				if i >= len(runs) || !runs[i].Equal(utc(tc.want[i])) {
					t.Fatalf("runs %v, want %v", runs, tc.want)
				}
			}
		})
	}
}

// TestSpringForwardGap: a time that does not exist on the day clocks go
// forward (02:30 in Berlin on 30 March 2025) is sent when the clocks have
// jumped past it, 03:30 local.
func TestSpringForwardGap(t *testing.T) {
	clock := clockwork.NewFakeClockAt(utc("2025-03-29T12:00:00Z"))
	plat := &platform{}
	h := newHarness(t, dbPath(t), clock, digest.Config{Posters: map[string]digest.Poster{"slack": &poster{p: plat, clock: clock}}})
	h.subscribe("slack", "C1", "02:30", "Europe/Berlin")
	h.start(2)
	h.advanceTo(utc("2025-03-30T01:29:00Z"))
	if n := len(plat.all()); n != 0 {
		t.Fatalf("%d posts before the time", n)
	}
	h.advanceToEvent(utc("2025-03-30T01:30:00Z"), digest.EventPosted)
	h.advanceTo(utc("2025-03-31T00:00:00Z"))
	posts := plat.all()
	if len(posts) != 1 || posts[0].day != "2025-03-30" || !posts[0].at.Equal(utc("2025-03-30T01:30:00Z")) {
		t.Fatalf("posts %+v, want one for 2025-03-30 at 01:30Z (03:30 CEST)", posts)
	}
}

// TestTwoZones: channels in different zones each get one digest a day at
// their own time.
func TestTwoZones(t *testing.T) {
	clock := clockwork.NewFakeClockAt(utc("2025-01-27T00:00:00Z"))
	plat := &platform{}
	h := newHarness(t, dbPath(t), clock, digest.Config{
		Posters: map[string]digest.Poster{"slack": &poster{p: plat, clock: clock}, "discord": &poster{p: plat, clock: clock}},
		CatchUp: 3 * time.Hour,
	})
	h.subscribe("slack", "C-berlin", "09:00", "Europe/Berlin")
	h.subscribe("discord", "D-newyork", "09:00", "America/New_York")
	h.start(3)
	// Step through two days a quarter of an hour at a time.
	end := utc("2025-01-29T00:00:00Z")
	for now := clock.Now(); now.Before(end); {
		now = now.Add(15 * time.Minute)
		h.advanceTo(now)
	}
	want := map[string][]string{
		"C-berlin":  {"2025-01-27T08:00:00Z", "2025-01-28T08:00:00Z"},
		"D-newyork": {"2025-01-27T14:00:00Z", "2025-01-28T14:00:00Z"},
	}
	got := make(map[string][]string)
	for _, p := range plat.all() {
		got[p.channel] = append(got[p.channel], p.at.UTC().Format(time.RFC3339))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("posts %v, want %v", got, want)
	}
}

// TestRestarts: a process restarted just before, during or just after the
// time posts the day's digest exactly once.
func TestRestarts(t *testing.T) {
	due := utc("2025-01-27T08:00:00Z") // 09:00 in Berlin
	cfg := func(p digest.Poster) digest.Config {
		return digest.Config{Posters: map[string]digest.Poster{"slack": p}, CatchUp: 3 * time.Hour, Lease: 2 * time.Minute}
	}
	// upUntil runs a process from an hour before the time until until, and
	// stops it.
	upUntil := func(until time.Time) func(t *testing.T, path string, plat *platform) {
		return func(t *testing.T, path string, plat *platform) {
			clock := clockwork.NewFakeClockAt(due.Add(-time.Hour))
			h := newHarness(t, path, clock, cfg(&poster{p: plat, clock: clock}))
			h.subscribe("slack", "C1", "09:00", "Europe/Berlin")
			h.start(2)
			for now := clock.Now(); now.Before(until); {
				now = now.Add(time.Minute)
				h.advanceTo(now)
			}
			if !until.Before(due) {
				h.waitFor(digest.EventPosted, due)
			}
			if err := h.sched.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	// crashMidPost runs a process whose post hangs at the time, as if the
	// process died there: its clock never moves again. landed says whether
	// the platform got the message before it died.
	crashMidPost := func(landed bool) func(t *testing.T, path string, plat *platform) {
		return func(t *testing.T, path string, plat *platform) {
			clock := clockwork.NewFakeClockAt(due.Add(-10 * time.Minute))
			release := make(chan struct{})
			entered := make(chan struct{}, 1)
			p := &poster{p: plat, clock: clock}
			p.post = func(channel string, _ int) error {
				if landed {
					plat.add(channel, digest.Key("slack", channel, digest.DateOf(due.In(berlin(t)))), "2025-01-27", clock.Now())
				}
				entered <- struct{}{}
				<-release
				return errors.New("process died")
			}
			h := newHarness(t, path, clock, cfg(p))
			h.subscribe("slack", "C1", "09:00", "Europe/Berlin")
			h.start(2)
			h.settle()
			clock.Advance(10 * time.Minute)
			<-entered
			t.Cleanup(func() { close(release) })
		}
	}
	tests := []struct {
		name      string
		first     func(t *testing.T, path string, plat *platform)
		restart   time.Time // when the second process starts
		wantFirst int       // digests the first process posted
		wantKind  string    // the event that settles the day in the second process
	}{
		{"just before", upUntil(due.Add(-2 * time.Minute)), due.Add(-time.Minute), 0, digest.EventPosted},
		{"during: claimed, post never landed", crashMidPost(false), due.Add(time.Minute), 0, digest.EventPosted},
		{"during: post landed, not recorded", crashMidPost(true), due.Add(time.Minute), 1, digest.EventConfirmed},
		{"just after", upUntil(due.Add(time.Minute)), due.Add(2 * time.Minute), 1, digest.EventDone},
		{"down over the time, back within the catch-up", upUntil(due.Add(-time.Minute)), due.Add(2*time.Hour + 59*time.Minute), 0, digest.EventPosted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := dbPath(t)
			plat := &platform{}
			tc.first(t, path, plat)
			if n := plat.count("C1"); n != tc.wantFirst {
				t.Fatalf("first process posted %d, want %d", n, tc.wantFirst)
			}
			clock := clockwork.NewFakeClockAt(tc.restart)
			p := &poster{p: plat, clock: clock}
			h := newHarness(t, path, clock, cfg(p))
			h.start(2)
			// Run the second process through the lease and the day.
			for now := tc.restart; now.Before(due.Add(4 * time.Hour)); {
				now = now.Add(time.Minute)
				h.advanceTo(now)
			}
			h.advanceTo(due.Add(24 * time.Hour).Add(-time.Minute))
			if _, ok := h.find(tc.wantKind, time.Time{}); !ok {
				t.Errorf("no %s event in the second process", tc.wantKind)
			}
			if n := plat.count("C1"); n != 1 {
				t.Fatalf("%d digests posted in all, want exactly 1: %+v", n, plat.all())
			}
			rec, err := h.store.Digest(context.Background(), store.DigestKey{Platform: "slack", Channel: "C1", Day: "2025-01-27"})
			if err != nil || rec.State != store.StateSent {
				t.Fatalf("record %+v %v, want sent", rec, err)
			}
		})
	}
}

// TestTooLateToCatchUp: a process that comes back after the catch-up window
// skips the day rather than post a stale digest, and posts the next day.
func TestTooLateToCatchUp(t *testing.T) {
	path := dbPath(t)
	subscribeAt(t, path, utc("2025-01-20T00:00:00Z"), "slack", "C1", "09:00", "Europe/Berlin")
	clock := clockwork.NewFakeClockAt(utc("2025-01-27T11:01:00Z")) // 3h01 after 09:00 in Berlin
	plat := &platform{}
	h := newHarness(t, path, clock, digest.Config{Posters: map[string]digest.Poster{"slack": &poster{p: plat, clock: clock}}, CatchUp: 3 * time.Hour})
	h.start(2)
	if _, ok := h.find(digest.EventMissed, clock.Now()); !ok || len(plat.all()) != 0 {
		t.Fatalf("posts %+v, want none and a missed day", plat.all())
	}
	h.advanceToEvent(utc("2025-01-28T08:00:00Z"), digest.EventPosted)
	if posts := plat.all(); len(posts) != 1 || posts[0].day != "2025-01-28" {
		t.Fatalf("posts %+v, want one for the next day", posts)
	}
}

// subscribeAt subscribes a channel as of a time, in its own connection.
func subscribeAt(t *testing.T, path string, at time.Time, platform, channel, clock, zone string) {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Subscribe(context.Background(), store.Subscription{Platform: platform, Channel: channel, At: clock, Zone: zone}); err != nil {
		t.Fatal(err)
	}
}

// TestSubscribedAfterTheTime: a channel subscribed after today's time gets
// its first digest tomorrow, not at once.
func TestSubscribedAfterTheTime(t *testing.T) {
	clock := clockwork.NewFakeClockAt(utc("2025-01-27T08:30:00Z"))
	plat := &platform{}
	h := newHarness(t, dbPath(t), clock, digest.Config{Posters: map[string]digest.Poster{"slack": &poster{p: plat, clock: clock}}, CatchUp: 3 * time.Hour})
	h.subscribe("slack", "C1", "09:00", "Europe/Berlin")
	h.start(2)
	h.advanceTo(utc("2025-01-28T07:59:00Z"))
	if n := len(plat.all()); n != 0 {
		t.Fatalf("%d posts on the day of subscribing, want 0", n)
	}
	h.advanceToEvent(utc("2025-01-28T08:00:00Z"), digest.EventPosted)
	if n := len(plat.all()); n != 1 {
		t.Fatalf("%d posts the next day, want 1", n)
	}
}

// TestTemporaryFailureRetried: a post that fails for now is retried with
// growing waits, honouring Retry-After, and lands once.
func TestTemporaryFailureRetried(t *testing.T) {
	clock := clockwork.NewFakeClockAt(utc("2025-01-27T07:00:00Z"))
	plat := &platform{}
	p := &poster{p: plat, clock: clock}
	p.post = func(_ string, attempt int) error {
		switch attempt {
		case 1:
			return errors.New("503 service unavailable")
		case 2:
			return errors.New("connection reset")
		case 3:
			return digest.RetryAfter(errors.New("ratelimited"), 7*time.Minute)
		}
		return nil
	}
	h := newHarness(t, dbPath(t), clock, digest.Config{Posters: map[string]digest.Poster{"slack": p}, Backoff: time.Minute, CatchUp: time.Hour})
	h.subscribe("slack", "C1", "09:00", "Europe/Berlin")
	h.start(2)
	h.advanceToEvent(utc("2025-01-27T08:00:00Z"), digest.EventRetrying)
	for now := clock.Now(); now.Before(utc("2025-01-27T09:00:00Z")); {
		now = now.Add(time.Minute)
		h.advanceTo(now)
	}
	// Attempt 1 at 08:00, retry after 1m; attempt 2 at 08:01, after 2m;
	// attempt 3 at 08:03 is told to wait 7m; attempt 4 at 08:10 lands.
	retries := h.events(digest.EventRetrying)
	wantNext := []string{"2025-01-27T08:01:00Z", "2025-01-27T08:03:00Z", "2025-01-27T08:10:00Z"}
	if len(retries) != len(wantNext) {
		t.Fatalf("%d retries, want %d: %+v", len(retries), len(wantNext), retries)
	}
	for i, e := range retries {
		if !e.Next.Equal(utc(wantNext[i])) || e.Attempt != i+1 {
			t.Errorf("retry %d: attempt %d next %s, want attempt %d at %s", i, e.Attempt, e.Next.UTC(), i+1, wantNext[i])
		}
	}
	posts := plat.all()
	if len(posts) != 1 || !posts[0].at.Equal(utc("2025-01-27T08:10:00Z")) {
		t.Fatalf("posts %+v, want one at 08:10", posts)
	}
	// Every retry first looks whether the failed attempt landed after all.
	if tries, checks := p.attempts(); tries != 4 || checks != 3 {
		t.Errorf("%d posts tried and %d history checks, want 4 and 3", tries, checks)
	}
}

// TestGivesUpAfterMaxAttempts: a day whose posts keep failing is given up
// after MaxAttempts and counts as a failed day.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	clock := clockwork.NewFakeClockAt(utc("2025-01-27T07:59:00Z"))
	plat := &platform{}
	p := &poster{p: plat, clock: clock, post: func(string, int) error { return errors.New("502 bad gateway") }}
	h := newHarness(t, dbPath(t), clock, digest.Config{Posters: map[string]digest.Poster{"slack": p}, MaxAttempts: 3, Backoff: time.Minute})
	h.subscribe("slack", "C1", "09:00", "Europe/Berlin")
	h.start(2)
	h.advanceToEvent(utc("2025-01-27T08:00:00Z"), digest.EventRetrying)
	for now := clock.Now(); now.Before(utc("2025-01-27T09:00:00Z")); {
		now = now.Add(time.Minute)
		h.advanceTo(now)
	}
	if tries, _ := p.attempts(); tries != 3 {
		t.Fatalf("%d attempts, want 3", tries)
	}
	rec, err := h.store.Digest(context.Background(), store.DigestKey{Platform: "slack", Channel: "C1", Day: "2025-01-27"})
	if err != nil || rec.State != store.StateFailed || rec.Attempts != 3 {
		t.Fatalf("record %+v %v", rec, err)
	}
	sub, err := h.store.Subscription(context.Background(), "slack", "C1")
	if err != nil || sub.Failures != 1 || sub.Paused {
		t.Fatalf("subscription %+v %v, want one failed day, not paused", sub, err)
	}
}

// TestPermanentFailurePauses: a channel the bot cannot post to fails the
// day at once, and the subscription is paused after MaxFailures such days.
func TestPermanentFailurePauses(t *testing.T) {
	clock := clockwork.NewFakeClockAt(utc("2025-01-27T00:00:00Z"))
	plat := &platform{}
	var fail atomic.Bool
	fail.Store(true)
	p := &poster{p: plat, clock: clock, post: func(string, int) error {
		if fail.Load() {
			return digest.Permanent(errors.New("channel_not_found"))
		}
		return nil
	}}
	h := newHarness(t, dbPath(t), clock, digest.Config{Posters: map[string]digest.Poster{"slack": p}, MaxFailures: 3})
	h.subscribe("slack", "C-gone", "09:00", "Europe/Berlin")
	h.start(2)
	for day := range 5 {
		due := utc("2025-01-27T08:00:00Z").AddDate(0, 0, day)
		if day < 3 {
			h.advanceToEvent(due, digest.EventFailed)
		} else {
			h.advanceTo(due)
		}
		if day == 2 {
			h.waitFor(digest.EventPaused, due)
			h.jobs = 1 // the paused subscription's job is gone
		}
		h.advanceTo(due.Add(time.Hour))
		if tries, _ := p.attempts(); tries != min(day+1, 3) {
			t.Fatalf("day %d: %d attempts in all, want %d (no retry of a permanent failure; none once paused)", day, tries, min(day+1, 3))
		}
	}
	paused, _ := h.find(digest.EventPaused, time.Time{})
	if paused.Key.Channel != "C-gone" || !digest.IsPermanent(paused.Err) {
		t.Errorf("paused event %+v", paused)
	}
	sub, err := h.store.Subscription(context.Background(), "slack", "C-gone")
	if err != nil || !sub.Paused || sub.Failures != 3 {
		t.Fatalf("subscription %+v %v, want paused after 3 failed days", sub, err)
	}
	if !h.sched.NextRun("slack", "C-gone").IsZero() {
		t.Error("paused subscription still scheduled")
	}
	// Subscribing again resumes it.
	fail.Store(false)
	h.subscribe("slack", "C-gone", "09:00", "Europe/Berlin")
	if err := h.sched.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.jobs = 2
	h.advanceToEvent(utc("2025-02-01T08:00:00Z"), digest.EventPosted)
	if n := len(plat.all()); n != 1 {
		t.Fatalf("%d posts after resubscribing, want 1", n)
	}
}

// TestInDoubtClaimThatCannotBeChecked: when a claim left by a dead process
// cannot be checked against the channel, the scheduler does not post
// blindly: a temporary failure is retried, a permanent one gives up the day.
func TestInDoubtClaimThatCannotBeChecked(t *testing.T) {
	due := utc("2025-01-27T08:00:00Z")
	for _, tc := range []struct {
		name  string
		check error
		want  string
	}{
		{"temporary", errors.New("503"), digest.EventRetrying},
		{"permanent", digest.Permanent(errors.New("missing_scope")), digest.EventFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := dbPath(t)
			clock := clockwork.NewFakeClockAt(due.Add(5 * time.Minute))
			plat := &platform{}
			p := &poster{p: plat, clock: clock, check: tc.check}
			h := newHarness(t, path, clock, digest.Config{Posters: map[string]digest.Poster{"slack": p}, CatchUp: time.Hour})
			subscribeAt(t, path, due.Add(-24*time.Hour), "slack", "C1", "09:00", "Europe/Berlin")
			// A process that died mid-post at the time left its claim.
			k := store.DigestKey{Platform: "slack", Channel: "C1", Day: "2025-01-27"}
			if _, err := h.store.ClaimDigest(context.Background(), k, "dead", due, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			h.start(2)
			e := h.waitFor(tc.want, clock.Now())
			if e.Key != k || e.Attempt != 2 {
				t.Errorf("event %+v", e)
			}
			if tries, checks := p.attempts(); tries != 0 || checks != 1 {
				t.Errorf("%d posts and %d checks, want 0 and 1", tries, checks)
			}
		})
	}
}

// BenchmarkSweep measures a sweep over 1,000 subscriptions, each already
// sent today: the work the scheduler does every minute.
func BenchmarkSweep(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "explainer.db")
	clock := clockwork.NewFakeClockAt(utc("2025-01-27T12:00:00Z"))
	st, err := store.Open(ctx, path, store.Options{Now: func() time.Time { return utc("2025-01-20T00:00:00Z") }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"}
	for i := range 1000 {
		if _, err := st.Subscribe(ctx, store.Subscription{Platform: "slack", Channel: fmt.Sprintf("C%07d", i), At: fmt.Sprintf("%02d:%02d", i%24, i%60), Zone: zones[i%4]}); err != nil {
			b.Fatal(err)
		}
	}
	plat := &platform{}
	s, err := digest.NewScheduler(digest.Config{Store: st, Digests: composer(b, digest.Options{}), Clock: clock, CatchUp: 24 * time.Hour,
		Posters: map[string]digest.Poster{"slack": &poster{p: plat, clock: clock}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	digest.SweepOnce(ctx, s) // posts today's digests
	if n := len(plat.all()); n != 1000 {
		b.Fatalf("%d posted, want 1000", n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		digest.SweepOnce(ctx, s)
	}
}
