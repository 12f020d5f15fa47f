package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/store"
)

// clock is a settable time source for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t testing.TB, path string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), "explainer.db") }

func TestMigrateFromEmptyFile(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		prepare func(path string)
	}{
		{"missing file", func(string) {}},
		{"empty file", func(path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempDB(t)
			tc.prepare(path)
			s := open(t, path, store.Options{})
			v, err := s.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v != store.SchemaVersion() || v < 1 {
				t.Fatalf("schema version %d, want %d", v, store.SchemaVersion())
			}
			// Every table is usable.
			if _, err := s.Subscribe(ctx, store.Subscription{Platform: "slack", Channel: "C1", At: "09:00", Zone: "UTC"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.FirstSeen(ctx, "slack", "Ev1"); err != nil {
				t.Fatal(err)
			}
			if err := s.LogQuestion(ctx, bot.Question{Text: "q"}, bot.Answer{}); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordFeedback(ctx, bot.Feedback{Question: "q"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ClaimDigest(ctx, store.DigestKey{Platform: "slack", Channel: "C1", Day: "2025-01-27"}, "me", time.Now(), time.Minute); err != nil {
				t.Fatal(err)
			}
			s.Close()

			// Opening again migrates nothing and keeps the data.
			s2 := open(t, path, store.Options{})
			subs, err := s2.Subscriptions(ctx)
			if err != nil || len(subs) != 1 {
				t.Fatalf("after reopen: %v subscriptions, err %v", len(subs), err)
			}
			if mode := journalMode(t, path); mode != "wal" {
				t.Errorf("journal mode %q, want wal", mode)
			}
		})
	}
}

// journalMode reads the journal mode byte of the file header: WAL files
// have read and write versions 2.
func journalMode(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 20 {
		return "empty"
	}
	if b[18] == 2 && b[19] == 2 {
		return "wal"
	}
	return "rollback"
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	s := open(t, path, store.Options{})
	if _, err := s.Subscribe(ctx, store.Subscription{Platform: "slack", Channel: "C1", At: "09:00", Zone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	// Pretend a newer program migrated the file.
	bumpVersion(t, s, store.SchemaVersion()+1)
	s.Close()
	_, err := store.Open(ctx, path, store.Options{})
	var se *store.Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open newer schema: %v, want an *Error naming %s and the version", err, path)
	}
}

func TestBadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("this is not a database, just junk bytes\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(aFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A real database with its pages overwritten after the header.
	mangled := filepath.Join(dir, "mangled.db")
	{
		s := open(t, mangled, store.Options{})
		for i := range 200 {
			if _, err := s.FirstSeen(ctx, "slack", fmt.Sprintf("Ev%05d-%s", i, strings.Repeat("x", 100))); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		f, err := os.OpenFile(mangled, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte(strings.Repeat("\xde\xad\xbe\xef", 4096)), 100); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}

	tests := []struct {
		name string
		path string
		want string
	}{
		{"junk bytes", junk, "not a SQLite database"},
		{"mangled pages", mangled, "corrupt"},
		{"missing folder", filepath.Join(dir, "no", "such", "folder", "x.db"), "does not exist"},
		{"folder under a file", filepath.Join(aFile, "x.db"), "is not a folder"},
		{"a folder", dir, "is a folder"},
		{"no name", "", "no file name"},
	}
	// Even root cannot create files in sysfs.
	if st, err := os.Stat("/sys/kernel"); err == nil && st.IsDir() {
		tests = append(tests, struct{ name, path, want string }{"unwritable folder", "/sys/kernel/explainer.db", "cannot open or create"})
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, path, want string }{"read-only folder", filepath.Join(ro, "x.db"), "cannot"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(ctx, tc.path, store.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("open %s: no error", tc.path)
			}
			var se *store.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *store.Error", err, err)
			}
			msg := err.Error()
			t.Log(msg)
			if tc.path != "" && !strings.Contains(msg, tc.path) {
				t.Errorf("error %q does not name the path %s", msg, tc.path)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to say %q", msg, tc.want)
			}
		})
	}
	// Nothing was lost: the junk file is as it was.
	b, err := os.ReadFile(junk)
	if err != nil || !strings.HasPrefix(string(b), "this is not a database") {
		t.Errorf("junk file changed: %v", err)
	}
}

const childEnv = "EXPLAINER_STORE_CHILD"

// TestMain lets the test binary play a process that is killed while it
// writes.
func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(childWrites(path))
	}
	os.Exit(m.Run())
}

// childWrites commits rows in a loop, printing the number of each after
// its commit, until it is killed.
func childWrites(path string) int {
	ctx := context.Background()
	s, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if _, err := s.Subscribe(ctx, store.Subscription{Platform: "slack", Channel: "C-child", At: "09:00", Zone: "Europe/Berlin"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if _, err := s.FirstSeen(ctx, "slack", "Ev"+strconv.Itoa(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		if err := s.LogQuestion(ctx, bot.Question{Text: "question " + strconv.Itoa(i), Platform: "slack"}, bot.Answer{Answered: true}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Fprintln(w, i)
		w.Flush()
	}
}

func TestSurvivesKilledProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	ctx := context.Background()
	path := tempDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it mid-stream once it has committed a good number of rows.
	sc := bufio.NewScanner(out)
	last := -1
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		last = n
		if n == 300 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v (want killed); stderr: %s", err, stderr.String())
	}
	if last != 300 {
		t.Fatalf("child reported up to %d, stderr: %s", last, stderr.String())
	}
	// The commits live in the write-ahead log: nothing checkpointed them
	// into the main file before the kill.
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("no write-ahead log after the kill: %v", err)
	}

	s := open(t, path, store.Options{})
	var bad string
	if err := rawQueryRow(t, s, "PRAGMA integrity_check", &bad); err != nil || bad != "ok" {
		t.Fatalf("integrity check: %q %v", bad, err)
	}
	subs, err := s.Subscriptions(ctx)
	if err != nil || len(subs) != 1 || subs[0].Zone != "Europe/Berlin" {
		t.Fatalf("subscriptions after kill: %+v %v", subs, err)
	}
	// Every acknowledged write is there.
	for i := 0; i <= last; i++ {
		first, err := s.FirstSeen(ctx, "slack", "Ev"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		if first {
			t.Fatalf("event Ev%d committed before the kill is missing", i)
		}
	}
	qs, err := s.Questions(ctx, time.Time{}, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < last+1 {
		t.Fatalf("%d questions logged after the kill, want at least %d", len(qs), last+1)
	}
	// And it takes writes again.
	if first, err := s.FirstSeen(ctx, "slack", "after-restart"); err != nil || !first {
		t.Fatalf("write after restart: %v %v", first, err)
	}
}

func bumpVersion(t *testing.T, s *store.Store, v int) {
	t.Helper()
	if _, err := store.DBForTest(s).Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
}

func rawQueryRow(t *testing.T, s *store.Store, q string, dest ...any) error {
	t.Helper()
	return store.DBForTest(s).QueryRow(q).Scan(dest...)
}

func TestPing(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	s, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping an open store: %v", err)
	}
	s.Close()
	err = s.Ping(ctx)
	var se *store.Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), path) {
		t.Errorf("ping a closed store: %v, want an error naming %s", err, path)
	}
}

func BenchmarkPing(b *testing.B) {
	s := open(b, tempDB(b), store.Options{})
	ctx := context.Background()
	for b.Loop() {
		if err := s.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
