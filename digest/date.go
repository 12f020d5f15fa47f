package digest

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Date is a calendar day, without a time or a zone: the day a digest is
// for, in its channel's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Today is the date now in loc.
func Today(now time.Time, loc *time.Location) Date { return DateOf(now.In(loc)) }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// At is the time of day h:m on d in loc. A time that does not exist that
// day (skipped when clocks go forward) is moved forward by the gap, so
// 02:30 on a day that jumps from 02:00 to 03:00 is 03:30.
func (d Date) At(h, m int, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, loc)
}

// AddDays is the date n days after d (before, when n is negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday is d's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// dayNumber counts days since 1970-01-01 (negative before).
func (d Date) dayNumber() int64 {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// Long is d for people: "Monday 27 January 2025".
func (d Date) Long() string {
	return fmt.Sprintf("%s %d %s %d", d.Weekday(), d.Day, d.Month, d.Year)
}

var clockPattern = regexp.MustCompile(`^([01]?\d|2[0-3]):([0-5]\d)$`)

// ParseClock reads a time of day, HH:MM on the 24-hour clock ("9:05" is
// accepted too).
func ParseClock(s string) (hour, minute int, err error) {
	m := clockPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("time %q: want HH:MM on the 24-hour clock, such as 09:00 or 17:30", s)
	}
	hour, _ = strconv.Atoi(m[1])
	minute, _ = strconv.Atoi(m[2])
	return hour, minute, nil
}

// FormatClock writes a time of day as HH:MM.
func FormatClock(hour, minute int) string { return fmt.Sprintf("%02d:%02d", hour, minute) }

// LoadZone reads an IANA time zone name such as Europe/Berlin or UTC. The
// empty name and "Local" are refused: a subscription's zone must mean the
// same on every machine.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q: want a zone name such as Europe/Berlin, America/New_York or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is unknown: want a zone name such as Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

// CheckSchedule validates a subscription's time of day and zone and
// returns them in canonical form (HH:MM and the zone's name).
func CheckSchedule(at, zone string) (string, string, error) {
	h, m, err := ParseClock(at)
	if err != nil {
		return "", "", err
	}
	loc, err := LoadZone(zone)
	if err != nil {
		return "", "", err
	}
	return FormatClock(h, m), loc.String(), nil
}

// lastOccurrence is the latest time at or before now that is h:m in loc,
// with the local date it belongs to.
func lastOccurrence(now time.Time, h, m int, loc *time.Location) (time.Time, Date) {
	day := DateOf(now.In(loc))
	t := day.At(h, m, loc)
	if t.After(now) {
		day = day.AddDays(-1)
		t = day.At(h, m, loc)
	}
	return t, day
}

// NextTime is the first time after now that the time of day at (HH:MM)
// comes round in zone: when a subscription's next digest is due.
func NextTime(now time.Time, at, zone string) (time.Time, error) {
	h, m, err := ParseClock(at)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := LoadZone(zone)
	if err != nil {
		return time.Time{}, err
	}
	_, day := lastOccurrence(now, h, m, loc)
	return day.AddDays(1).At(h, m, loc), nil
}
