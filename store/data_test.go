package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/store"
)

var t0 = time.Date(2025, 1, 27, 8, 0, 0, 0, time.UTC)

func TestFirstSeen(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	clk := &clock{t: t0}
	s := open(t, path, store.Options{Now: clk.Now, EventTTL: time.Hour})

	steps := []struct {
		source, id string
		advance    time.Duration
		want       bool
	}{
		{"slack", "Ev1", 0, true},
		{"slack", "Ev1", 0, false},                // a retried delivery
		{"discord", "Ev1", 0, true},               // another source's id space
		{"slack", "Ev2", 0, true},                 //
		{"slack", "Ev1", 59 * time.Minute, false}, // still remembered
		{"slack", "Ev1", 2 * time.Minute, true},   // forgotten after the TTL
	}
	for i, st := range steps {
		clk.Add(st.advance)
		got, err := s.FirstSeen(ctx, st.source, st.id)
		if err != nil {
			t.Fatal(err)
		}
		if got != st.want {
			t.Errorf("step %d: FirstSeen(%s, %s) = %v, want %v", i, st.source, st.id, got, st.want)
		}
	}

	// Remembered across a restart.
	s.Close()
	s2 := open(t, path, store.Options{Now: clk.Now, EventTTL: time.Hour})
	if first, err := s2.FirstSeen(ctx, "slack", "Ev1"); err != nil || first {
		t.Errorf("after reopen FirstSeen(Ev1) = %v, %v; want false", first, err)
	}
	// Pruning removed the expired ids.
	var n int
	if err := rawQueryRow(t, s2, "SELECT count(*) FROM events_seen", &n); err != nil || n != 1 {
		t.Errorf("%d ids kept after pruning (%v), want 1", n, err)
	}
}

func TestFirstSeenConcurrent(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempDB(t), store.Options{})
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			first, err := s.FirstSeen(ctx, "slack", "same")
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Fatalf("%d callers saw the event first, want 1", firsts.Load())
	}
}

