package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/config"
	"github.com/explainerbot/explainer/live"
	"github.com/explainerbot/explainer/metrics"
)

const headline = "did DeepSeek really use fewer GPUs?"

// logBuffer collects log lines written from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakePlatform is a platform whose behaviour each test chooses.
type fakePlatform struct {
	name   string
	ready  error
	run    func(ctx context.Context) error
	routes map[string]http.HandlerFunc
}

func (p *fakePlatform) Name() string { return p.name }
func (p *fakePlatform) Mount(mux *http.ServeMux) {
	for pattern, h := range p.routes {
		mux.HandleFunc(pattern, h)
	}
}
func (p *fakePlatform) Run(ctx context.Context) error {
	if p.run == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return p.run(ctx)
}
func (p *fakePlatform) Ready() error { return p.ready }

// newTestServer is serve's wiring over the built-in knowledge base, with
// the given platforms, logging at debug level into logs.
func newTestServer(t *testing.T, environ map[string]string, ps ...platform) (*server, *logBuffer) {
	t.Helper()
	cfg, err := config.Load(environ)
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := live.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	eng := live.New(ix, bot.Options{})
	t.Cleanup(func() { eng.Close() })
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	deps := serveDeps{Config: cfg, Log: log, Asker: m.Asker(eng), Engine: eng, Metrics: m, Registry: reg}
	return &server{deps: deps, registry: reg, platforms: ps}, logs
}

