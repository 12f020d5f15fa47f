package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// testEngine is the real engine over the built-in knowledge base, built
// once for the package's tests.
var testEngine = sync.OnceValues(func() (*bot.Engine, error) {
	kb, err := knowledge.Default()
	if err != nil {
		return nil, err
	}
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		return nil, err
	}
	return bot.New(ix, bot.Options{}), nil
})

func engine(t testing.TB) *bot.Engine {
	t.Helper()
	e, err := testEngine()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// testKey is the application's key pair in tests.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// fakeAsker is the real engine with Ask and Suggest replaceable.
type fakeAsker struct {
	Asker
	ask     func(ctx context.Context, q bot.Question) (bot.Answer, error)
	suggest func(ctx context.Context, typed string, n int) ([]string, error)
}

func (f fakeAsker) Suggest(ctx context.Context, typed string, n int) ([]string, error) {
	if f.suggest != nil {
		return f.suggest(ctx, typed, n)
	}
	return f.Asker.Suggest(ctx, typed, n)
}

func (f fakeAsker) Ask(ctx context.Context, q bot.Question) (bot.Answer, error) {
	if f.ask != nil {
		return f.ask(ctx, q)
	}
	return f.Asker.Ask(ctx, q)
}

// fakeFeedback records feedback in memory.
type fakeFeedback struct {
	mu  sync.Mutex
	got []bot.Feedback
	err error
}

func (f *fakeFeedback) RecordFeedback(_ context.Context, fb bot.Feedback) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.got = append(f.got, fb)
	return nil
}

func (f *fakeFeedback) all() []bot.Feedback {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bot.Feedback(nil), f.got...)
}

type harness struct {
	t        testing.TB
	fake     *fakeDiscord
	a        *Adapter
	srv      *httptest.Server // the serve-side HTTP server with the endpoint mounted
	feedback *fakeFeedback
	logs     *syncBuffer
	ids      atomic.Int64
}

type harnessOptions struct {
	gateway bool // bot token set: gateway session
	http    bool // public key set: HTTP endpoint
	asker   Asker
	digests Digests
	config  func(*Config)
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, fake: newFakeDiscord(t), feedback: &fakeFeedback{}, logs: &syncBuffer{}}
	h.ids.Store(100000000000000000)
	cfg := Config{AppID: h.fake.appID, APIURL: h.fake.srv.URL}
	if o.gateway {
		cfg.BotToken = h.fake.token
	}
	if o.http {
		cfg.PublicKey = hex.EncodeToString(testKey.Public().(ed25519.PublicKey))
	}
	if o.config != nil {
		o.config(&cfg)
	}
	asker := o.asker
	if asker == nil {
		asker = engine(t)
	}
	a, err := New(cfg, Deps{Asker: asker, Feedback: h.feedback, Digests: o.digests, Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	mux := http.NewServeMux()
	a.Mount(mux)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() {
		logs := h.logs.String()
		// No secret is ever logged: not the bot token, not an
		// interaction's token ("token-<id>").
		if strings.Contains(logs, h.fake.token) || strings.Contains(logs, "token-1") {
			t.Errorf("a token was logged")
		}
		if t.Failed() {
			t.Logf("adapter log:\n%s", logs)
		}
	})
	return h
}

// run runs the adapter until the returned stop is called; stop waits for
// Run to return and fails the test on an error.
func (h *harness) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				h.t.Errorf("Run: %v", err)
			}
		})
	}
	h.t.Cleanup(stop)
	return stop
}

func (h *harness) id() string { return strconv.FormatInt(h.ids.Add(1), 10) }

const (
	testGuild   = "800000000000000001"
	testChannel = "700000000000000001"
	testUser    = "600000000000000001"
)

