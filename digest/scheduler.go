package digest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"

	"github.com/explainerbot/explainer/store"
)

// How the scheduler keeps each day's digest to exactly one post
//
// Each subscription has a cron job at its HH:MM in its own zone (gocron
// with CRON_TZ, so daylight saving is the zone database's business), and a
// sweep runs every minute: it reloads the subscriptions (so changes made by
// another process, such as the CLI, take effect), resumes retries and
// catches up on anything due. Both end in deliver, which is safe to run any
// number of times for the same digest:
//
//  1. The digest of a day is the row (platform, channel, local date) in the
//     store. Before posting, the scheduler claims the row with a lease; the
//     claim is a transaction, so one process at a time holds it.
//  2. A digest that is sent or given up is never claimed again: a restart
//     after the time posts nothing more.
//  3. A claim whose lease ran out without being marked sent is in doubt:
//     its process died before, during or just after the post. The next
//     claimant asks the Poster whether the digest is already in the channel
//     (it looks for the key in the channel's recent history) and marks it
//     sent if so, or posts it if not. A post is given half the lease, so
//     an owner never posts after its lease has run out. So a crash at any
//     moment gives one post, not two and not none. A retry after a failed
//     attempt checks the same way (a post that timed out may have landed);
//     a check that fails is itself retried, never skipped: when in doubt the
//     scheduler does not post.
//  4. A day's first attempt must start within CatchUp of the scheduled time
//     (a process started at 10:30 sends the 09:00 digest when CatchUp is
//     3h or more); past that the day is skipped as stale.
//  5. A temporary failure is retried with exponential backoff (doubling
//     from Backoff, at most MaxAttempts attempts, never past the next day's
//     time); a permanent one gives up the day at once. Each day given up
//     counts against the subscription, which is paused after MaxFailures
//     such days in a row; a good day resets the count.
//  6. Within a process a digest is delivered by one goroutine at a time
//     (the cron job or the sweep, whichever comes first), and a sweep ends
//     only when every delivery due at its time has ended.
//
// A time of day that does not exist on the day the clocks go forward
// (02:30 on the night they jump from 02:00 to 03:00) is sent by the sweep
// at the moment it would have been, 03:30 local: gocron's cron skips it.

// Defaults for Config.
const (
	DefaultMaxFailures = 3
	DefaultMaxAttempts = 5
	DefaultBackoff     = time.Minute
	DefaultLease       = 2 * time.Minute
	DefaultSweep       = time.Minute
	maxBackoff         = 30 * time.Minute
	// grace is how late the first attempt of a day may start when CatchUp
	// is zero: the time a timer or a sweep may lag.
	grace = 2 * time.Minute
	// parallel bounds the posts a sweep makes at once.
	parallel = 4
)

// Store is what the scheduler keeps in the store (*store.Store).
type Store interface {
	Subscriptions(ctx context.Context) ([]store.Subscription, error)
	Digest(ctx context.Context, k store.DigestKey) (store.DigestRecord, error)
	ClaimDigest(ctx context.Context, k store.DigestKey, owner string, now time.Time, lease time.Duration) (store.Claim, error)
	MarkDigestSent(ctx context.Context, k store.DigestKey, now time.Time) error
	RetryDigest(ctx context.Context, k store.DigestKey, owner string, now, next time.Time, reason string) error
	FailDigest(ctx context.Context, k store.DigestKey, now time.Time, reason string, maxFailures int) (store.Failure, error)
}

// Source composes the digest of a date (*Composer).
type Source interface {
	Compose(ctx context.Context, date Date) (Digest, error)
}

