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
// exactly one post with the code that keeps each day's digest: a claim
// in the store under a key of its own (the channel id prefixed with
// "curator:"), a check of the channel's history when an attempt was
// interrupted, retries with backoff and a catch-up window. A week with
// nothing to report is recorded as done without a post.
type Weekly struct {
	cfg      WeeklyConfig
	log      *slog.Logger
	clock    clockwork.Clock
	delivery *delivery
	hour     int
	min      int

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
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "curator report", "platform", cfg.Platform, "channel", cfg.Channel)
	w := &Weekly{cfg: cfg, log: log, clock: cfg.Clock, hour: h, min: m, done: make(map[store.DigestKey]bool)}
	// A failed week counts against no subscription, and pauses nothing.
	w.delivery = newDelivery(delivery{
		store: cfg.Store, clock: cfg.Clock, catchUp: cfg.CatchUp,
		maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, lease: cfg.Lease, maxFailures: 1,
		what: "curator report", period: "this week",
		ledger: w, onEvent: cfg.Observe,
	})
	return w, nil
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
	key := WeeklyKey(w.cfg.Platform, w.cfg.Channel, day)
	w.delivery.deliver(ctx, item{
		key:  k,
		due:  due,
		next: due.AddDate(0, 0, 7),
		log:  log,
		posted: func(ctx context.Context) (bool, error) {
			return w.cfg.Poster.Posted(ctx, w.cfg.Channel, key)
		},
		post: func(ctx context.Context) (bool, error) {
			text, err := w.cfg.Report(ctx, due.AddDate(0, 0, -7), due)
			if err != nil {
				return false, fmt.Errorf("write the report: %w", err)
			}
			if text == "" {
				log.Info("curator report: nothing to report this week; not posted")
				return false, nil
			}
			return true, w.cfg.Poster.PostText(ctx, w.cfg.Channel, text, key)
		},
	}, now)
}

// markDone and waitUntil keep the ledger of the delivery, which runs
// with w.mu held (by look).
func (w *Weekly) markDone(k store.DigestKey) { w.done[k] = true }

func (w *Weekly) waitUntil(_ store.DigestKey, t time.Time) { w.wait = t }