func (h *harness) interaction(typ int, data map[string]any) map[string]any {
	id := h.id()
	return map[string]any{
		"id": id, "application_id": h.fake.appID, "type": typ, "token": "token-" + id, "version": 1,
		"channel_id": testChannel, "guild_id": testGuild, "locale": "en-US",
		"member": map[string]any{"user": map[string]any{"id": testUser, "username": "ann", "discriminator": "0"}, "roles": []string{}},
		"data":   data,
	}
}

func (h *harness) slash(name string, opts ...map[string]any) map[string]any {
	if opts == nil {
		opts = []map[string]any{}
	}
	return h.interaction(2, map[string]any{"id": "970000000000000000", "name": name, "type": 1, "options": opts})
}

func strOpt(name, value string) map[string]any {
	return map[string]any{"name": name, "type": 3, "value": value}
}

func (h *harness) autocomplete(cmd, opt, typed string) map[string]any {
	return h.interaction(4, map[string]any{"id": "970000000000000000", "name": cmd, "type": 1,
		"options": []map[string]any{{"name": opt, "type": 3, "value": typed, "focused": true}}})
}

// click is a click on a button with customID under msg, a message the bot
// sent (as its JSON).
func (h *harness) click(customID string, msg json.RawMessage) map[string]any {
	i := h.interaction(3, map[string]any{"custom_id": customID, "component_type": 2})
	var m map[string]any
	if err := json.Unmarshal(msg, &m); err != nil {
		h.t.Fatal(err)
	}
	m["id"], m["channel_id"], m["type"] = "990000000000000009", testChannel, 0
	m["timestamp"] = time.Now().UTC().Format(time.RFC3339)
	m["author"] = map[string]any{"id": h.fake.botID, "username": "explainer", "bot": true}
	i["message"] = m
	return i
}

// sign signs body as Discord does, for time at.
func sign(key ed25519.PrivateKey, body []byte, at time.Time) (sig, ts string) {
	ts = strconv.FormatInt(at.Unix(), 10)
	return hex.EncodeToString(ed25519.Sign(key, append([]byte(ts), body...))), ts
}

// post sends a raw signed request to the endpoint.
func (h *harness) post(body []byte, sig, ts string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+InteractionsPath, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Signature-Ed25519", sig)
	}
	if ts != "" {
		req.Header.Set("X-Signature-Timestamp", ts)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// wireCallback is an interaction response as Discord receives it.
type wireCallback struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (c wireCallback) message(t testing.TB) wireMessage {
	t.Helper()
	var m wireMessage
	if err := json.Unmarshal(c.Data, &m); err != nil {
		t.Fatalf("response data: %v\n%s", err, c.Data)
	}
	return m
}

// interact posts a signed interaction and returns Discord's view of the
// response, checked against Discord's rules.
func (h *harness) interact(i map[string]any) wireCallback {
	h.t.Helper()
	cb, err := h.tryInteract(i)
	if err != nil {
		h.t.Fatal(err)
	}
	return cb
}

func (h *harness) tryInteract(i map[string]any) (wireCallback, error) {
	body, err := json.Marshal(i)
	if err != nil {
		return wireCallback{}, err
	}
	sig, ts := sign(testKey, body, time.Now())
	resp := h.post(body, sig, ts)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return wireCallback{}, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var cb wireCallback
	if err := json.Unmarshal(data, &cb); err != nil {
		return wireCallback{}, fmt.Errorf("response: %v\n%s", err, data)
	}
	// Discord now knows the interaction's response: edits and follow-ups
	// may come.
	if token, ok := i["token"].(string); ok {
		h.fake.mu.Lock()
		h.fake.acked[token] = true
		h.fake.notify()
		h.fake.mu.Unlock()
	}
	switch cb.Type {
	case 4:
		if err := checkMessage(cb.Data, true); err != nil {
			return cb, fmt.Errorf("response breaks Discord's rules: %v", err)
		}
	case 8:
		if err := checkChoices(cb.Data); err != nil {
			return cb, fmt.Errorf("autocomplete breaks Discord's rules: %v", err)
		}
	}
	return cb, nil
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
