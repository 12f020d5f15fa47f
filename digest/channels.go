package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/explainerbot/explainer/store"
)

// Channels manages digest subscriptions on behalf of the people in a
// channel: what the Slack and Discord digest commands do. It checks what
// they typed, fills in the defaults, keeps the subscription in the store
// and tells the scheduler, so a change takes effect at once.
type Channels struct {
	Store ChannelStore
	// Scheduler, when set, is synced after every change (*Scheduler).
	Scheduler Syncer
	// Digests composes the digest shown by "digest now" (*Composer, or
	// one that follows knowledge base reloads).
	Digests Source
	// Zone is the time zone used when none is given (EXPLAINER_TZ); UTC
	// when empty.
	Zone string
	// At is the time of day used when none is given; 09:00 when empty.
	At string
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// ChannelStore is what Channels keeps in the store (*store.Store).
type ChannelStore interface {
	Subscribe(ctx context.Context, sub store.Subscription) (created bool, err error)
	Unsubscribe(ctx context.Context, platform, channel string) error
	Subscriptions(ctx context.Context) ([]store.Subscription, error)
	Subscription(ctx context.Context, platform, channel string) (store.Subscription, error)
}

// Syncer reloads the subscriptions (*Scheduler).
type Syncer interface {
	Sync(ctx context.Context) error
}

// DefaultAt is the time of day a subscription gets when none is given.
const DefaultAt = "09:00"

// ErrNotSubscribed is returned when a channel that is not subscribed is
// unsubscribed.
var ErrNotSubscribed = errors.New("this channel does not get the daily digest")

// InputError is a problem with what someone typed, worded for them: the
// message names the problem and what to type instead.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is a problem with what someone typed,
// to be shown to them as it is.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// Subscribed is a channel's subscription as people see it.
type Subscribed struct {
	Platform string
	Channel  string
	At       string // HH:MM
	Zone     string // IANA zone name
	Created  bool   // Subscribe: the channel was not subscribed before
	Paused   bool   // after too many failed days
	Failures int    // failed days in a row
	// Next is when the next digest is due; zero when paused.
	Next time.Time
}

func (c *Channels) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Channels) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Subscribe subscribes a channel, or changes its time and zone (and
// resumes it when paused). at and zone may be empty for the defaults; a
// zone is matched without regard to case, and a common zone by its city
// alone ("berlin"). by is who asked, for the record.
func (c *Channels) Subscribe(ctx context.Context, platform, channel, at, zone, by string) (Subscribed, error) {
	if at == "" {
		at = c.At
		if at == "" {
			at = DefaultAt
		}
	}
	if zone == "" {
		zone = c.Zone
		if zone == "" {
			zone = "UTC"
		}
	}
	when, name, err := CheckSchedule(at, ResolveZone(zone))
	if err != nil {
		return Subscribed{}, &InputError{err}
	}
	created, err := c.Store.Subscribe(ctx, store.Subscription{Platform: platform, Channel: channel, At: when, Zone: name, CreatedBy: by})
	if err != nil {
		return Subscribed{}, err
	}
	c.sync(ctx)
	next, _ := NextTime(c.now(), when, name)
	c.log().Info("digest subscription set", "platform", platform, "channel", channel, "at", when, "zone", name, "created", created)
	return Subscribed{Platform: platform, Channel: channel, At: when, Zone: name, Created: created, Next: next}, nil
}

// Unsubscribe stops a channel's digest. It returns ErrNotSubscribed when
// the channel had none.
func (c *Channels) Unsubscribe(ctx context.Context, platform, channel string) error {
	err := c.Store.Unsubscribe(ctx, platform, channel)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotSubscribed
	}
	if err != nil {
		return err
	}
	c.sync(ctx)
	c.log().Info("digest subscription removed", "platform", platform, "channel", channel)
	return nil
}

// sync tells the scheduler; a failure only delays the change until the
// scheduler's next sweep, so it is logged, not returned.
func (c *Channels) sync(ctx context.Context) {
	if c.Scheduler == nil {
		return
	}
	if err := c.Scheduler.Sync(ctx); err != nil {
		c.log().Warn("digest scheduler not synced; the change takes effect at its next sweep", "err", err)
	}
}

