package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DigestKey names one day's digest for one channel. Day is the date in the
// subscription's zone, YYYY-MM-DD.
type DigestKey struct {
	Platform string
	Channel  string
	Day      string
}

func (k DigestKey) String() string { return k.Platform + ":" + k.Channel + "@" + k.Day }

// States of a digest row.
const (
	StateClaimed = "claimed" // an owner is posting it, until its lease ends
	StateRetry   = "retry"   // an attempt failed for now; try again at NextAttempt
	StateSent    = "sent"
	StateFailed  = "failed" // given up for the day
)

// Outcome is what a claim found.
type Outcome int

// Outcomes of ClaimDigest.
const (
	// Claimed: the caller owns the digest until the lease ends and may post.
	Claimed Outcome = iota + 1
	// Done: the digest was sent, or given up, already.
	Done
	// Busy: another owner holds an unexpired lease; look again at Until.
	Busy
	// Later: the last attempt failed for now; the next is due at Until.
	Later
)

func (o Outcome) String() string {
	switch o {
	case Claimed:
		return "claimed"
	case Done:
		return "done"
	case Busy:
		return "busy"
	case Later:
		return "later"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Claim is the result of ClaimDigest.
type Claim struct {
	Outcome Outcome
	State   string // the row's state before the claim; "" when there was none
	// InDoubt is set on a claim that follows an earlier attempt (a lease
	// that ran out, or a failure that may have reached the platform): the
	// digest may already be in the channel, so check before posting again.
	InDoubt bool
	Attempt int       // Claimed: this attempt's number, from 1
	Until   time.Time // Busy: when the lease ends; Later: when the retry is due
}

// DigestRecord is one row of the digests table.
type DigestRecord struct {
	DigestKey
	State       string
	Owner       string
	LeaseUntil  time.Time
	NextAttempt time.Time
	Attempts    int
	Error       string
	UpdatedAt   time.Time
}

// ClaimDigest claims the digest k for owner until now+lease. Only one
// caller at a time can hold a claim, across processes sharing the file; a
// digest that was sent or given up is never claimed again. A claim whose
// lease ran out (its owner died, or is stuck past its deadline) is taken
// over, InDoubt.
func (s *Store) ClaimDigest(ctx context.Context, k DigestKey, owner string, now time.Time, lease time.Duration) (Claim, error) {
	var c Claim
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		var leaseUntil, next int64
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT state, lease_until, next_attempt, attempts FROM digests
			WHERE platform = ? AND channel = ? AND day = ?`, k.Platform, k.Channel, k.Day).
			Scan(&state, &leaseUntil, &next, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			c = Claim{Outcome: Claimed, Attempt: 1}
			_, err = tx.ExecContext(ctx, `INSERT INTO digests
				(platform, channel, day, state, owner, lease_until, attempts, updated_at)
				VALUES (?, ?, ?, 'claimed', ?, ?, 1, ?)`,
				k.Platform, k.Channel, k.Day, owner, millis(now.Add(lease)), millis(now))
			return err
		}
		if err != nil {
			return err
		}
		c.State = state
		switch state {
		case StateSent, StateFailed:
			c.Outcome = Done
			return nil
		case StateClaimed:
			if until := fromMillis(leaseUntil); now.Before(until) {
				c.Outcome, c.Until = Busy, until
				return nil
			}
		case StateRetry:
			if at := fromMillis(next); now.Before(at) {
				c.Outcome, c.Until = Later, at
				return nil
			}
		}
		c = Claim{Outcome: Claimed, State: state, InDoubt: true, Attempt: attempts + 1}
		_, err = tx.ExecContext(ctx, `UPDATE digests
			SET state = 'claimed', owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE platform = ? AND channel = ? AND day = ?`,
			owner, millis(now.Add(lease)), millis(now), k.Platform, k.Channel, k.Day)
		return err
	})
	if err != nil {
		return Claim{}, fmt.Errorf("claim digest %s: %w", k, err)
	}
	return c, nil
}

// MarkDigestSent records that the digest reached its channel and clears the
// subscription's failure count.
func (s *Store) MarkDigestSent(ctx context.Context, k DigestKey, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE digests SET state = 'sent', error = '', lease_until = 0, updated_at = ?
			WHERE platform = ? AND channel = ? AND day = ? AND state IN ('claimed', 'retry')`,
			millis(now), k.Platform, k.Channel, k.Day); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE subscriptions SET failures = 0 WHERE platform = ? AND channel = ?`, k.Platform, k.Channel)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark digest %s sent: %w", k, err)
	}
	return nil
}

// RetryDigest gives up owner's claim after a temporary failure: the next
// attempt is due at next. It does nothing when owner no longer holds the
// claim.
func (s *Store) RetryDigest(ctx context.Context, k DigestKey, owner string, now, next time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE digests
		SET state = 'retry', owner = '', lease_until = 0, next_attempt = ?, error = ?, updated_at = ?
		WHERE platform = ? AND channel = ? AND day = ? AND state = 'claimed' AND owner = ?`,
		millis(next), clip(reason, 500), millis(now), k.Platform, k.Channel, k.Day, owner)
	if err != nil {
		return fmt.Errorf("retry digest %s: %w", k, err)
	}
	return nil
}

