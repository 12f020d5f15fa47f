package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/store"
)

// digestEnv is a process environment of exactly m.
func digestEnv(m map[string]string) env {
	return env{
		get:    func(k string) string { return m[k] },
		lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok },
	}
}

// runDigestCLI runs the command line with an environment and returns its exit
// status and output.
func runDigestCLI(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, digestEnv(environ), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestDigestPrint(t *testing.T) {
	printJSON := func(date string) digest.Digest {
		t.Helper()
		code, out, errOut := runDigestCLI(t, nil, "digest", "--print", "--json", "--date", date)
		if code != 0 {
			t.Fatalf("digest --print --json --date %s: exit %d: %s", date, code, errOut)
		}
		var d digest.Digest
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("output is not a digest: %v\n%s", err, out)
		}
		return d
	}
	a, b := printJSON("2025-01-27"), printJSON("2025-01-28")
	if a.Day != "2025-01-27" || b.Day != "2025-01-28" {
		t.Fatalf("days %q %q", a.Day, b.Day)
	}
	texts := func(d digest.Digest) []string {
		var out []string
		for _, p := range d.Points {
			out = append(out, p.Text)
		}
		return out
	}
	if slices.Equal(texts(a), texts(b)) || len(a.Points) < 3 || len(b.Points) < 3 {
		t.Errorf("two dates, same key points: %q / %q", texts(a), texts(b))
	}
	for _, p := range append(a.Points, b.Points...) {
		if slices.Contains(texts(a), p.Text) && slices.Contains(texts(b), p.Text) {
			t.Errorf("a point repeats on the next day: %q", p.Text)
		}
	}

	code, out, errOut := runDigestCLI(t, map[string]string{"EXPLAINER_TZ": "Europe/Berlin"}, "digest", "--print", "--date", "2025-01-27")
	if code != 0 {
		t.Fatalf("digest --print: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Daily brief for Monday 27 January 2025", "Key points (day ", "Question of the day: ", "Ask me anything"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed digest lacks %q:\n%s", want, out)
		}
	}
	// Today by default.
	code, out, _ = runDigestCLI(t, nil, "digest", "--print")
	if today := digest.Today(time.Now(), time.UTC).Long(); code != 0 || !strings.Contains(out, today) {
		t.Errorf("digest --print: exit %d, want today's (%s):\n%s", code, today, out)
	}
}

func TestDigestUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	environ := map[string]string{"EXPLAINER_DB": db}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"digest"}, "want --print or a subcommand"},
		{[]string{"digest", "--print", "--date", "27/01/2025"}, `date "27/01/2025": want YYYY-MM-DD`},
		{[]string{"digest", "frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"digest", "subscribe", "--channel", "C0123ABCD"}, "--platform: want slack or discord"},
		{[]string{"digest", "subscribe", "--platform", "teams", "--channel", "C0123ABCD"}, `--platform "teams"`},
		{[]string{"digest", "subscribe", "--platform", "slack", "--channel", "general"}, `--channel "general": want a Slack channel id`},
		{[]string{"digest", "subscribe", "--platform", "discord", "--channel", "C0123ABCD"}, "want a Discord channel id"},
		{[]string{"digest", "subscribe", "--platform", "slack", "--channel", "C0123ABCD", "--at", "25:00"}, `time "25:00": want HH:MM`},
		{[]string{"digest", "subscribe", "--platform", "slack", "--channel", "C0123ABCD", "--at", "9am"}, `time "9am": want HH:MM`},
		{[]string{"digest", "subscribe", "--platform", "slack", "--channel", "C0123ABCD", "--tz", "Mars/Olympus"}, `time zone "Mars/Olympus" is unknown`},
		{[]string{"digest", "subscribe", "--platform", "slack", "--channel", "C0123ABCD", "--tz", "Local"}, `time zone "Local"`},
		{[]string{"digest", "unsubscribe", "--platform", "slack"}, `--channel "": want a Slack channel id`},
		{[]string{"kb", "gaps", "--since", "a while"}, `--since: "a while"`},
		{[]string{"kb", "gaps", "--since", "-3d"}, `--since: "-3d"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runDigestCLI(t, environ, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a usage error created the database")
	}
}

func TestDigestSubscriptions(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "explainer.db")
	envFile := filepath.Join(dir, "settings.env")
	// The default zone comes from EXPLAINER_TZ, here from the env file;
	// Slack settings that serve would refuse do not stop the command.
	if err := os.WriteFile(envFile, []byte("EXPLAINER_TZ=Asia/Tokyo\nSLACK_BOT_TOKEN=not-a-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{"EXPLAINER_DB": db}
	cli := func(args ...string) (int, string, string) {
		return runDigestCLI(t, environ, append(args, "--env-file", envFile)...)
	}

	code, out, errOut := cli("digest", "list")
	if code != 0 || !strings.Contains(out, "no subscriptions") {
		t.Fatalf("empty list: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli("digest", "subscribe", "--platform", "slack", "--channel", "C0123ABCD", "--at", "9:05")
	if code != 0 || !strings.HasPrefix(out, "subscribed slack:C0123ABCD: a digest daily at 09:05 Asia/Tokyo; next ") {
		t.Fatalf("subscribe: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli("digest", "subscribe", "--platform", "discord", "--channel", "123456789012345678", "--tz", "America/New_York")
	if code != 0 || !strings.Contains(out, "09:00 America/New_York") {
		t.Fatalf("subscribe discord: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = cli("digest", "subscribe", "--platform", "slack", "--channel", "C0123ABCD", "--at", "17:30", "--tz", "Europe/Berlin")
	if code != 0 || !strings.HasPrefix(out, "updated slack:C0123ABCD: a digest daily at 17:30 Europe/Berlin") {
		t.Fatalf("resubscribe: exit %d %q", code, out)
	}

	// What the scheduler will read.
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := st.Subscriptions(context.Background())
	st.Close()
	if err != nil || len(subs) != 2 {
		t.Fatalf("stored subscriptions %+v %v", subs, err)
	}
	if s := subs[1]; s.Platform != "slack" || s.At != "17:30" || s.Zone != "Europe/Berlin" || s.CreatedBy != "cli" {
		t.Errorf("stored %+v", s)
	}

	code, out, _ = cli("digest", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "PLATFORM") ||
		!strings.Contains(lines[1], "123456789012345678") || !strings.Contains(lines[2], "17:30  Europe/Berlin") || !strings.Contains(lines[2], "active") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}

	code, out, _ = cli("digest", "unsubscribe", "--platform", "discord", "--channel", "123456789012345678")
	if code != 0 || out != "unsubscribed discord:123456789012345678\n" {
		t.Fatalf("unsubscribe: exit %d %q", code, out)
	}
	code, _, errOut = cli("digest", "unsubscribe", "--platform", "discord", "--channel", "123456789012345678")
	if code != 1 || !strings.Contains(errOut, "is not subscribed") {
		t.Fatalf("unsubscribe again: exit %d %q", code, errOut)
	}
	code, out, _ = cli("digest", "list")
	if code != 0 || strings.Contains(out, "discord") || !strings.Contains(out, "C0123ABCD") {
		t.Fatalf("list after unsubscribe: exit %d\n%s", code, out)
	}
}

func TestDigestBadDatabase(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("junk", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{junk, filepath.Join(dir, "missing", "x.db")} {
		code, _, errOut := runDigestCLI(t, map[string]string{"EXPLAINER_DB": path}, "digest", "list")
		if code != 1 || !strings.Contains(errOut, path) {
			t.Errorf("EXPLAINER_DB=%s: exit %d, stderr %q; want 1 naming the file", path, code, errOut)
		}
	}
}

func TestKBGaps(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "explainer.db")
	ctx := context.Background()
	now := time.Now()
	at := now.Add(-2 * time.Hour)
	st, err := store.Open(ctx, db, store.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	declined := func(q, reason string) {
		t.Helper()
		if err := st.LogQuestion(ctx, bot.Question{Text: q, Platform: "slack"}, bot.Answer{Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	declined("Who is Jensen Huang?", bot.ReasonNotCovered)
	declined("who's jensen huang", bot.ReasonNotCovered)
	declined("Jensen Huang — who is he?", bot.ReasonNotCovered)
	declined("How much did DeepSeek spend on training?", bot.ReasonGap)
	declined("how much did deepseek spend training", bot.ReasonGap)
	declined("write me a poem about GPUs", bot.ReasonTask)
	if err := st.LogQuestion(ctx, bot.Question{Text: "what is CUDA", Platform: "slack"}, bot.Answer{Answered: true, Entries: []string{"cuda"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.RecordFeedback(ctx, bot.Feedback{Question: "what is CUDA", Entries: []string{"cuda"}, Helpful: false, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordFeedback(ctx, bot.Feedback{Question: "what is groq", Entries: []string{"groq"}, Helpful: true, At: at}); err != nil {
		t.Fatal(err)
	}
	// Older than the window.
	if err := st.RecordFeedback(ctx, bot.Feedback{Question: "what is inference", Entries: []string{"inference"}, Helpful: false, At: now.Add(-10 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	environ := map[string]string{"EXPLAINER_DB": db}
	code, out, errOut := runDigestCLI(t, environ, "kb", "gaps")
	if code != 0 {
		t.Fatalf("kb gaps: exit %d %s", code, errOut)
	}
	t.Logf("\n%s", out)
	first := strings.Index(out, "3× who is jensen huang?")
	second := strings.Index(out, "2× how much did deepseek spend on training?")
	third := strings.Index(out, "2× what is cuda")
	if first < 0 || second < first || third < first {
		t.Errorf("groups not in order of frequency:\n%s", out)
	}
	for _, want := range []string{"declined 3 (not_covered)", `also asked as: "who's jensen huang", "jensen huang — who is he?"`, "👎 2 on entries cuda", "5 declined, 2 marked unhelpful, 3 distinct questions"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, absent := range []string{"poem", "inference", "groq"} {
		if strings.Contains(out, absent) {
			t.Errorf("report has %q:\n%s", absent, out)
		}
	}

	code, out, _ = runDigestCLI(t, environ, "kb", "gaps", "--since", "30d", "--all", "--json")
	var groups []digest.GapGroup
	if err := json.Unmarshal([]byte(out), &groups); code != 0 || err != nil {
		t.Fatalf("kb gaps --json: exit %d %v\n%s", code, err, out)
	}
	if len(groups) != 5 || groups[0].Count != 3 || groups[0].Declined != 3 {
		t.Errorf("groups with --all over 30 days: %+v", groups)
	}

	code, _, errOut = runDigestCLI(t, map[string]string{"EXPLAINER_DB": filepath.Join(dir, "none.db")}, "kb", "gaps")
	if code != 1 || !strings.Contains(errOut, "none.db does not exist") {
		t.Errorf("missing database: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("kb gaps created a database")
	}
}