// List returns the subscriptions of one platform, by channel.
func (c *Channels) List(ctx context.Context, platform string) ([]Subscribed, error) {
	subs, err := c.Store.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	now := c.now()
	var out []Subscribed
	for _, s := range subs {
		if s.Platform != platform {
			continue
		}
		out = append(out, c.subscribed(s, now))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out, nil
}

// Get returns one channel's subscription, or ErrNotSubscribed.
func (c *Channels) Get(ctx context.Context, platform, channel string) (Subscribed, error) {
	s, err := c.Store.Subscription(ctx, platform, channel)
	if errors.Is(err, store.ErrNotFound) {
		return Subscribed{}, ErrNotSubscribed
	}
	if err != nil {
		return Subscribed{}, err
	}
	return c.subscribed(s, c.now()), nil
}

func (c *Channels) subscribed(s store.Subscription, now time.Time) Subscribed {
	out := Subscribed{Platform: s.Platform, Channel: s.Channel, At: s.At, Zone: s.Zone, Paused: s.Paused, Failures: s.Failures}
	if !s.Paused {
		out.Next, _ = NextTime(now, s.At, s.Zone)
	}
	return out
}

// Today composes today's digest for a channel: today in the channel's
// zone when it is subscribed, else in the default zone.
func (c *Channels) Today(ctx context.Context, platform, channel string) (Digest, error) {
	if c.Digests == nil {
		return Digest{}, errors.New("digest: no composer")
	}
	zone := c.Zone
	if s, err := c.Store.Subscription(ctx, platform, channel); err == nil {
		zone = s.Zone
	}
	loc, err := LoadZone(zone)
	if err != nil {
		loc = time.UTC
	}
	return c.Digests.Compose(ctx, Today(c.now(), loc))
}

// FormatNext says when a digest is next due, in its own zone, for people:
// "Tue 28 Jan 09:00 CET".
func FormatNext(t time.Time) string { return t.Format("Mon 2 Jan 15:04 MST") }

// commonZones are time zones offered as suggestions: one or two for each
// part of the world. Any IANA zone name is accepted.
var commonZones = []string{
	"UTC",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin",
	"Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Zurich",
	"Europe/Vienna", "Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki",
	"Europe/Warsaw", "Europe/Prague", "Europe/Athens", "Europe/Istanbul", "Europe/Kyiv",
	"Europe/Moscow",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
	"America/Los_Angeles", "America/Anchorage", "America/Toronto", "America/Vancouver",
	"America/Mexico_City", "America/Bogota", "America/Lima", "America/Sao_Paulo",
	"America/Argentina/Buenos_Aires", "America/Santiago", "Pacific/Honolulu",
	"Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi",
	"Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok",
	"Asia/Jakarta", "Asia/Singapore", "Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei",
	"Asia/Seoul", "Asia/Tokyo", "Australia/Perth", "Australia/Adelaide",
	"Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland",
}

// CommonZones lists the zones Zones suggests from.
func CommonZones() []string { return append([]string(nil), commonZones...) }

// zoneKey is a zone name or a city as people type it, for matching:
// lower case, spaces as underscores.
func zoneKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), "_"))
}

// ResolveZone returns the zone name that typed means: typed itself when
// it is a zone, else the common zone it names without regard to case or
// by its city ("berlin", "new york"). Anything else is returned as typed,
// for LoadZone to refuse with a clear message.
func ResolveZone(typed string) string {
	typed = strings.TrimSpace(typed)
	if _, err := LoadZone(typed); err == nil {
		return typed
	}
	key := zoneKey(typed)
	for _, z := range commonZones {
		k := strings.ToLower(z)
		if k == key || k[strings.LastIndexByte(k, '/')+1:] == key {
			return z
		}
	}
	return typed
}

// Zones suggests up to n zones matching what has been typed so far: the
// common zones whose name or city starts with it, then those containing
// it, and first of all typed itself when it is a zone name not listed.
func Zones(typed string, n int) []string {
	key := zoneKey(typed)
	var first, then []string
	if r := ResolveZone(typed); r != "" && !slices.Contains(commonZones, r) {
		if _, err := LoadZone(r); err == nil {
			first = append(first, r)
		}
	}
	for _, z := range commonZones {
		k := strings.ToLower(z)
		city := k[strings.LastIndexByte(k, '/')+1:]
		switch {
		case strings.HasPrefix(k, key) || strings.HasPrefix(city, key):
			first = append(first, z)
		case strings.Contains(k, key):
			then = append(then, z)
		}
	}
	out := append(first, then...)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// ParseArgs reads the arguments of a subscribe command typed as words,
// "[HH:MM] [Zone]" in either order: a word with a colon and digits is the
// time, any other the zone (a zone of several words, "New York", is
// joined). Either may be missing.
func ParseArgs(args []string) (at, zone string, err error) {
	var zoneWords []string
	for _, a := range args {
		if looksLikeClock(a) {
			if at != "" {
				return "", "", &InputError{fmt.Errorf("two times given (%s and %s): give one, such as 09:00", at, a)}
			}
			at = a
			continue
		}
		zoneWords = append(zoneWords, a)
	}
	return at, strings.Join(zoneWords, " "), nil
}

func looksLikeClock(s string) bool {
	if !strings.Contains(s, ":") {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != ':' && r != '.' {
			return strings.ContainsAny(s, "0123456789") && !strings.Contains(s, "/")
		}
	}
	return true
}
