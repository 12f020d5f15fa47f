package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/explainerbot/explainer/store"
)

// TextPoster posts plain text messages to the channels of one platform,
// with a key that Posted finds again (see Poster).
type TextPoster interface {
	PostText(ctx context.Context, channel, text, key string) error
	Posted(ctx context.Context, channel, key string) (bool, error)
}

// WeeklyConfig is what a Weekly needs.
type WeeklyConfig struct {
	Store    Store
	Poster   TextPoster
	Platform string // "slack" or "discord"
	Channel  string // the platform's channel id
	// Weekday and At (HH:MM; 09:00 when empty) in Zone (UTC when nil) are
	// when the report is due each week.
	Weekday time.Weekday
	At      string
	Zone    *time.Location
	// Report writes the report of the week before due; "" when there is
	// nothing to report, and then nothing is posted.
	Report func(ctx context.Context, since, due time.Time) (string, error)
	// Clock is the time source; the real clock when nil.
	Clock clockwork.Clock
	// CatchUp is how long after its time a week's report may still be
	// posted first (a process started late); zero allows a short grace.
	CatchUp time.Duration
	// Every is how often it looks whether a report is due (default 1m).
	Every time.Duration
	// MaxAttempts (default 5), Backoff (default 1m) and Lease (default 2m)
	// are as in Config.
	MaxAttempts int
	Backoff     time.Duration
	Lease       time.Duration
	Logger      *slog.Logger
	// Observe, when set, is told of every outcome, as in Config.
	Observe func(Event)
}

// Weekly posts a report to one channel once a week: the curators' report
// of the questions the knowledge base served badly. It keeps each week to
// exactly one post the way the Scheduler keeps each day's digest: a claim
// in the store under a key of its own (the channel id prefixed with
// "curator:"), a check of the channel's history when an attempt was
// interrupted, retries with backoff and a catch-up window. A week with
// nothing to report is recorded as done without a post.
type Weekly struct {
	cfg   WeeklyConfig
	log   *slog.Logger
	clock clockwork.Clock
	owner string
	hour  int
	min   int

	mu   sync.Mutex // one look at a time
	done map[store.DigestKey]bool
	wait time.Time
}

// WeeklyChannel is the channel name a Weekly's claims are kept under, so
// that they never meet a digest subscription of the same channel.
func WeeklyChannel(channel string) string { return "curator:" + channel }

// WeeklyKey is the idempotency key of one week's report: the key a
// TextPoster is given.
func WeeklyKey(platform, channel string, due Date) string {
	return "explainer-curator:" + platform + ":" + channel + ":" + due.String()
}

