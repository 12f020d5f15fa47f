package live

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

const headline = "did DeepSeek really use fewer GPUs?"

// copyKB copies the built-in knowledge base into a temporary folder that a
// test may edit.
func copyKB(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("..", "knowledge", "data")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// rewrite replaces old with new in one file of a knowledge base folder.
func rewrite(t *testing.T, dir, file, old, new string) {
	t.Helper()
	path := filepath.Join(dir, file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// index loads and indexes a knowledge base without linting it: quicker
// than Load where the lint is not what a test is about.
func index(t testing.TB, dir string) *knowledge.Index {
	t.Helper()
	var kb *knowledge.KB
	var err error
	if dir == "" {
		kb, err = knowledge.Default()
	} else {
		kb, err = knowledge.LoadDir(dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func newEngine(t *testing.T, dir string) *Engine {
	t.Helper()
	e := New(index(t, dir), bot.Options{})
	t.Cleanup(func() { e.Close() })
	return e
}

func ask(t *testing.T, e *Engine, q string) bot.Answer {
	t.Helper()
	a, err := e.Ask(context.Background(), bot.Question{Text: q})
	if err != nil {
		t.Fatalf("Ask(%q): %v", q, err)
	}
	return a
}

const lead = "By DeepSeek's own account, yes"

func TestReloadServesTheNewKnowledgeBase(t *testing.T) {
	dir := copyKB(t)
	e := newEngine(t, dir)
	if a := ask(t, e, headline); !strings.HasPrefix(a.Lead, lead) {
		t.Fatalf("lead before reload = %q", a.Lead)
	}
	rewrite(t, dir, "entries/deepseek-gpus.md", lead, "Per DeepSeek itself, yes")
	var got []int
	r := &Reloader{Dir: dir, Engine: e, Log: discard(), Done: func(n int, err error) {
		if err != nil {
			t.Errorf("Done got error %v", err)
		}
		got = append(got, n)
	}}
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := ask(t, e, headline); !strings.HasPrefix(a.Lead, "Per DeepSeek itself, yes") {
		t.Errorf("lead after reload = %q", a.Lead)
	}
	if len(got) != 1 || got[0] != len(e.KB().Entries()) || got[0] == 0 {
		t.Errorf("Done called with %v, want [%d]", got, len(e.KB().Entries()))
	}
}

func TestBrokenReloadKeepsServingThePreviousKnowledgeBase(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		old, new string
		want     string // in the error: file and line
	}{
		{"bad yaml", "entries/deepseek-gpus.md", "kind: topic", "kind: [topic", "entries/deepseek-gpus.md:"},
		{"unknown standing", "entries/deepseek-gpus.md", "standing: disputed", "standing: rumour", "entries/deepseek-gpus.md:"},
		{"missing related entry", "entries/deepseek-gpus.md", "related: [chip-doubts", "related: [no-such-entry", "entries/deepseek-gpus.md:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyKB(t)
			e := newEngine(t, dir)
			before := e.KB()
			rewrite(t, dir, tt.file, tt.old, tt.new)
			var logs strings.Builder
			var doneErr error
			r := &Reloader{Dir: dir, Engine: e, Log: slog.New(slog.NewTextHandler(&logs, nil)),
				Done: func(_ int, err error) { doneErr = err }}
			err := r.Reload(context.Background())
			var pe *knowledge.ProblemsError
			if !errors.As(err, &pe) {
				t.Fatalf("Reload = %v, want a *knowledge.ProblemsError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
			if doneErr != err {
				t.Errorf("Done got %v, want the reload error", doneErr)
			}
			if !strings.Contains(logs.String(), "still serving the previous one") || !strings.Contains(logs.String(), tt.want) {
				t.Errorf("log does not report the failure with its file:\n%s", logs.String())
			}
			if e.KB() != before {
				t.Error("the knowledge base being served changed")
			}
			if a := ask(t, e, headline); !a.Answered || !strings.HasPrefix(a.Lead, lead) {
				t.Errorf("after a failed reload: answered=%v lead=%q", a.Answered, a.Lead)
			}
		})
	}
}

// Questions asked while the knowledge base is swapped again and again are
// all answered, each by a whole index: none fails on a closed index.
func TestSwapDropsNothingInFlight(t *testing.T) {
	e := newEngine(t, "")
	indexes := make([]*knowledge.Index, 4)
	for i := range indexes {
		indexes[i] = index(t, "")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	var asked sync.Map
	var started sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for {
				if n == 1 {
					started.Done()
				}
				select {
				case <-stop:
					asked.Store(w, n)
					return
				default:
				}
				a, err := e.Ask(context.Background(), bot.Question{Text: headline})
				if err == nil && !a.Answered {
					err = errors.New("headline question declined")
				}
				if err != nil {
					if n == 0 {
						started.Done()
					}
					errs <- err
					return
				}
				n++
			}
		}()
	}
	started.Wait() // every asker is running before the swaps begin
	for _, ix := range indexes {
		// Wait for a question on the current index before swapping again.
		ask(t, e, "what is the H800?")
		if err := e.Swap(ix); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	asked.Range(func(_, v any) bool { total += v.(int); return true })
	if total == 0 {
		t.Error("no question was asked during the swaps")
	}
}

func TestClosedEngine(t *testing.T) {
	e := newEngine(t, "")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Ask(context.Background(), bot.Question{Text: headline}); !errors.Is(err, ErrClosed) {
		t.Errorf("Ask after Close = %v, want ErrClosed", err)
	}
	if _, err := e.Suggest(context.Background(), "gpu", 3); !errors.Is(err, ErrClosed) {
		t.Errorf("Suggest after Close = %v, want ErrClosed", err)
	}
	if err := e.CheckGrounded("text", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("CheckGrounded after Close = %v, want ErrClosed", err)
	}
	if err := e.Swap(index(t, "")); !errors.Is(err, ErrClosed) {
		t.Errorf("Swap after Close = %v, want ErrClosed", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestForwardsTheEnginesReadMethods(t *testing.T) {
	e := newEngine(t, "")
	ix := index(t, "")
	defer ix.Close()
	direct := bot.New(ix, bot.Options{})
	ctx := context.Background()

	if got, want := e.About(), direct.About(); got.Name != want.Name || got.Entries != want.Entries || got.Entries == 0 {
		t.Errorf("About = %+v, want %+v", got, want)
	}
	gotS, err := e.Suggest(ctx, "export con", 5)
	if err != nil {
		t.Fatal(err)
	}
	wantS, _ := direct.Suggest(ctx, "export con", 5)
	if strings.Join(gotS, "|") != strings.Join(wantS, "|") || len(gotS) == 0 {
		t.Errorf("Suggest = %q, want %q", gotS, wantS)
	}
	if got, want := e.Topics("h", 10), direct.Topics("h", 10); strings.Join(got, "|") != strings.Join(want, "|") || len(got) == 0 {
		t.Errorf("Topics = %q, want %q", got, want)
	}
	gotE, err := e.Explain(ctx, "H800")
	if err != nil {
		t.Fatal(err)
	}
	wantE, _ := direct.Explain(ctx, "H800")
	if gotE.Lead != wantE.Lead || !gotE.Answered {
		t.Errorf("Explain = %q, want %q", gotE.Lead, wantE.Lead)
	}
	if e.Loaded().IsZero() {
		t.Error("Loaded is zero")
	}
	points := []bot.Point{{Text: "DeepSeek says it used about 10,000 A100 chips.", By: "DeepSeek", Standing: bot.StandingDisputed}}
	for _, text := range []string{"DeepSeek says it used about 10,000 A100 chips [p1].", "Nvidia sold 50,000 chips to Intel [p1]."} {
		got, want := e.CheckGrounded(text, points), direct.CheckGrounded(text, points)
		if (got == nil) != (want == nil) {
			t.Errorf("CheckGrounded(%q) = %v, want %v", text, got, want)
		}
	}
	if e.CheckGrounded("Nvidia sold 50,000 chips to Intel [p1].", points) == nil {
		t.Error("CheckGrounded passed a sentence the points do not ground")
	}
}

func TestWatchReloadsOnChange(t *testing.T) {
	dir := copyKB(t)
	e := newEngine(t, dir)
	done := make(chan error, 4)
	msgs := make(chan string, 16)
	r := &Reloader{Dir: dir, Engine: e, Log: slog.New(msgHandler(msgs)), Done: func(_ int, err error) { done <- err }}
	ctx, cancel := context.WithCancel(context.Background())
	watching := make(chan error, 1)
	go func() { watching <- r.Watch(ctx, 20*time.Millisecond) }()
	defer func() {
		cancel()
		if err := <-watching; err != nil {
			t.Errorf("Watch = %v", err)
		}
	}()
	timeout := time.After(20 * time.Second)
	for msg := ""; msg != "watching the knowledge base for changes"; {
		select {
		case msg = <-msgs:
		case <-timeout:
			t.Fatal("the watch did not start")
		}
	}

	// An editor's swap file changes nothing; the entry does.
	os.WriteFile(filepath.Join(dir, "entries", ".deepseek-gpus.md.swp"), []byte("x"), 0o644)
	rewrite(t, dir, "entries/deepseek-gpus.md", lead, "Per DeepSeek itself, yes")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
	case <-timeout:
		t.Fatal("no reload 20 s after a change")
	}
	if a := ask(t, e, headline); !strings.HasPrefix(a.Lead, "Per DeepSeek itself") {
		t.Fatalf("lead after the watcher's reload = %q", a.Lead)
	}

	// A new folder under the knowledge base is watched too.
	sub := filepath.Join(dir, "entries", "drafts")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-timeout:
		t.Fatal("no reload after a folder was made")
	}
	os.WriteFile(filepath.Join(sub, "note.txt"), []byte("x"), 0o644)
	select {
	case <-done:
	case <-timeout:
		t.Fatal("no reload after a change in a new folder")
	}
}

// msgHandler sends each log message to ch.
type msgHandler chan string

func (h msgHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h msgHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r.Message:
	default:
	}
	return nil
}
func (h msgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgHandler) WithGroup(string) slog.Handler      { return h }

func TestRelevant(t *testing.T) {
	tests := []struct {
		name string
		op   fsnotify.Op
		want bool
	}{
		{"kb/entries/a.md", fsnotify.Write, true},
		{"kb/entries/a.md", fsnotify.Create, true},
		{"kb/entries/a.md", fsnotify.Rename, true},
		{"kb/entries/a.md", fsnotify.Remove, true},
		{"kb/entries/a.md", fsnotify.Chmod, false},
		{"kb/entries/.a.md.swp", fsnotify.Write, false},
		{"kb/entries/a.md~", fsnotify.Write, false},
		{"kb/entries/#a.md#", fsnotify.Write, false},
		{"kb/vocabulary.yaml", fsnotify.Write | fsnotify.Chmod, true},
	}
	for _, tt := range tests {
		if got := relevant(fsnotify.Event{Name: tt.name, Op: tt.op}); got != tt.want {
			t.Errorf("relevant(%s %s) = %v, want %v", tt.op, tt.name, got, tt.want)
		}
	}
}

func TestWatchMissingFolder(t *testing.T) {
	r := &Reloader{Dir: filepath.Join(t.TempDir(), "nope"), Engine: nil, Log: discard()}
	if err := r.Watch(context.Background(), time.Millisecond); err == nil {
		t.Error("Watch of a missing folder returned nil")
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func BenchmarkAsk(b *testing.B) {
	e := New(index(b, ""), bot.Options{})
	defer e.Close()
	b.ResetTimer()
	qs := []string{headline, "what is the H800?", "why did nvidia stock drop", "what is jevons paradox", "who is gary marcus", "should I buy nvidia"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.Ask(context.Background(), bot.Question{Text: qs[i%len(qs)]}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// streamer is a bot.Summarizer that writes text, a few words at a time
// when asked to stream, and counts its calls.
type streamer struct {
	text  string
	mu    sync.Mutex
	calls int
}

func (s *streamer) Summarize(_ context.Context, _ bot.Brief, partial func(string)) (string, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	if partial != nil {
		for i := range s.text {
			if s.text[i] == ' ' {
				partial(s.text[:i])
			}
		}
		partial(s.text)
	}
	return s.text, nil
}

const fluent = "By DeepSeek's own account, it trained its models on about 10,000 older Nvidia A100 GPUs plus export-compliant H800 chips [p1][p2]. " +
	"The article does not confirm these figures [p3], and Scale AI's CEO Alexandr Wang suspects DeepSeek has far more advanced Nvidia chips than it has disclosed [p4]."

// The engine's options, the summarizer among them, hold for every
// knowledge base served, and AskStream streams from the one being served.
func TestAskStreamUsesTheOptionsAcrossReloads(t *testing.T) {
	dir := copyKB(t)
	s := &streamer{text: fluent}
	var outcomes []bot.SummaryOutcome
	var mu sync.Mutex
	e := New(index(t, dir), bot.Options{Summarizer: s, OnSummary: func(o bot.SummaryOutcome) {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, o)
	}})
	defer e.Close()
	r := &Reloader{Dir: dir, Engine: e, Log: discard()}
	for round := range 2 {
		var partials []string
		a, err := e.AskStream(context.Background(), bot.Question{Text: headline}, func(text string) { partials = append(partials, text) })
		if err != nil {
			t.Fatal(err)
		}
		if !a.Fluent || a.Lead != fluent {
			t.Fatalf("round %d: fluent=%v lead=%q, want the summary", round, a.Fluent, a.Lead)
		}
		// Checked sentences show as they are written; the last one shows
		// with the answer.
		if len(partials) != 1 || !strings.HasPrefix(fluent, partials[0]) || !strings.HasSuffix(partials[0], "[p2].") {
			t.Fatalf("round %d: partials %q: want the first sentence", round, partials)
		}
		if err := r.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 2 || outcomes[0].Result != bot.SummaryUsed || !outcomes[1].Streamed {
		t.Errorf("outcomes %+v, want two used, streamed", outcomes)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AskStream(context.Background(), bot.Question{Text: headline}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("AskStream after Close = %v, want ErrClosed", err)
	}
}
