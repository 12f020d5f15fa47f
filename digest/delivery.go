package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/explainerbot/explainer/store"
)

// delivery brings a post that is due once a period (a day's digest to a
// channel, a week's curator report) to its channel exactly once, the way
// the comment at the top of scheduler.go describes: the catch-up window,
// the claim in the store, the check of the channel's history when a claim
// is in doubt, retries with backoff, giving up. A Scheduler and a Weekly
// each have one, and tell it what to post.
type delivery struct {
	store       Store
	clock       clockwork.Clock
	owner       string
	catchUp     time.Duration // as in Config, and the rest too
	maxAttempts int
	backoff     time.Duration
	lease       time.Duration
	maxFailures int
	// what is said of the post in log lines ("digest"), and period of
	// the time it is due for ("today").
	what, period string
	// ledger keeps what is done and what waits, in the process.
	ledger ledger
	// pause, when set, unschedules the subscription FailDigest paused.
	// Without it a post given up is not escalated, so it is logged as an
	// error.
	pause   func(k store.DigestKey)
	onEvent func(Event) // Config.Observe
}

// newDelivery completes d with an owner for its claims and the defaults
// of the settings it leaves zero.
func newDelivery(d delivery) *delivery {
	d.owner = newOwner()
	if d.maxAttempts <= 0 {
		d.maxAttempts = DefaultMaxAttempts
	}
	if d.backoff <= 0 {
		d.backoff = DefaultBackoff
	}
	if d.lease <= 0 {
		d.lease = DefaultLease
	}
	if d.maxFailures <= 0 {
		d.maxFailures = DefaultMaxFailures
	}
	return &d
}

// ledger is what the owner of a delivery keeps in its process: the posts
// done, and those not to be tried again before a time.
type ledger interface {
	markDone(k store.DigestKey)
	waitUntil(k store.DigestKey, t time.Time)
}

// item is one post to deliver.
type item struct {
	key  store.DigestKey
	due  time.Time // when it was due
	next time.Time // when the next one is due: retries end before it
	log  *slog.Logger
	// posted reports whether the post is already in the channel.
	posted func(ctx context.Context) (bool, error)
	// post posts it, or reports false when there is nothing to post (the
	// period is then done without a post).
	post func(ctx context.Context) (bool, error)
}

// deliver posts it once: at now, the time the attempt was decided on.
func (d *delivery) deliver(ctx context.Context, it item, now time.Time) {
	k, log := it.key, it.log
	// A first attempt must start within the catch-up window.
	if now.After(it.due.Add(max(d.catchUp, grace))) {
		_, err := d.store.Digest(ctx, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
			d.ledger.markDone(k)
			log.Info(d.what+" skipped: too long after its time to catch up", "due", it.due, "catch_up", d.catchUp)
			d.observe(Event{Kind: EventMissed, Key: k, At: now})
			return
		case err != nil:
			d.storeError(log, k, now, err)
			return
		}
	}

	c, err := d.store.ClaimDigest(ctx, k, d.owner, now, d.lease)
	if err != nil {
		d.storeError(log, k, now, err)
		return
	}
	switch c.Outcome {
	case store.Done:
		d.ledger.markDone(k)
		d.observe(Event{Kind: EventDone, Key: k, At: now})
		return
	case store.Busy, store.Later:
		d.ledger.waitUntil(k, c.Until)
		d.observe(Event{Kind: EventWaiting, Key: k, At: now, Next: c.Until})
		return
	}

	// Claimed: post within half the lease, so that nobody takes over while
	// this post may still land.
	// (Real time: the post's deadline is for the network, and clockwork's
	// fake contexts block in Err.)
	postCtx, cancel := context.WithTimeout(ctx, d.lease/2)
	defer cancel()
	if c.InDoubt {
		posted, err := it.posted(postCtx)
		if err != nil {
			d.failed(ctx, it, c, fmt.Errorf("check for an earlier post: %w", err))
			return
		}
		if posted {
			if err := d.store.MarkDigestSent(ctx, k, d.clock.Now()); err != nil {
				d.storeError(log, k, now, err)
				return
			}
			d.ledger.markDone(k)
			log.Info(d.what+" found in the channel after an interrupted attempt; not posted again", "attempt", c.Attempt)
			d.observe(Event{Kind: EventConfirmed, Key: k, At: d.clock.Now(), Attempt: c.Attempt})
			return
		}
	}
	posted, err := it.post(postCtx)
	if err != nil {
		d.failed(ctx, it, c, err)
		return
	}
	at := d.clock.Now()
	if err := d.store.MarkDigestSent(ctx, k, at); err != nil {
		// The claim stays; once its lease ends it is in doubt, and the
		// check finds this post (a period with nothing to post is simply
		// looked at again).
		log.Error(d.what+" not recorded as sent", "posted", posted, "err", err)
	}
	d.ledger.markDone(k)
	if !posted {
		d.observe(Event{Kind: EventDone, Key: k, At: at, Attempt: c.Attempt})
		return
	}
	log.Info(d.what+" posted", "attempt", c.Attempt)
	d.observe(Event{Kind: EventPosted, Key: k, At: at, Attempt: c.Attempt})
}