// NewWeekly checks cfg and prepares the weekly post; Run runs it.
func NewWeekly(cfg WeeklyConfig) (*Weekly, error) {
	if cfg.Store == nil || cfg.Poster == nil || cfg.Report == nil {
		return nil, errors.New("weekly report: Store, Poster and Report are required")
	}
	if cfg.Platform == "" || cfg.Channel == "" {
		return nil, errors.New("weekly report: no platform or channel")
	}
	if cfg.At == "" {
		cfg.At = DefaultAt
	}
	h, m, err := ParseClock(cfg.At)
	if err != nil {
		return nil, fmt.Errorf("weekly report: %w", err)
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	if cfg.CatchUp < 0 {
		return nil, errors.New("weekly report: CatchUp must not be negative")
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultSweep
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "curator report", "platform", cfg.Platform, "channel", cfg.Channel)
	return &Weekly{cfg: cfg, log: log, clock: cfg.Clock, owner: newOwner(), hour: h, min: m, done: make(map[store.DigestKey]bool)}, nil
}

// Run looks at once, then every Every, whether the week's report is due,
// and posts it; it returns when ctx ends.
func (w *Weekly) Run(ctx context.Context) {
	w.log.Info("weekly curator report on", "weekday", w.cfg.Weekday.String(), "at", w.cfg.At, "zone", w.cfg.Zone.String())
	tick := w.clock.NewTicker(w.cfg.Every)
	defer tick.Stop()
	for {
		w.look(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.Chan():
		}
	}
}

// lastWeekly is the latest time at or before now that is weekday h:m in
// loc, with its local date.
func lastWeekly(now time.Time, weekday time.Weekday, h, m int, loc *time.Location) (time.Time, Date) {
	day := DateOf(now.In(loc))
	day = day.AddDays(-((int(day.Weekday()) - int(weekday) + 7) % 7))
	t := day.At(h, m, loc)
	if t.After(now) {
		day = day.AddDays(-7)
		t = day.At(h, m, loc)
	}
	return t, day
}

// look posts this week's report if it is due and not done.
func (w *Weekly) look(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	due, day := lastWeekly(now, w.cfg.Weekday, w.hour, w.min, w.cfg.Zone)
	k := store.DigestKey{Platform: w.cfg.Platform, Channel: WeeklyChannel(w.cfg.Channel), Day: day.String()}
	if w.done[k] || now.Before(w.wait) || ctx.Err() != nil {
		return
	}
	log := w.log.With("week_of", k.Day)
	if now.After(due.Add(max(w.cfg.CatchUp, grace))) {
		_, err := w.cfg.Store.Digest(ctx, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
			w.done[k] = true
			log.Info("curator report skipped: too long after its time to catch up", "due", due)
			w.observe(Event{Kind: EventMissed, Key: k, At: now})
			return
		case err != nil:
			w.storeError(log, k, now, err)
			return
		}
	}
	c, err := w.cfg.Store.ClaimDigest(ctx, k, w.owner, now, w.cfg.Lease)
	if err != nil {
		w.storeError(log, k, now, err)
		return
	}
	switch c.Outcome {
	case store.Done:
		w.done[k] = true
		w.observe(Event{Kind: EventDone, Key: k, At: now})
		return
	case store.Busy, store.Later:
		w.wait = c.Until
		w.observe(Event{Kind: EventWaiting, Key: k, At: now, Next: c.Until})
		return
	}
	postCtx, cancel := context.WithTimeout(ctx, w.cfg.Lease/2)
	defer cancel()
	key := WeeklyKey(w.cfg.Platform, w.cfg.Channel, day)
	if c.InDoubt {
		posted, err := w.cfg.Poster.Posted(postCtx, w.cfg.Channel, key)
		if err != nil {
			w.failed(ctx, log, k, c, due, fmt.Errorf("check for an earlier post: %w", err))
			return
		}
		if posted {
			w.sent(ctx, log, k, EventConfirmed, c.Attempt)
			return
		}
	}
	text, err := w.cfg.Report(postCtx, due.AddDate(0, 0, -7), due)
	if err != nil {
		w.failed(ctx, log, k, c, due, fmt.Errorf("write the report: %w", err))
		return
	}
	if text == "" {
		log.Info("curator report: nothing to report this week; not posted")
		w.sent(ctx, log, k, EventDone, c.Attempt)
		return
	}
	if err := w.cfg.Poster.PostText(postCtx, w.cfg.Channel, text, key); err != nil {
		w.failed(ctx, log, k, c, due, err)
		return
	}
	log.Info("curator report posted", "attempt", c.Attempt)
	w.sent(ctx, log, k, EventPosted, c.Attempt)
}

func (w *Weekly) sent(ctx context.Context, log *slog.Logger, k store.DigestKey, kind string, attempt int) {
	now := w.clock.Now()
	if err := w.cfg.Store.MarkDigestSent(ctx, k, now); err != nil {
		// The claim stays; once its lease ends it is in doubt, and the
		// check finds the post.
		log.Error("curator report not recorded as done", "err", err)
	}
	w.done[k] = true
	w.observe(Event{Kind: kind, Key: k, At: now, Attempt: attempt})
}

// failed retries a temporary failure with backoff, within the week and
// MaxAttempts, and gives the week up otherwise.
func (w *Weekly) failed(ctx context.Context, log *slog.Logger, k store.DigestKey, c store.Claim, due time.Time, cause error) {
	now := w.clock.Now()
	if !IsPermanent(cause) && c.Attempt < w.cfg.MaxAttempts {
		delay := min(w.cfg.Backoff<<(c.Attempt-1), maxBackoff)
		var ra *RetryAfterError
		if errors.As(cause, &ra) && ra.After > delay {
			delay = ra.After
		}
		next := now.Add(delay)
		if next.Before(due.AddDate(0, 0, 7)) {
			if err := w.cfg.Store.RetryDigest(ctx, k, w.owner, now, next, cause.Error()); err != nil {
				w.storeError(log, k, now, err)
				return
			}
			w.wait = next
			log.Warn("curator report not posted; will retry", "attempt", c.Attempt, "retry_at", next, "err", cause)
			w.observe(Event{Kind: EventRetrying, Key: k, At: now, Attempt: c.Attempt, Next: next, Err: cause})
			return
		}
	}
	if _, err := w.cfg.Store.FailDigest(ctx, k, now, cause.Error(), 1); err != nil {
		w.storeError(log, k, now, err)
		return
	}
	w.done[k] = true
	log.Error("curator report not posted this week", "attempt", c.Attempt, "permanent", IsPermanent(cause), "err", cause)
	w.observe(Event{Kind: EventFailed, Key: k, At: now, Attempt: c.Attempt, Err: cause})
}

func (w *Weekly) storeError(log *slog.Logger, k store.DigestKey, now time.Time, err error) {
	log.Error("curator report: store", "err", err)
	w.observe(Event{Kind: EventError, Key: k, At: now, Err: err})
}

func (w *Weekly) observe(e Event) {
	if w.cfg.Observe != nil {
		w.cfg.Observe(e)
	}
}
