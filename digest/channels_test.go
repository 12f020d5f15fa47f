package digest_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/store"
)

type countSyncs struct{ n atomic.Int32 }

func (c *countSyncs) Sync(context.Context) error { c.n.Add(1); return nil }

func newChannels(t *testing.T, now time.Time) (*digest.Channels, *store.Store, *countSyncs) {
	t.Helper()
	st, err := store.Open(context.Background(), dbPath(t), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if sharedComposer == nil {
		sharedComposer = composer(t, digest.Options{})
	}
	syncs := &countSyncs{}
	return &digest.Channels{Store: st, Scheduler: syncs, Digests: sharedComposer, Zone: "Europe/Berlin", Now: func() time.Time { return now }}, st, syncs
}

func TestChannelsSubscribe(t *testing.T) {
	now := utc("2025-01-27T10:00:00Z") // Monday, 11:00 in Berlin
	tests := []struct {
		name     string
		at, zone string
		wantAt   string
		wantZone string
		wantNext string // UTC
		wantErr  string
	}{
		{"defaults", "", "", "09:00", "Europe/Berlin", "2025-01-28T08:00:00Z", ""},
		{"time and zone", "17:30", "America/New_York", "17:30", "America/New_York", "2025-01-27T22:30:00Z", ""},
		{"zone without regard to case", "7:05", "europe/LONDON", "07:05", "Europe/London", "2025-01-28T07:05:00Z", ""},
		{"a city alone", "12:00", "new york", "12:00", "America/New_York", "2025-01-27T17:00:00Z", ""},
		{"a zone not in the common list", "", "Asia/Kathmandu", "09:00", "Asia/Kathmandu", "2025-01-28T03:15:00Z", ""},
		{"bad time", "25:00", "", "", "", "", `time "25:00": want HH:MM`},
		{"am/pm", "9:00am", "", "", "", "", `time "9:00am": want HH:MM`},
		{"bad zone", "", "Mars/Olympus", "", "", "", `time zone "Mars/Olympus" is unknown`},
		{"Local", "", "Local", "", "", "", `time zone "Local"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, st, syncs := newChannels(t, now)
			got, err := c.Subscribe(context.Background(), "slack", "C1", tt.at, tt.zone, "U1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !digest.IsInputError(err) {
					t.Fatalf("err = %v, want an input error containing %q", err, tt.wantErr)
				}
				if subs, _ := st.Subscriptions(context.Background()); len(subs) != 0 || syncs.n.Load() != 0 {
					t.Errorf("a refused subscription left %v, %d syncs", subs, syncs.n.Load())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.At != tt.wantAt || got.Zone != tt.wantZone || !got.Created || got.Next.UTC().Format(time.RFC3339) != tt.wantNext {
				t.Errorf("got %+v (next %s), want %s %s next %s", got, got.Next.UTC(), tt.wantAt, tt.wantZone, tt.wantNext)
			}
			sub, err := st.Subscription(context.Background(), "slack", "C1")
			if err != nil || sub.At != tt.wantAt || sub.Zone != tt.wantZone || sub.CreatedBy != "U1" {
				t.Errorf("stored %+v, %v", sub, err)
			}
			if syncs.n.Load() != 1 {
				t.Errorf("scheduler synced %d times, want 1", syncs.n.Load())
			}
		})
	}
}

func TestChannelsChangeListUnsubscribe(t *testing.T) {
	ctx := context.Background()
	now := utc("2025-01-27T10:00:00Z")
	c, st, syncs := newChannels(t, now)
	if _, err := c.Subscribe(ctx, "slack", "C2", "08:00", "UTC", "U1"); err != nil {
		t.Fatal(err)
	}
	again, err := c.Subscribe(ctx, "slack", "C2", "18:00", "UTC", "U2")
	if err != nil || again.Created || again.At != "18:00" {
		t.Fatalf("resubscribe: %+v %v, want an update to 18:00", again, err)
	}
	if _, err := c.Subscribe(ctx, "slack", "C1", "", "", "U1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, "discord", "123456789012345678", "", "", "U1"); err != nil {
		t.Fatal(err)
	}
	st.SetPaused(ctx, "slack", "C1", true)

	list, err := c.List(ctx, "slack")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Channel != "C1" || list[1].Channel != "C2" {
		t.Fatalf("list = %+v, want C1 and C2 of slack only", list)
	}
	if !list[0].Paused || !list[0].Next.IsZero() {
		t.Errorf("paused C1 listed as %+v", list[0])
	}
	if list[1].Next.UTC() != utc("2025-01-27T18:00:00Z") {
		t.Errorf("C2 next %s", list[1].Next.UTC())
	}

	if err := c.Unsubscribe(ctx, "slack", "C2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(ctx, "slack", "C2"); !errors.Is(err, digest.ErrNotSubscribed) {
		t.Errorf("unsubscribe twice: %v, want ErrNotSubscribed", err)
	}
	if _, err := c.Get(ctx, "slack", "C2"); !errors.Is(err, digest.ErrNotSubscribed) {
		t.Errorf("get after unsubscribe: %v", err)
	}
	if n := syncs.n.Load(); n != 5 {
		t.Errorf("scheduler synced %d times, want 5 (4 subscribes and 1 unsubscribe)", n)
	}
}

// Today is today in the channel's zone: at 23:30 UTC on the 27th it is
// already the 28th in Berlin, still the 27th in New York.
func TestChannelsToday(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newChannels(t, utc("2025-01-27T23:30:00Z"))
	if _, err := c.Subscribe(ctx, "slack", "CNY", "", "America/New_York", "U1"); err != nil {
		t.Fatal(err)
	}
	for channel, want := range map[string]string{"CNY": "2025-01-27", "CNOTSUB": "2025-01-28"} {
		d, err := c.Today(ctx, "slack", channel)
		if err != nil || d.Day != want || len(d.Points) < 3 {
			t.Errorf("%s: today %q (%d points), %v; want %s", channel, d.Day, len(d.Points), err, want)
		}
	}
}

func TestZones(t *testing.T) {
	for _, z := range digest.CommonZones() {
		if _, err := digest.LoadZone(z); err != nil {
			t.Errorf("common zone %s: %v", z, err)
		}
	}
	tests := []struct {
		typed string
		first string
		n     int
	}{
		{"", "UTC", 25},
		{"ber", "Europe/Berlin", 1},
		{"Europe/", "Europe/London", 21},
		{"new y", "America/New_York", 1},
		{"york", "America/New_York", 1},
		{"Asia/Kathmandu", "Asia/Kathmandu", 1},
		{"zzz", "", 0},
	}
	for _, tt := range tests {
		got := digest.Zones(tt.typed, 25)
		if len(got) != tt.n || (tt.n > 0 && got[0] != tt.first) {
			t.Errorf("Zones(%q) = %v; want %d starting with %q", tt.typed, got, tt.n, tt.first)
		}
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args     string
		at, zone string
		err      bool
	}{
		{"", "", "", false},
		{"09:30", "09:30", "", false},
		{"Europe/Berlin 7:15", "7:15", "Europe/Berlin", false},
		{"18:00 New York", "18:00", "New York", false},
		{"9:00am", "9:00am", "", false}, // refused by Subscribe, naming the time
		{"9:00 10:00", "", "", true},
	}
	for _, tt := range tests {
		at, zone, err := digest.ParseArgs(strings.Fields(tt.args))
		if at != tt.at || zone != tt.zone || (err != nil) != tt.err {
			t.Errorf("ParseArgs(%q) = %q, %q, %v", tt.args, at, zone, err)
		}
	}
}