func TestQuestionLogAndFeedbackUsers(t *testing.T) {
	ctx := context.Background()
	for _, logUsers := range []bool{false, true} {
		t.Run(fmt.Sprintf("LogUsers=%v", logUsers), func(t *testing.T) {
			clk := &clock{t: t0}
			s := open(t, tempDB(t), store.Options{Now: clk.Now, LogUsers: logUsers})
			q := bot.Question{Text: "Did  DeepSeek\u200b use fewer GPUs?", User: "U123", Platform: "slack", Channel: "C1"}
			a := bot.Answer{Question: "Did DeepSeek use fewer GPUs?", Answered: true, Entries: []string{"deepseek-gpus", "a100"}, Confidence: 0.82}
			if err := s.LogQuestion(ctx, q, a); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Second)
			declined := bot.Answer{Answered: false, Reason: bot.ReasonNotCovered, Confidence: 0.1}
			if err := s.LogQuestion(ctx, bot.Question{Text: "who is jensen huang", User: "U9", Platform: "discord"}, declined); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordFeedback(ctx, bot.Feedback{Platform: "slack", Channel: "C1", User: "U123", Question: "Did DeepSeek use fewer GPUs?", Entries: []string{"deepseek-gpus"}, Helpful: false, At: t0.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}

			got, err := s.Questions(ctx, time.Time{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("%d questions logged, want 2", len(got))
			}
			wantUser := ""
			if logUsers {
				wantUser = "U123"
			}
			first := got[0]
			if first.User != wantUser || first.Question != a.Question || !first.Answered || first.Confidence != 0.82 ||
				first.Platform != "slack" || len(first.Entries) != 2 || first.Entries[1] != "a100" || !first.At.Equal(t0) {
				t.Errorf("first logged question %+v", first)
			}
			// Without an answer text the question is normalised.
			if got[1].Question != "who is jensen huang" || got[1].Reason != bot.ReasonNotCovered || got[1].Answered {
				t.Errorf("second logged question %+v", got[1])
			}
			var fbUser string
			if err := rawQueryRow(t, s, "SELECT user FROM feedback", &fbUser); err != nil {
				t.Fatal(err)
			}
			if fbUser != wantUser {
				t.Errorf("feedback user %q, want %q", fbUser, wantUser)
			}
		})
	}
}

func TestGaps(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	s := open(t, tempDB(t), store.Options{Now: clk.Now})
	log := func(text string, answered bool, reason string) {
		t.Helper()
		if err := s.LogQuestion(ctx, bot.Question{Text: text, Platform: "slack"}, bot.Answer{Answered: answered, Reason: reason}); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
	}
	log("too old to count", false, bot.ReasonNotCovered)
	clk.Add(8 * 24 * time.Hour)
	since := clk.Now().Add(-time.Second)
	log("who is jensen huang?", false, bot.ReasonNotCovered)
	log("how much did training cost", false, bot.ReasonGap)
	log("write me a poem", false, bot.ReasonTask)
	log("did deepseek use fewer gpus", true, "")
	if err := s.RecordFeedback(ctx, bot.Feedback{Question: "what is cuda", Entries: []string{"cuda"}, Helpful: false, At: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFeedback(ctx, bot.Feedback{Question: "what is groq", Entries: []string{"groq"}, Helpful: true, At: clk.Now()}); err != nil {
		t.Fatal(err)
	}

	got, err := s.Gaps(ctx, since, false)
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, g := range got {
		summary = append(summary, g.Kind+"|"+g.Question+"|"+g.Reason+"|"+fmt.Sprint(g.Entries))
	}
	want := []string{
		"declined|who is jensen huang?|not_covered|[]",
		"declined|how much did training cost|gap|[]",
		"unhelpful|what is cuda||[cuda]",
	}
	if fmt.Sprint(summary) != fmt.Sprint(want) {
		t.Errorf("gaps:\n got %q\nwant %q", summary, want)
	}
	all, err := s.Gaps(ctx, since, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Errorf("with all: %d items, want 4 (the task request too)", len(all))
	}
}

func TestSubscriptions(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	s := open(t, tempDB(t), store.Options{Now: clk.Now})
	created, err := s.Subscribe(ctx, store.Subscription{Platform: "slack", Channel: "C1", At: "09:00", Zone: "Europe/Berlin", CreatedBy: "U1"})
	if err != nil || !created {
		t.Fatalf("subscribe: %v %v", created, err)
	}
	if _, err := s.Subscribe(ctx, store.Subscription{Platform: "discord", Channel: "123", At: "07:30", Zone: "America/New_York", CreatedBy: "cli"}); err != nil {
		t.Fatal(err)
	}
	// A failed day, then pause.
	k := store.DigestKey{Platform: "slack", Channel: "C1", Day: "2025-01-27"}
	if _, err := s.ClaimDigest(ctx, k, "me", clk.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if f, err := s.FailDigest(ctx, k, clk.Now(), "channel_not_found", 1); err != nil || !f.Paused || f.Failures != 1 {
		t.Fatalf("fail: %+v %v", f, err)
	}
	// Subscribing again changes the time and resumes.
	clk.Add(time.Hour)
	created, err = s.Subscribe(ctx, store.Subscription{Platform: "slack", Channel: "C1", At: "10:15", Zone: "Asia/Tokyo", CreatedBy: "U2"})
	if err != nil || created {
		t.Fatalf("resubscribe: created=%v %v", created, err)
	}
	sub, err := s.Subscription(ctx, "slack", "C1")
	if err != nil {
		t.Fatal(err)
	}
	if sub.At != "10:15" || sub.Zone != "Asia/Tokyo" || sub.Paused || sub.Failures != 0 || sub.CreatedBy != "U1" ||
		!sub.CreatedAt.Equal(t0) || !sub.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after resubscribe: %+v", sub)
	}
	subs, err := s.Subscriptions(ctx)
	if err != nil || len(subs) != 2 || subs[0].Platform != "discord" {
		t.Fatalf("list: %+v %v", subs, err)
	}
	if err := s.Unsubscribe(ctx, "discord", "123"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, "discord", "123"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second unsubscribe: %v, want ErrNotFound", err)
	}
	if _, err := s.Subscription(ctx, "discord", "123"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("gone subscription: %v, want ErrNotFound", err)
	}
	if _, err := s.Subscribe(ctx, store.Subscription{Platform: "slack"}); err == nil {
		t.Error("subscribe without channel: no error")
	}
}

// TestClaimDigest walks the claim protocol through its states.
func TestClaimDigest(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempDB(t), store.Options{})
	if _, err := s.Subscribe(ctx, store.Subscription{Platform: "slack", Channel: "C1", At: "09:00", Zone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	k := store.DigestKey{Platform: "slack", Channel: "C1", Day: "2025-01-27"}
	lease := 2 * time.Minute
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	type step struct {
		name  string
		do    func() (store.Claim, error)
		want  store.Outcome
		doubt bool
		try   int
	}
	claim := func(owner string, d time.Duration) func() (store.Claim, error) {
		return func() (store.Claim, error) { return s.ClaimDigest(ctx, k, owner, at(d), lease) }
	}
	steps := []step{
		{"first claim", claim("a", 0), store.Claimed, false, 1},
		{"another owner during the lease", claim("b", time.Minute), store.Busy, false, 0},
		{"the same owner during the lease", claim("a", time.Minute), store.Busy, false, 0},
		{"after the lease ran out", claim("b", lease), store.Claimed, true, 2},
		{"retry scheduled", func() (store.Claim, error) {
			return store.Claim{}, s.RetryDigest(ctx, k, "b", at(lease+time.Second), at(10*time.Minute), "rate limited")
		}, 0, false, 0},
		{"before the retry is due", claim("c", 5*time.Minute), store.Later, false, 0},
		{"when the retry is due", claim("c", 10*time.Minute), store.Claimed, true, 3},
		{"a stale owner cannot reschedule", func() (store.Claim, error) {
			return store.Claim{}, s.RetryDigest(ctx, k, "b", at(11*time.Minute), at(20*time.Minute), "late")
		}, 0, false, 0},
		{"still claimed by c", claim("d", 11*time.Minute), store.Busy, false, 0},
		{"sent", func() (store.Claim, error) { return store.Claim{}, s.MarkDigestSent(ctx, k, at(11*time.Minute)) }, 0, false, 0},
		{"never again", claim("e", 24*time.Hour), store.Done, false, 0},
	}
	for _, st := range steps {
		c, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.want == 0 {
			continue
		}
		if c.Outcome != st.want || c.InDoubt != st.doubt || (st.try > 0 && c.Attempt != st.try) {
			t.Fatalf("%s: got %+v, want %v doubt=%v attempt=%d", st.name, c, st.want, st.doubt, st.try)
		}
	}
	rec, err := s.Digest(ctx, k)
	if err != nil || rec.State != store.StateSent || rec.Attempts != 3 {
		t.Fatalf("record %+v %v", rec, err)
	}
}

func TestFailDigestPausesAfterBound(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempDB(t), store.Options{})
	if _, err := s.Subscribe(ctx, store.Subscription{Platform: "discord", Channel: "9", At: "09:00", Zone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	const max = 3
	day := func(i int) store.DigestKey {
		return store.DigestKey{Platform: "discord", Channel: "9", Day: t0.AddDate(0, 0, i).Format(time.DateOnly)}
	}
	fail := func(i int) store.Failure {
		t.Helper()
		if _, err := s.ClaimDigest(ctx, day(i), "me", t0, time.Minute); err != nil {
			t.Fatal(err)
		}
		f, err := s.FailDigest(ctx, day(i), t0, "Missing Access", max)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	fail(0)
	fail(1)
	// A good day resets the count.
	if _, err := s.ClaimDigest(ctx, day(2), "me", t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDigestSent(ctx, day(2), t0); err != nil {
		t.Fatal(err)
	}
	for i := 3; i < 3+max; i++ {
		f := fail(i)
		wantPaused := i == 3+max-1
		if f.Paused != wantPaused || f.Failures != i-2 {
			t.Fatalf("day %d: %+v, want failures %d paused %v", i, f, i-2, wantPaused)
		}
	}
	// Failing a day that is already failed counts nothing.
	f, err := s.FailDigest(ctx, day(5), t0, "again", max)
	if err != nil || f.Failures != max {
		t.Fatalf("double failure counted: %+v %v", f, err)
	}
}

func BenchmarkFirstSeen(b *testing.B) {
	ctx := context.Background()
	s := open(b, tempDB(b), store.Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.FirstSeen(ctx, "slack", "Ev"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFirstSeenRepeat(b *testing.B) {
	ctx := context.Background()
	s := open(b, tempDB(b), store.Options{})
	if _, err := s.FirstSeen(ctx, "slack", "Ev1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if first, err := s.FirstSeen(ctx, "slack", "Ev1"); err != nil || first {
			b.Fatal(first, err)
		}
	}
}

func BenchmarkFirstSeenParallel(b *testing.B) {
	ctx := context.Background()
	s := open(b, tempDB(b), store.Options{})
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.FirstSeen(ctx, "slack", "Ev"+strconv.FormatInt(n.Add(1), 10)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLogQuestion(b *testing.B) {
	ctx := context.Background()
	s := open(b, tempDB(b), store.Options{})
	q := bot.Question{Text: "did deepseek really use fewer GPUs?", User: "U123", Platform: "slack", Channel: "C1"}
	a := bot.Answer{Question: q.Text, Answered: true, Entries: []string{"deepseek-gpus", "a100", "h800"}, Confidence: 0.8}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.LogQuestion(ctx, q, a); err != nil {
			b.Fatal(err)
		}
	}
}