// Config is what a Scheduler needs.
type Config struct {
	Store   Store
	Digests Source
	// Posters by platform ("slack", "discord"). Subscriptions of a platform
	// without a poster wait (and are logged once) until it has one.
	Posters map[string]Poster
	// Clock is the time source for scheduling; the real clock when nil.
	Clock clockwork.Clock
	// CatchUp is how long after its time a day's digest may still be sent
	// first (EXPLAINER_DIGEST_CATCHUP). Zero allows only a short grace.
	CatchUp time.Duration
	// MaxFailures is the number of failed days in a row after which a
	// subscription is paused (EXPLAINER_DIGEST_MAX_FAILURES; default 3).
	MaxFailures int
	// MaxAttempts bounds the attempts a day (default 5).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled for each next one
	// up to 30 minutes (default 1m).
	Backoff time.Duration
	// Lease is how long a claim holds (default 2m); a post may take half.
	Lease time.Duration
	// Sweep is the interval of the sweep (default 1m); negative runs it
	// once, at start, and leaves the rest to the cron jobs and Sync.
	Sweep  time.Duration
	Logger *slog.Logger
	// Observe, when set, is told of every outcome (for metrics and tests).
	// It is called from the scheduler's goroutines and must not block.
	Observe func(Event)
}

// Event kinds.
const (
	EventPosted    = "posted"    // the digest was posted
	EventConfirmed = "confirmed" // an interrupted post was found in the channel and marked sent
	EventRetrying  = "retrying"  // a temporary failure; Next is when it is tried again
	EventFailed    = "failed"    // the day is given up
	EventPaused    = "paused"    // the subscription was paused after too many failed days
	EventMissed    = "missed"    // too late to catch up on the day
	EventDone      = "done"      // already sent or given up
	EventWaiting   = "waiting"   // claimed elsewhere, or a retry not yet due, until Next
	EventSkipped   = "skipped"   // no poster for the platform
	EventError     = "error"     // the store or the composer failed
	EventSwept     = "swept"     // a sweep finished
)

// Event is one outcome of the scheduler.
type Event struct {
	Kind    string
	Key     store.DigestKey
	At      time.Time // the clock's time
	Attempt int
	Next    time.Time
	Err     error
}

// Scheduler posts the daily digest to every subscription.
type Scheduler struct {
	cfg      Config
	log      *slog.Logger
	clock    clockwork.Clock
	cron     gocron.Scheduler
	delivery *delivery

	mu       sync.Mutex
	subs     map[subKey]*entry
	inflight map[store.DigestKey]chan struct{} // closed when the delivery ends
	done     map[store.DigestKey]bool
	wait     map[store.DigestKey]time.Time
	warned   map[string]bool
	ctx      context.Context
	cancel   context.CancelFunc
	started  bool

	swept     chan struct{} // closed when the sweep loop ends
	composeMu sync.Mutex
	cache     map[Date]Digest
}

type subKey struct{ platform, channel string }

// entry is a subscription as scheduled.
type entry struct {
	sub    store.Subscription
	hour   int
	minute int
	loc    *time.Location
	job    uuid.UUID
}

// NewScheduler checks cfg and prepares a scheduler; Start runs it.
func NewScheduler(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil || cfg.Digests == nil {
		return nil, errors.New("digest scheduler: Store and Digests are required")
	}
	if cfg.CatchUp < 0 {
		return nil, errors.New("digest scheduler: CatchUp must not be negative")
	}
	if cfg.Sweep == 0 {
		cfg.Sweep = DefaultSweep
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "digest")
	cron, err := gocron.NewScheduler(
		gocron.WithClock(cfg.Clock),
		gocron.WithLocation(time.UTC),
		gocron.WithLogger(cronLogger{log}),
	)
	if err != nil {
		return nil, fmt.Errorf("digest scheduler: %w", err)
	}
	s := &Scheduler{
		cfg:      cfg,
		log:      log,
		clock:    cfg.Clock,
		cron:     cron,
		subs:     make(map[subKey]*entry),
		inflight: make(map[store.DigestKey]chan struct{}),
		done:     make(map[store.DigestKey]bool),
		wait:     make(map[store.DigestKey]time.Time),
		warned:   make(map[string]bool),
		cache:    make(map[Date]Digest),
	}
	s.delivery = newDelivery(delivery{
		store: cfg.Store, clock: cfg.Clock, catchUp: cfg.CatchUp,
		maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, lease: cfg.Lease, maxFailures: cfg.MaxFailures,
		what: "digest", period: "today",
		ledger: s, pause: s.pause, onEvent: cfg.Observe,
	})
	return s, nil
}

