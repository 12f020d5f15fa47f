package digest

import (
	"context"
	"errors"
	"time"
)

// Poster posts digests to the channels of one platform: the Slack or
// Discord adapter.
//
// Post renders d in the platform's format and posts it to channel. key
// identifies this digest (platform, channel and date) and must travel with
// the message where Posted can find it again: Slack message metadata, or
// a Discord embed footer or message nonce.
//
// Posted reports whether a message carrying key is already in channel (in
// its recent history). The scheduler asks only when a post may or may not
// have gone through (its process died mid-post, or a post timed out), so
// that a digest is neither lost nor posted twice.
//
// Errors are temporary (rate limits, timeouts, server errors) unless
// wrapped with Permanent (the channel is gone, the bot was removed, it has
// no access): the scheduler retries the first with backoff and gives up the
// day on the second, pausing the subscription after repeated failed days.
type Poster interface {
	Post(ctx context.Context, channel string, d Digest, key string) error
	Posted(ctx context.Context, channel, key string) (bool, error)
}

// PermanentError is a failure that retrying will not fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as a failure that retrying will not fix: the channel
// is gone, the bot is not in it or may not post there.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryAfterError is a temporary failure with the platform's word on when
// to try again (Slack's and Discord's Retry-After).
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string {
	return e.Err.Error() + " (retry after " + e.After.String() + ")"
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter marks err as temporary, to be retried no sooner than after d.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryAfterError{Err: err, After: d}
}

// Key is the idempotency key of the digest for one channel and date, the
// key a Poster is given: "explainer-digest:slack:C0123:2025-01-27".
func Key(platform, channel string, date Date) string {
	return "explainer-digest:" + platform + ":" + channel + ":" + date.String()
}