// failed gives the period up after a permanent failure, and otherwise
// schedules the next attempt, or gives up when attempts or time have run
// out.
func (d *delivery) failed(ctx context.Context, it item, c store.Claim, cause error) {
	if IsPermanent(cause) {
		d.fail(ctx, it, c, cause)
		return
	}
	if c.Attempt >= d.maxAttempts {
		d.fail(ctx, it, c, fmt.Errorf("gave up after %d attempts: %w", c.Attempt, cause))
		return
	}
	now := d.clock.Now()
	delay := d.backoff << (c.Attempt - 1)
	if delay > maxBackoff || delay <= 0 {
		delay = maxBackoff
	}
	var ra *RetryAfterError
	if errors.As(cause, &ra) && ra.After > delay {
		delay = ra.After
	}
	next := now.Add(delay)
	if !next.Before(it.next) {
		d.fail(ctx, it, c, fmt.Errorf("no time left %s to retry: %w", d.period, cause))
		return
	}
	if err := d.store.RetryDigest(ctx, it.key, d.owner, now, next, cause.Error()); err != nil {
		d.storeError(it.log, it.key, now, err)
		return
	}
	d.ledger.waitUntil(it.key, next)
	it.log.Warn(d.what+" post failed; will retry", "attempt", c.Attempt, "retry_at", next, "err", cause)
	d.observe(Event{Kind: EventRetrying, Key: it.key, At: now, Attempt: c.Attempt, Next: next, Err: cause})
}

// fail gives the period up, and has the subscription paused after too
// many.
func (d *delivery) fail(ctx context.Context, it item, c store.Claim, cause error) {
	k, log := it.key, it.log
	now := d.clock.Now()
	f, err := d.store.FailDigest(ctx, k, now, cause.Error(), d.maxFailures)
	if err != nil {
		d.storeError(log, k, now, err)
		return
	}
	d.ledger.markDone(k)
	msg := d.what + " not posted " + d.period
	if d.pause == nil {
		log.Error(msg, "attempt", c.Attempt, "permanent", IsPermanent(cause), "err", cause)
	} else {
		log.Warn(msg, "attempt", c.Attempt, "failed_days", f.Failures, "permanent", IsPermanent(cause), "err", cause)
	}
	d.observe(Event{Kind: EventFailed, Key: k, At: now, Attempt: c.Attempt, Err: cause})
	if f.Paused && d.pause != nil {
		d.pause(k)
		log.Error(d.what+" subscription paused after failing days in a row; subscribe the channel again to resume",
			"failed_days", f.Failures, "err", cause)
		d.observe(Event{Kind: EventPaused, Key: k, At: now, Err: cause})
	}
}

func (d *delivery) observe(e Event) {
	if d.onEvent != nil {
		d.onEvent(e)
	}
}

func (d *delivery) storeError(log *slog.Logger, k store.DigestKey, now time.Time, err error) {
	log.Error(d.what+" store", "err", err)
	d.observe(Event{Kind: EventError, Key: k, At: now, Err: err})
}