func mustHandler(t *testing.T, s *server) http.Handler {
	t.Helper()
	h, err := s.handler()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func markSeen(seen map[string]bool, id string) { seen[id] = true }

func get(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func TestPanicInAHandlerIsRecovered(t *testing.T) {
	boom := &fakePlatform{name: "boom", routes: map[string]http.HandlerFunc{
		"POST /boom/events": func(w http.ResponseWriter, r *http.Request) {
			var seen map[string]bool // never made: the kind of bug that panics
			markSeen(seen, r.URL.Path)
		},
	}}
	s, logs := newTestServer(t, nil, boom)
	h := mustHandler(t, s)

	rec := get(t, h, "POST", "/boom/events", "{}")
	if rec.Code != 500 || strings.TrimSpace(rec.Body.String()) != `{"error":"internal error"}` {
		t.Fatalf("panicking route answered %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "panic serving request") || !strings.Contains(logs.String(), "assignment to entry in nil map") {
		t.Errorf("panic not logged:\n%s", logs)
	}
	rec = get(t, h, "POST", "/api/ask", `{"question": "`+headline+`"}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "A100") {
		t.Errorf("after the panic /api/ask answered %d %s", rec.Code, rec.Body)
	}
	rec = get(t, h, "GET", "/metrics", "")
	if !strings.Contains(rec.Body.String(), "explainer_panics_total 1\n") {
		t.Errorf("panic not counted:\n%s", grep(rec.Body.String(), "explainer_panics"))
	}
}

func TestReadyzReportsEachPlatform(t *testing.T) {
	up := &fakePlatform{name: "slack"}
	down := &fakePlatform{name: "discord", ready: errors.New("gateway not connected")}

	s, _ := newTestServer(t, nil, up)
	if rec := get(t, mustHandler(t, s), "GET", "/readyz", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"slack":"ok"`) {
		t.Errorf("all ready: %d %s", rec.Code, rec.Body)
	}

	s, _ = newTestServer(t, nil, up, down)
	rec := get(t, mustHandler(t, s), "GET", "/readyz", "")
	var got struct {
		Ready  bool
		Checks map[string]string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kb": "ok", "slack": "ok", "discord": "gateway not connected"}
	if rec.Code != 503 || got.Ready || len(got.Checks) != len(want) {
		t.Fatalf("one platform down: %d %s", rec.Code, rec.Body)
	}
	for k, v := range want {
		if got.Checks[k] != v {
			t.Errorf("check %s = %q, want %q", k, got.Checks[k], v)
		}
	}
	if rec := get(t, mustHandler(t, s), "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("healthz with a platform down: %d", rec.Code)
	}
}

// A platform that fails or panics is logged and the rest keeps serving; at
// shutdown the others are stopped through their context.
func TestPlatformFailuresDoNotStopServe(t *testing.T) {
	stopped := make(chan struct{})
	ps := []platform{
		&fakePlatform{name: "panicky", run: func(context.Context) error { panic("websocket frame of doom") }},
		&fakePlatform{name: "failing", run: func(context.Context) error { return errors.New("invalid_auth") }},
		&fakePlatform{name: "steady", run: func(ctx context.Context) error {
			<-ctx.Done()
			close(stopped)
			return ctx.Err()
		}, routes: map[string]http.HandlerFunc{
			"POST /steady/events": func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ack") },
		}},
	}
	s, logs := newTestServer(t, map[string]string{"EXPLAINER_SHUTDOWN_TIMEOUT": "10s"}, ps...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx, ln) }()

	base := "http://" + ln.Addr().String()
	res, err := http.Post(base+"/steady/events", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "ack" {
		t.Errorf("platform route answered %q", body)
	}
	res, err = http.Post(base+"/api/ask", "application/json", strings.NewReader(`{"question": "what is the H800?"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/api/ask with failed platforms: %d", res.StatusCode)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	select {
	case <-stopped:
	default:
		t.Error("the steady platform was not stopped")
	}
	out := logs.String()
	for _, want := range []string{"platform panicked", "websocket frame of doom", "platform failed", "invalid_auth", `"platform":"steady"`, "platform stopped", `"msg":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
}

func TestClashingPlatformRoutesAreAnError(t *testing.T) {
	clash := &fakePlatform{name: "clash", routes: map[string]http.HandlerFunc{
		"POST /api/ask": func(http.ResponseWriter, *http.Request) {},
	}}
	s, _ := newTestServer(t, nil, clash)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = s.serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "clash: routes:") || !strings.Contains(err.Error(), "/api/ask") {
		t.Fatalf("serve = %v, want an error naming the platform and the route", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still listening")
	}
}

func TestBuildPlatformsSaysWhyEachIsOff(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
		want    []string
	}{
		{"nothing set", nil, []string{
			"slack: off: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)",
			"discord: off: set DISCORD_BOT_TOKEN (gateway) or DISCORD_PUBLIC_KEY (HTTP interactions), with DISCORD_APP_ID",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(tt.environ)
			if err != nil {
				t.Fatal(err)
			}
			ps, off, err := buildPlatforms(context.Background(), serveDeps{Config: cfg})
			if err != nil || len(ps) != 0 {
				t.Fatalf("buildPlatforms = %v, %v", ps, err)
			}
			if strings.Join(off, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("off =\n%s\nwant\n%s", strings.Join(off, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestReadEnviron(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, ".env")
	os.WriteFile(file, []byte("# settings\nEXPLAINER_ADDR=:9999\nLOG_LEVEL=debug\nSLACK_BOT_TOKN=xoxb-typo\nEXPLAINER_RATE_LIMIT=\"2.5\"\n"), 0o644)
	e := mapEnv(map[string]string{"LOG_LEVEL": "warn", "HOME": "/root"})

	environ, strays, err := readEnviron(file, false, e)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"EXPLAINER_ADDR": ":9999", "LOG_LEVEL": "warn", "EXPLAINER_RATE_LIMIT": "2.5", "SLACK_BOT_TOKN": "xoxb-typo"}
	if len(environ) != len(want) {
		t.Errorf("environ = %v, want %v", environ, want)
	}
	for k, v := range want {
		if environ[k] != v {
			t.Errorf("%s = %q, want %q (the environment wins over .env)", k, environ[k], v)
		}
	}
	if strings.Join(strays, ",") != "SLACK_BOT_TOKN" {
		t.Errorf("strays = %v", strays)
	}

	if _, _, err := readEnviron(filepath.Join(dir, "missing"), false, e); err != nil {
		t.Errorf("a missing default .env: %v", err)
	}
	if _, _, err := readEnviron(filepath.Join(dir, "missing"), true, e); err == nil {
		t.Error("a missing --env-file is not an error")
	}
}

func mapEnv(m map[string]string) env {
	return env{
		get:    func(k string) string { return m[k] },
		lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok },
	}
}

// Every problem with the settings is reported at once, each naming its
// variable, and nothing starts.
func TestServeRefusesBadSettings(t *testing.T) {
	bad := map[string]string{"LOG_FORMAT": "xml", "EXPLAINER_RATE_BURST": "0", "EXPLAINER_SHUTDOWN_TIMEOUT": "soon", "EXPLAINER_ADDR": "127.0.0.1:0"}
	tests := []struct {
		name    string
		args    []string
		environ map[string]string
		code    int
		want    []string
	}{
		{"bad settings", []string{"serve"}, bad, 1,
			[]string{"problem(s) with the settings", "LOG_FORMAT", "EXPLAINER_RATE_BURST", "EXPLAINER_SHUTDOWN_TIMEOUT"}},
		{"missing env file", []string{"serve", "--env-file", "/nonexistent/.env"}, nil, 1, []string{"env file", "/nonexistent/.env"}},
		{"arguments", []string{"serve", "now"}, nil, 2, []string{"serve takes no arguments"}},
		{"bad flag", []string{"serve", "--port", "80"}, nil, 2, []string{"flag provided but not defined: -port"}},
		{"bad address", []string{"serve"}, map[string]string{"EXPLAINER_ADDR": "256.0.0.1:80", "EXPLAINER_DB": filepath.Join(t.TempDir(), "x.db")}, 1, []string{"EXPLAINER_ADDR"}},
		{"bad database", []string{"serve"}, map[string]string{"EXPLAINER_DB": "/nonexistent/folder/explainer.db"}, 1, []string{"database /nonexistent/folder/explainer.db: folder /nonexistent/folder does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, mapEnv(tt.environ), nil, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "msg=listening") {
				t.Error("the server started")
			}
		})
	}
}

func grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