func newOwner() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Start loads the subscriptions, schedules them and starts the sweep, whose
// first run (at once) catches up on digests due while the process was
// down. It returns once the jobs are scheduled; the jobs stop when ctx ends
// or Stop is called.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("digest scheduler: already started")
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.swept = make(chan struct{})
	s.mu.Unlock()
	if err := s.Sync(ctx); err != nil {
		s.cancel()
		close(s.swept)
		return err
	}
	s.cron.Start()
	// The sweep runs on a ticker of its own rather than as a gocron
	// interval job: a gocron job whose next run falls exactly on "now"
	// (as it does under a fake clock) is run again and again until the
	// clock moves.
	var tick clockwork.Ticker
	if s.cfg.Sweep > 0 {
		tick = s.clock.NewTicker(s.cfg.Sweep)
	}
	go s.sweepLoop(s.ctx, tick)
	s.log.Info("digest scheduler started", "subscriptions", s.count(), "catch_up", s.cfg.CatchUp, "sweep", s.cfg.Sweep)
	return nil
}

// sweepLoop sweeps at once and then at every tick, until ctx ends.
func (s *Scheduler) sweepLoop(ctx context.Context, tick clockwork.Ticker) {
	defer close(s.swept)
	s.sweep(ctx)
	if tick == nil {
		return
	}
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.Chan():
			s.sweep(ctx)
		}
	}
}

// Stop stops scheduling and waits, until ctx ends, for posts under way.
func (s *Scheduler) Stop(ctx context.Context) error {
	err := s.cron.ShutdownWithContext(ctx)
	s.mu.Lock()
	cancel, swept := s.cancel, s.swept
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		select {
		case <-swept:
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
	}
	if err != nil {
		return fmt.Errorf("digest scheduler: stop: %w", err)
	}
	return nil
}

func (s *Scheduler) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Sync reloads the subscriptions from the store and schedules them: call it
// after subscribing or unsubscribing a channel to take effect at once
// (the sweep does within a minute anyway).
func (s *Scheduler) Sync(ctx context.Context) error {
	subs, err := s.cfg.Store.Subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("digest scheduler: %w", err)
	}
	want := make(map[subKey]store.Subscription, len(subs))
	for _, sub := range subs {
		if !sub.Paused {
			want[subKey{sub.Platform, sub.Channel}] = sub
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.subs {
		if sub, ok := want[k]; ok && sub.At == e.sub.At && sub.Zone == e.sub.Zone && sub.UpdatedAt.Equal(e.sub.UpdatedAt) {
			e.sub = sub
			delete(want, k)
			continue
		}
		s.unscheduleLocked(k)
	}
	keys := make([]subKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].platform+"\x00"+keys[i].channel < keys[j].platform+"\x00"+keys[j].channel
	})
	for _, k := range keys {
		sub := want[k]
		h, m, err := ParseClock(sub.At)
		if err == nil {
			var loc *time.Location
			if loc, err = LoadZone(sub.Zone); err == nil {
				err = s.scheduleLocked(k, &entry{sub: sub, hour: h, minute: m, loc: loc})
			}
		}
		if err != nil && !s.warned["sub:"+k.platform+":"+k.channel] {
			s.warned["sub:"+k.platform+":"+k.channel] = true
			s.log.Error("digest subscription not scheduled", "platform", k.platform, "channel", k.channel, "err", err)
		}
	}
	return nil
}

func (s *Scheduler) scheduleLocked(k subKey, e *entry) error {
	spec := fmt.Sprintf("CRON_TZ=%s %d %d * * *", e.loc.String(), e.minute, e.hour)
	job, err := s.cron.NewJob(gocron.CronJob(spec, false),
		gocron.NewTask(func() { s.fire(k) }),
		gocron.WithName(k.platform+":"+k.channel),
	)
	if err != nil {
		return fmt.Errorf("schedule %q: %w", spec, err)
	}
	e.job = job.ID()
	s.subs[k] = e
	return nil
}

