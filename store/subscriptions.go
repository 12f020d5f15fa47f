package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Subscription is a channel that gets the daily digest.
type Subscription struct {
	Platform  string // slack or discord
	Channel   string // the platform's channel id
	At        string // HH:MM, local time
	Zone      string // IANA time zone
	Paused    bool   // set after too many failed days; subscribing again resumes
	Failures  int    // consecutive days that failed
	CreatedBy string // who subscribed it (a platform user id, or "cli")
	CreatedAt time.Time
	UpdatedAt time.Time // when the time or zone was last set
}

// ErrNotFound is returned when there is no such row.
var ErrNotFound = errors.New("not found")

// Subscribe adds a subscription, or updates the time and zone of an
// existing one and resumes it. It reports whether the subscription is new.
func (s *Store) Subscribe(ctx context.Context, sub Subscription) (created bool, err error) {
	if sub.Platform == "" || sub.Channel == "" || sub.At == "" || sub.Zone == "" {
		return false, fmt.Errorf("subscribe: platform, channel, time and zone are all needed")
	}
	now := millis(s.now())
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions
			SET at = ?, zone = ?, paused = 0, failures = 0, updated_at = ?
			WHERE platform = ? AND channel = ?`,
			sub.At, sub.Zone, now, sub.Platform, sub.Channel)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO subscriptions
			(platform, channel, at, zone, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sub.Platform, sub.Channel, sub.At, sub.Zone, sub.CreatedBy, now, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("subscribe %s:%s: %w", sub.Platform, sub.Channel, err)
	}
	return created, nil
}

// Unsubscribe removes a subscription. It returns ErrNotFound when there was
// none.
func (s *Store) Unsubscribe(ctx context.Context, platform, channel string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscriptions WHERE platform = ? AND channel = ?`, platform, channel)
	if err != nil {
		return fmt.Errorf("unsubscribe %s:%s: %w", platform, channel, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("unsubscribe %s:%s: %w", platform, channel, ErrNotFound)
	}
	return nil
}

const subColumns = `platform, channel, at, zone, paused, failures, created_by, created_at, updated_at`

func scanSub(sc interface{ Scan(...any) error }) (Subscription, error) {
	var sub Subscription
	var created, updated int64
	err := sc.Scan(&sub.Platform, &sub.Channel, &sub.At, &sub.Zone, &sub.Paused, &sub.Failures, &sub.CreatedBy, &created, &updated)
	sub.CreatedAt, sub.UpdatedAt = fromMillis(created), fromMillis(updated)
	return sub, err
}

// Subscriptions lists every subscription, paused ones included, by
// platform and channel.
func (s *Store) Subscriptions(ctx context.Context) ([]Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+subColumns+` FROM subscriptions ORDER BY platform, channel`)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// Subscription returns one subscription, or ErrNotFound.
func (s *Store) Subscription(ctx context.Context, platform, channel string) (Subscription, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+subColumns+` FROM subscriptions WHERE platform = ? AND channel = ?`, platform, channel)
	sub, err := scanSub(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, fmt.Errorf("subscription %s:%s: %w", platform, channel, ErrNotFound)
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("subscription %s:%s: %w", platform, channel, err)
	}
	return sub, nil
}

// SetPaused pauses or resumes a subscription; resuming clears its failures.
func (s *Store) SetPaused(ctx context.Context, platform, channel string, paused bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET paused = ?, failures = CASE WHEN ? THEN failures ELSE 0 END
		WHERE platform = ? AND channel = ?`, paused, paused, platform, channel)
	if err != nil {
		return fmt.Errorf("pause %s:%s: %w", platform, channel, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("pause %s:%s: %w", platform, channel, ErrNotFound)
	}
	return nil
}