// Failure is the state of a subscription after a failed day.
type Failure struct {
	Failures int  // consecutive failed days
	Paused   bool // the subscription is now paused
}

// FailDigest gives up the digest for the day, counts a failed day against
// the subscription and pauses it when that makes maxFailures in a row.
func (s *Store) FailDigest(ctx context.Context, k DigestKey, now time.Time, reason string, maxFailures int) (Failure, error) {
	var f Failure
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE digests SET state = 'failed', owner = '', lease_until = 0, error = ?, updated_at = ?
			WHERE platform = ? AND channel = ? AND day = ? AND state IN ('claimed', 'retry')`,
			clip(reason, 500), millis(now), k.Platform, k.Channel, k.Day)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE subscriptions
				SET failures = failures + 1, paused = CASE WHEN failures + 1 >= ? THEN 1 ELSE paused END
				WHERE platform = ? AND channel = ?`, maxFailures, k.Platform, k.Channel); err != nil {
				return err
			}
		}
		err = tx.QueryRowContext(ctx, `SELECT failures, paused FROM subscriptions WHERE platform = ? AND channel = ?`,
			k.Platform, k.Channel).Scan(&f.Failures, &f.Paused)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // unsubscribed meanwhile
		}
		return err
	})
	if err != nil {
		return Failure{}, fmt.Errorf("fail digest %s: %w", k, err)
	}
	return f, nil
}

// Digest returns the record of one digest, or ErrNotFound.
func (s *Store) Digest(ctx context.Context, k DigestKey) (DigestRecord, error) {
	recs, err := s.digests(ctx, `WHERE platform = ? AND channel = ? AND day = ?`, k.Platform, k.Channel, k.Day)
	if err != nil {
		return DigestRecord{}, fmt.Errorf("digest %s: %w", k, err)
	}
	if len(recs) == 0 {
		return DigestRecord{}, fmt.Errorf("digest %s: %w", k, ErrNotFound)
	}
	return recs[0], nil
}

// Digests returns a channel's digest records, newest day first, at most
// limit of them.
func (s *Store) Digests(ctx context.Context, platform, channel string, limit int) ([]DigestRecord, error) {
	recs, err := s.digests(ctx, `WHERE platform = ? AND channel = ? ORDER BY day DESC LIMIT ?`, platform, channel, limit)
	if err != nil {
		return nil, fmt.Errorf("digests of %s:%s: %w", platform, channel, err)
	}
	return recs, nil
}

func (s *Store) digests(ctx context.Context, where string, args ...any) ([]DigestRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT platform, channel, day, state, owner, lease_until, next_attempt, attempts, error, updated_at
		FROM digests `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DigestRecord
	for rows.Next() {
		var r DigestRecord
		var lease, next, updated int64
		if err := rows.Scan(&r.Platform, &r.Channel, &r.Day, &r.State, &r.Owner, &lease, &next, &r.Attempts, &r.Error, &updated); err != nil {
			return nil, err
		}
		r.LeaseUntil, r.NextAttempt, r.UpdatedAt = fromMillis(lease), fromMillis(next), fromMillis(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}