func (s *Scheduler) unscheduleLocked(k subKey) {
	if e, ok := s.subs[k]; ok {
		if err := s.cron.RemoveJob(e.job); err != nil && !errors.Is(err, gocron.ErrJobNotFound) {
			s.log.Warn("remove digest job", "platform", k.platform, "channel", k.channel, "err", err)
		}
		delete(s.subs, k)
	}
}

// NextRun is when the subscription's digest is next due by its cron job,
// or the zero time when it is not scheduled.
func (s *Scheduler) NextRun(platform, channel string) time.Time {
	runs := s.NextRuns(platform, channel, 1)
	if len(runs) == 0 {
		return time.Time{}
	}
	return runs[0]
}

// NextRuns lists the next n times the subscription's cron job runs.
func (s *Scheduler) NextRuns(platform, channel string, n int) []time.Time {
	s.mu.Lock()
	e, ok := s.subs[subKey{platform, channel}]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	for _, j := range s.cron.Jobs() {
		if j.ID() == e.job {
			runs, err := j.NextRuns(n)
			if err != nil {
				return nil
			}
			return runs
		}
	}
	return nil
}

// fire is the cron job of one subscription.
func (s *Scheduler) fire(k subKey) {
	s.mu.Lock()
	e, ok := s.subs[k]
	var snap entry
	if ok {
		snap = *e
	}
	ctx := s.ctx
	s.mu.Unlock()
	if ok {
		s.deliver(ctx, snap, s.clock.Now())
	}
}

// sweep reloads the subscriptions and delivers whatever is due: a day not
// yet done whose time has come, a retry, a claim left in doubt.
func (s *Scheduler) sweep(ctx context.Context) {
	now := s.sweepOnce(ctx)
	s.observe(Event{Kind: EventSwept, At: now})
}

func (s *Scheduler) sweepOnce(ctx context.Context) time.Time {
	if err := s.Sync(ctx); err != nil {
		s.log.Warn("digest sweep: reload subscriptions", "err", err)
		s.observe(Event{Kind: EventError, At: s.clock.Now(), Err: err})
	}
	now := s.clock.Now()
	var due []entry
	s.mu.Lock()
	for _, e := range s.subs {
		occ, day := lastOccurrence(now, e.hour, e.minute, e.loc)
		k := store.DigestKey{Platform: e.sub.Platform, Channel: e.sub.Channel, Day: day.String()}
		_, running := s.inflight[k] // a cron job is on it: deliver waits for it
		if occ.Before(e.sub.UpdatedAt) || s.done[k] || (now.Before(s.wait[k]) && !running) {
			continue
		}
		due = append(due, *e)
	}
	s.pruneLocked(now)
	s.mu.Unlock()

	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, e := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.deliver(ctx, e, now)
		})
	}
	// A sweep ends when everything due at its time has been dealt with,
	// by it or by a cron job.
	wg.Wait()
	return now
}

// pruneLocked forgets what it knows of days long past.
func (s *Scheduler) pruneLocked(now time.Time) {
	old := DateOf(now.UTC()).AddDays(-3).String()
	for k := range s.done {
		if k.Day < old {
			delete(s.done, k)
		}
	}
	for k, t := range s.wait {
		if now.After(t) {
			delete(s.wait, k)
		}
	}
}

