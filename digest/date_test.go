package digest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/store"
)

func TestCheckSchedule(t *testing.T) {
	tests := []struct {
		at, zone         string
		wantAt, wantZone string
		err              string
	}{
		{"09:00", "Europe/Berlin", "09:00", "Europe/Berlin", ""},
		{"9:05", "UTC", "09:05", "UTC", ""},
		{"23:59", "Asia/Kathmandu", "23:59", "Asia/Kathmandu", ""},
		{"00:00", "America/New_York", "00:00", "America/New_York", ""},
		{"24:00", "UTC", "", "", `time "24:00"`},
		{"9", "UTC", "", "", `time "9"`},
		{"09:60", "UTC", "", "", `time "09:60"`},
		{"9am", "UTC", "", "", `time "9am"`},
		{" 09:00", "UTC", "", "", `time " 09:00"`},
		{"09:00", "Europe/Atlantis", "", "", `time zone "Europe/Atlantis" is unknown`},
		{"09:00", "", "", "", `time zone ""`},
		{"09:00", "Local", "", "", `time zone "Local"`},
	}
	for _, tc := range tests {
		at, zone, err := digest.CheckSchedule(tc.at, tc.zone)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("CheckSchedule(%q, %q) = %v, want error with %q", tc.at, tc.zone, err, tc.err)
			}
			continue
		}
		if err != nil || at != tc.wantAt || zone != tc.wantZone {
			t.Errorf("CheckSchedule(%q, %q) = %q, %q, %v", tc.at, tc.zone, at, zone, err)
		}
	}
}

func TestNextTime(t *testing.T) {
	tests := []struct {
		now, at, zone, want string
	}{
		{"2025-01-27T07:59:00Z", "09:00", "Europe/Berlin", "2025-01-27T08:00:00Z"},
		{"2025-01-27T08:00:00Z", "09:00", "Europe/Berlin", "2025-01-28T08:00:00Z"}, // at the time: the next day
		{"2025-03-29T09:00:00Z", "09:00", "Europe/Berlin", "2025-03-30T07:00:00Z"}, // over the change to summer time
		{"2025-03-29T23:00:00Z", "02:30", "Europe/Berlin", "2025-03-30T01:30:00Z"}, // a time that does not exist that day
		{"2025-10-25T23:00:00Z", "02:30", "Europe/Berlin", "2025-10-26T01:30:00Z"}, // a time that comes twice: once
		{"2025-01-27T23:30:00Z", "00:15", "Asia/Tokyo", "2025-01-28T15:15:00Z"},
	}
	for _, tc := range tests {
		got, err := digest.NextTime(utc(tc.now), tc.at, tc.zone)
		if err != nil || !got.Equal(utc(tc.want)) {
			t.Errorf("NextTime(%s, %s %s) = %s %v, want %s", tc.now, tc.at, tc.zone, got.UTC(), err, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	d, err := digest.ParseDate("2024-02-28")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.AddDays(1).String(); got != "2024-02-29" {
		t.Errorf("leap day: %s", got)
	}
	if got := d.AddDays(-59).String(); got != "2023-12-31" {
		t.Errorf("back over the year: %s", got)
	}
	if got := d.Long(); got != "Wednesday 28 February 2024" {
		t.Errorf("long form %q", got)
	}
	for _, bad := range []string{"2024-02-30", "28.02.2024", "", "2024-2-28"} {
		if _, err := digest.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	// Today is the date in the zone, not in UTC.
	now := utc("2025-01-27T23:30:00Z")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := digest.Today(now, tokyo).String(); got != "2025-01-28" {
		t.Errorf("today in Tokyo %s", got)
	}
}

func TestGroupGaps(t *testing.T) {
	at := utc("2025-01-27T08:00:00Z")
	item := func(kind, q, reason string, entries ...string) store.GapItem {
		at = at.Add(time.Minute)
		return store.GapItem{Kind: kind, Question: q, Reason: reason, Entries: entries, At: at}
	}
	items := []store.GapItem{
		item(store.GapDeclined, "How much did DeepSeek spend on training?", "gap"),
		item(store.GapDeclined, "Who is Jensen Huang?", "not_covered"),
		item(store.GapUnhelpful, "what is CUDA", "", "cuda"),
		item(store.GapDeclined, "who's  jensen\u00a0huang", "not_covered"),
		item(store.GapDeclined, "JENSEN HUANG?? who is he", "not_covered"),
		item(store.GapDeclined, "what does Jensen Huang do", "not_covered"),
		item(store.GapUnhelpful, "what's cuda", "", "cuda", "cuda-moat"),
		item(store.GapDeclined, "   ", "empty"),
		item(store.GapDeclined, "what is the weather", "live_data"),
	}
	got := digest.GroupGaps(items)
	type brief struct {
		q                string
		count, dec, unh  int
		wordings         int
		reasons, entries string
	}
	var b []brief
	for _, g := range got {
		b = append(b, brief{g.Question, g.Count, g.Declined, g.Unhelpful, len(g.Wordings), strings.Join(g.Reasons, ","), strings.Join(g.Entries, ",")})
	}
	want := []brief{
		// Wordings that share their content words are one question; the
		// first seen names it when none is more common.
		{"who is jensen huang?", 4, 4, 0, 3, "not_covered", ""},
		{"what is cuda", 2, 0, 2, 1, "", "cuda,cuda-moat"},
		{"what is the weather", 1, 1, 0, 0, "live_data", ""},
		{"how much did deepseek spend on training?", 1, 1, 0, 0, "gap", ""},
	}
	if len(b) != len(want) {
		t.Fatalf("groups:\n got %+v\nwant %+v", b, want)
	}
	for i := range want {
		if b[i] != want[i] {
			t.Errorf("group %d:\n got %+v\nwant %+v", i, b[i], want[i])
		}
	}
}
