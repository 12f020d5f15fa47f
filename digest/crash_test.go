package digest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/knowledge"
	"github.com/explainerbot/explainer/store"
)

// The test binary plays a server that is killed in the middle of posting a
// digest when these are set.
const (
	crashDB      = "EXPLAINER_DIGEST_CRASH_DB"
	crashChannel = "EXPLAINER_DIGEST_CRASH_CHANNEL_FILE"
	crashLanded  = "EXPLAINER_DIGEST_CRASH_LANDED"
)

var crashDue = utc("2025-01-27T08:00:00Z") // 09:00 in Berlin

func TestMain(m *testing.M) {
	if path := os.Getenv(crashDB); path != "" {
		os.Exit(crashingServer(path, os.Getenv(crashChannel), os.Getenv(crashLanded) == "1"))
	}
	os.Exit(m.Run())
}

// fileChannel is a channel's history kept in a file, one key a line, so
// that it outlives the process that posts.
type fileChannel struct {
	mu   sync.Mutex
	path string
	// before runs before the post lands (landed) or instead of it.
	before func()
	landed bool
}

func (f *fileChannel) Post(_ context.Context, _ string, d digest.Digest, key string) error {
	if !f.landed && f.before != nil {
		f.before()
	}
	f.mu.Lock()
	file, err := os.OpenFile(f.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err == nil {
		_, err = fmt.Fprintln(file, key)
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	f.mu.Unlock()
	if err == nil && f.landed && f.before != nil {
		f.before()
	}
	return err
}

func (f *fileChannel) Posted(_ context.Context, _, key string) (bool, error) {
	keys, err := f.keys()
	for _, k := range keys {
		if k == key {
			return true, err
		}
	}
	return false, err
}

func (f *fileChannel) keys() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return strings.Fields(string(b)), err
}

// crashingServer runs the scheduler at the digest's time; its post says
// "posting" on stdout and then waits to be killed.
func crashingServer(path, channelFile string, landed bool) int {
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(crashDue)
	st, err := store.Open(ctx, path, store.Options{Now: clock.Now})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	comp, err := digest.NewComposer(ctx, defaultKBOrDie(), digest.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	ch := &fileChannel{path: channelFile, landed: landed, before: func() {
		fmt.Println("posting")
		select {} // killed here
	}}
	s, err := digest.NewScheduler(digest.Config{Store: st, Digests: comp, Posters: map[string]digest.Poster{"slack": ch}, Clock: clock, CatchUp: time.Hour})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if err := s.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	select {}
}

// TestKilledMidPost kills a server process while it posts a digest (before
// the post reaches the channel, or after it did but before the store heard)
// and starts another: the channel gets the digest exactly once.
func TestKilledMidPost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, landed := range []bool{false, true} {
		t.Run(fmt.Sprintf("landed=%v", landed), func(t *testing.T) {
			dir := t.TempDir()
			path, channelFile := dir+"/explainer.db", dir+"/channel"
			subscribeAt(t, path, crashDue.Add(-24*time.Hour), "slack", "C1", "09:00", "Europe/Berlin")

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashDB+"="+path, crashChannel+"="+channelFile, crashLanded+"="+map[bool]string{true: "1"}[landed])
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if line != "posting\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("server said %q (%v); stderr: %s", line, err, stderr.String())
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			ch := &fileChannel{path: channelFile}
			if keys, _ := ch.keys(); len(keys) != map[bool]int{false: 0, true: 1}[landed] {
				t.Fatalf("channel after the kill: %q", keys)
			}
			// The next process starts three minutes later, after the lease.
			clock := clockwork.NewFakeClockAt(crashDue.Add(3 * time.Minute))
			h := newHarness(t, path, clock, digest.Config{Posters: map[string]digest.Poster{"slack": ch}, CatchUp: time.Hour})
			h.start(2)
			want := map[bool]string{false: digest.EventPosted, true: digest.EventConfirmed}[landed]
			if _, ok := h.find(want, clock.Now()); !ok {
				t.Errorf("no %s event on restart: %+v", want, h.events(digest.EventWaiting))
			}
			keys, err := ch.keys()
			if err != nil || len(keys) != 1 || keys[0] != digest.Key("slack", "C1", digest.DateOf(crashDue.In(berlin(t)))) {
				t.Fatalf("channel holds %q (%v), want the digest once", keys, err)
			}
			rec, err := h.store.Digest(context.Background(), store.DigestKey{Platform: "slack", Channel: "C1", Day: "2025-01-27"})
			if err != nil || rec.State != store.StateSent || rec.Attempts != 2 {
				t.Fatalf("record %+v %v, want sent on the second attempt", rec, err)
			}
		})
	}
}

func defaultKBOrDie() *knowledge.KB {
	kb, err := knowledge.Default()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	return kb
}