// deliver brings the digest due at now for one subscription to its
// channel, once; see the comment at the top of this file.
func (s *Scheduler) deliver(ctx context.Context, e entry, now time.Time) {
	occ, day := lastOccurrence(now, e.hour, e.minute, e.loc)
	if occ.Before(e.sub.UpdatedAt) {
		return // subscribed (or rescheduled) after today's time: from tomorrow
	}
	k := store.DigestKey{Platform: e.sub.Platform, Channel: e.sub.Channel, Day: day.String()}
	for {
		running, mine := s.begin(k)
		if mine {
			break
		}
		if running == nil {
			return // done
		}
		// Another goroutine is on it, perhaps with an older reading of the
		// clock (a retry not yet due then may be due now): wait, and look
		// again.
		select {
		case <-running:
		case <-ctx.Done():
			return
		}
	}
	defer s.end(k)
	log := s.log.With("platform", k.Platform, "channel", k.Channel, "date", k.Day)

	poster, ok := s.cfg.Posters[k.Platform]
	if !ok {
		s.mu.Lock()
		first := !s.warned["poster:"+k.Platform]
		s.warned["poster:"+k.Platform] = true
		s.mu.Unlock()
		if first {
			log.Warn("digest subscriptions wait: no connection to this platform is configured")
		}
		s.observe(Event{Kind: EventSkipped, Key: k, At: now})
		return
	}

	key := Key(k.Platform, k.Channel, day)
	s.delivery.deliver(ctx, item{
		key:  k,
		due:  occ,
		next: day.AddDays(1).At(e.hour, e.minute, e.loc),
		log:  log,
		posted: func(ctx context.Context) (bool, error) {
			return poster.Posted(ctx, k.Channel, key)
		},
		post: func(ctx context.Context) (bool, error) {
			d, err := s.compose(ctx, day)
			if err != nil {
				return false, fmt.Errorf("compose: %w", err)
			}
			return true, poster.Post(ctx, k.Channel, d, key)
		},
	}, now)
}

// waitUntil keeps k from being tried again before t.
func (s *Scheduler) waitUntil(k store.DigestKey, t time.Time) {
	s.mu.Lock()
	s.wait[k] = t
	s.mu.Unlock()
}

// pause unschedules the subscription of k, paused in the store.
func (s *Scheduler) pause(k store.DigestKey) {
	s.mu.Lock()
	s.unscheduleLocked(subKey{k.Platform, k.Channel})
	s.mu.Unlock()
}

// compose returns the digest of a date, composed once per process so that
// every channel gets the same one (the summary too).
func (s *Scheduler) compose(ctx context.Context, day Date) (Digest, error) {
	s.composeMu.Lock()
	defer s.composeMu.Unlock()
	if d, ok := s.cache[day]; ok {
		return d, nil
	}
	d, err := s.cfg.Digests.Compose(ctx, day)
	if err != nil {
		return Digest{}, err
	}
	if len(s.cache) >= 8 {
		oldest := day
		for k := range s.cache {
			if k.dayNumber() < oldest.dayNumber() {
				oldest = k
			}
		}
		delete(s.cache, oldest)
	}
	s.cache[day] = d
	return d, nil
}

// begin marks k as being delivered by the caller, and reports whether it
// may go ahead. When it may not, running is the delivery under way (closed
// when it ends), or nil when k is done.
func (s *Scheduler) begin(k store.DigestKey) (running chan struct{}, mine bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.inflight[k]; ok {
		return ch, false
	}
	if s.done[k] {
		return nil, false
	}
	s.inflight[k] = make(chan struct{})
	return nil, true
}

func (s *Scheduler) end(k store.DigestKey) {
	s.mu.Lock()
	close(s.inflight[k])
	delete(s.inflight, k)
	s.mu.Unlock()
}

func (s *Scheduler) markDone(k store.DigestKey) {
	s.mu.Lock()
	s.done[k] = true
	delete(s.wait, k)
	s.mu.Unlock()
}

func (s *Scheduler) observe(e Event) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(e)
	}
}

// cronLogger passes gocron's notes to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Debug(msg string, args ...any) { l.log.Debug("gocron: "+msg, args...) }
func (l cronLogger) Info(msg string, args ...any)  { l.log.Debug("gocron: "+msg, args...) }
func (l cronLogger) Warn(msg string, args ...any)  { l.log.Warn("gocron: "+msg, args...) }
func (l cronLogger) Error(msg string, args ...any) { l.log.Error("gocron: "+msg, args...) }
