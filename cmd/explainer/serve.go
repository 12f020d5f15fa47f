package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/explainerbot/explainer/config"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/httpapi"
	"github.com/explainerbot/explainer/live"
	"github.com/explainerbot/explainer/metrics"
	"github.com/explainerbot/explainer/store"
	"github.com/explainerbot/explainer/web"
)

// platform is a chat platform connection run by serve: Slack, Discord.
type platform interface {
	// Name is the platform's name in logs, metrics and /readyz.
	Name() string
	// Mount adds the platform's HTTP endpoints (webhooks), if it has any.
	Mount(mux *http.ServeMux)
	// Run keeps the platform's connection until ctx ends.
	Run(ctx context.Context) error
	// Ready says whether the platform is connected and answering.
	Ready() error
}

// serveDeps is what a platform adapter is built from.
type serveDeps struct {
	Config config.Config
	Log    *slog.Logger
	// Asker answers questions from the knowledge base being served,
	// counting each one in the metrics by its platform.
	Asker metrics.StreamAsker
	// Engine offers the engine's other read methods (About, Suggest,
	// Topics, Explain) over the knowledge base being served.
	Engine   *live.Engine
	Metrics  *metrics.Metrics
	Registry prometheus.Registerer
	// Store is the database (EXPLAINER_DB): feedback, event ids, the
	// question log, subscriptions. Nil where a test does without.
	Store *store.Store
	// Digests manages the channels' digest subscriptions; nil without a
	// store.
	Digests *digest.Channels
}

// buildPlatforms returns the platform connections the settings ask for,
// and for each platform left off, why.
func buildPlatforms(_ context.Context, d serveDeps) (ps []platform, off []string, err error) {
	if d.Config.SlackEnabled() {
		p, err := newSlack(d)
		if err != nil {
			return nil, nil, err
		}
		ps = append(ps, p)
	} else {
		off = append(off, "slack: off: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
	}
	if d.Config.DiscordEnabled() {
		p, err := newDiscord(d)
		if err != nil {
			return nil, nil, err
		}
		ps = append(ps, p)
	} else {
		off = append(off, "discord: off: set DISCORD_BOT_TOKEN (gateway) or DISCORD_PUBLIC_KEY (HTTP interactions), with DISCORD_APP_ID")
	}
	return ps, off, nil
}

const (
	// maxBody caps every request body; the question API caps tighter.
	maxBody = 1 << 20
	// reloadDebounce is how long the knowledge base folder must be quiet
	// after a change before it is reloaded.
	reloadDebounce = 300 * time.Millisecond
)

func runServe(ctx context.Context, c cli) error {
	fs := newFlagSet("serve", `serve [--kb DIR] [--env-file FILE] [--pprof ADDR]

Serves the JSON API, the web page, metrics and every chat platform whose
settings are present. Settings come from the environment and the env file
(the environment wins); see .env.example.`, c.stderr)
	var k kbFlags
	k.register(fs, c.env)
	var set settingsFlags
	set.register(fs)
	pprofAddr := fs.String("pprof", "", "serve Go profiles (net/http/pprof) on this separate `address`, e.g. 127.0.0.1:6060; keep it private")
	args, err := parseFlags(fs, c.args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("serve takes no arguments, got %q", strings.Join(args, " "))
	}

	environ, strays, err := set.read(c)
	if err != nil {
		return err
	}
	cfg, err := loadSettings(environ)
	if err != nil {
		return err
	}
	if k.dir != "" {
		cfg.KBDir = k.dir
	}
	log := newLogger(cfg, c.stderr)
	for _, name := range strays {
		log.Warn("not a setting; ignored", "file", set.envFile, "variable", name)
	}
	log.Info("starting explainer", settingsAttrs(cfg)...)

	st, err := openServeStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	opts, err := serveSummarizer(cfg, log, m)
	if err != nil {
		return err
	}
	opts.MinCoverage = k.minCoverage

	start := time.Now()
	ix, warnings, err := live.Load(ctx, cfg.KBDir)
	if err != nil {
		return err
	}
	for _, p := range warnings {
		log.Warn("knowledge base lint", "problem", p.String())
	}
	engine := live.New(ix, opts)
	defer engine.Close()
	kbName := cfg.KBDir
	if kbName == "" {
		kbName = "built-in"
	}
	log.Info("knowledge base loaded", "kb", kbName, "entries", len(engine.KB().Entries()),
		"warnings", len(warnings), "took", time.Since(start).Round(time.Millisecond))

	m.Loaded(len(engine.KB().Entries()))

	deps := serveDeps{Config: cfg, Log: log, Asker: logQuestions(m.Asker(engine), st, log), Engine: engine, Metrics: m, Registry: reg, Store: st}
	dg, err := newServeDigests(ctx, deps, opts)
	if err != nil {
		return err
	}
	deps.Digests = dg.channels
	ps, off, err := buildPlatforms(ctx, deps)
	if err != nil {
		return err
	}
	if err := dg.attach(deps, ps); err != nil {
		return err
	}
	for _, o := range off {
		log.Info(o)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("EXPLAINER_ADDR: %w", err)
	}
	s := &server{deps: deps, registry: reg, platforms: ps, digests: dg,
		limiter: httpapi.NewLimiter(cfg.RateLimit, cfg.RateBurst)}
	if *pprofAddr != "" {
		stop, err := servePprof(*pprofAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	return s.serve(ctx, ln)
}

// newLogger builds the process's one logger from LOG_FORMAT and LOG_LEVEL.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// settingsAttrs lists every setting for the start-up log, secrets redacted.
func settingsAttrs(cfg config.Config) []any {
	red := cfg.Redacted()
	names := make([]string, 0, len(red))
	for n := range red {
		names = append(names, n)
	}
	sort.Strings(names)
	attrs := make([]any, 0, len(names))
	for _, n := range names {
		attrs = append(attrs, slog.String(n, red[n]))
	}
	return []any{slog.Group("settings", attrs...)}
}

// server is a running `explainer serve`.
type server struct {
	deps      serveDeps
	registry  *prometheus.Registry
	platforms []platform
	limiter   *httpapi.Limiter
	digests   *serveDigests // nil where a test does without
}

// handler is every HTTP route behind the middleware. It fails when a
// platform's routes clash with others.
func (s *server) handler() (http.Handler, error) {
	log, m := s.deps.Log, s.deps.Metrics
	mux := http.NewServeMux()
	api := &httpapi.API{Asker: s.deps.Asker, Library: s.deps.Engine, Limiter: s.limiter, Log: log, RateLimited: m.RateLimited}
	api.Mount(mux)
	mux.HandleFunc("GET /healthz", httpapi.Health)
	mux.Handle("GET /readyz", httpapi.Ready(s.checks))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: s.registry,
	}))
	mux.Handle("/", web.Handler())
	for _, p := range s.platforms {
		if err := mount(mux, p); err != nil {
			return nil, err
		}
	}
	return httpapi.Recover(log, m.Panic, httpapi.LogRequests(log, httpapi.MaxBody(maxBody, mux))), nil
}

// mount adds a platform's routes, turning the panic of a clashing pattern
// into an error that names the platform.
func mount(mux *http.ServeMux, p platform) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: routes: %v", p.Name(), v)
		}
	}()
	p.Mount(mux)
	return nil
}

// checks are what /readyz reports: the knowledge base and each platform.
func (s *server) checks() []httpapi.Check {
	cs := []httpapi.Check{{Name: "kb", Ready: func() error {
		if len(s.deps.Engine.KB().Entries()) == 0 {
			return errors.New("no knowledge base entries loaded")
		}
		return nil
	}}}
	for _, p := range s.platforms {
		cs = append(cs, httpapi.Check{Name: p.Name(), Ready: p.Ready})
	}
	if s.deps.Store != nil {
		cs = append(cs, storeCheck(s.deps.Store))
	}
	return cs
}

// serve runs the HTTP server on ln, the platforms and the knowledge base
// reloads until ctx ends, then shuts down gracefully: it stops accepting,
// lets requests in flight finish within the shutdown timeout, and stops the
// platforms.
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	cfg, log := s.deps.Config, s.deps.Log
	h, err := s.handler()
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests in flight must outlive the signal that starts the
		// shutdown: their context is not ctx.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	var bg sync.WaitGroup
	defer bg.Wait()
	bgCtx, stopBG := context.WithCancel(ctx)
	defer stopBG()
	s.startReloads(bgCtx, &bg)
	s.startDigests(ctx)

	platCtx, stopPlatforms := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPlatforms()
	var plats sync.WaitGroup
	for _, p := range s.platforms {
		log.Info("platform on", "platform", p.Name())
		plats.Add(1)
		go func() {
			defer plats.Done()
			s.runPlatform(platCtx, p)
		}()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "url", pageURL(ln.Addr()))

	select {
	case err := <-served:
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		s.stopDigests(sctx)
		stopPlatforms()
		plats.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down: finishing requests in flight", "timeout", cfg.ShutdownTimeout)
	stopBG()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if derr := s.stopDigests(sctx); derr != nil && err == nil {
		err = derr
	}
	stopPlatforms()
	platsDone := make(chan struct{})
	go func() {
		plats.Wait()
		close(platsDone)
	}()
	select {
	case <-platsDone:
	case <-sctx.Done():
		if err == nil {
			err = sctx.Err()
		}
	}
	if err != nil {
		srv.Close()
		log.Error("shutdown timed out; requests or platforms still running were cut off", "timeout", cfg.ShutdownTimeout, "err", err)
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// startReloads reloads the knowledge base on SIGHUP and, when it comes from
// a folder being watched, when its files change.
func (s *server) startReloads(ctx context.Context, wg *sync.WaitGroup) {
	cfg, log := s.deps.Config, s.deps.Log
	r := &live.Reloader{Dir: cfg.KBDir, Engine: s.deps.Engine, Log: log, Done: s.reloaded(ctx)}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if cfg.KBDir == "" {
					log.Warn("SIGHUP: nothing to reload: the built-in knowledge base is served (use --kb DIR or EXPLAINER_KB)")
					continue
				}
				log.Info("SIGHUP: reloading the knowledge base", "dir", cfg.KBDir)
				_ = r.Reload(ctx)
			}
		}
	}()
	if cfg.KBDir == "" || !cfg.WatchKB {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.Watch(ctx, reloadDebounce); err != nil {
			log.Warn("cannot watch the knowledge base for changes; SIGHUP still reloads it", "dir", cfg.KBDir, "err", err)
		}
	}()
}

// runPlatform runs one platform until ctx ends. Its failure, even a panic,
// is logged and leaves the rest of the process serving.
func (s *server) runPlatform(ctx context.Context, p platform) {
	log := s.deps.Log.With("platform", p.Name())
	defer func() {
		if v := recover(); v != nil {
			s.deps.Metrics.Panic()
			log.Error("platform panicked; it is off until restart", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	err := p.Run(ctx)
	switch {
	case ctx.Err() != nil:
		log.Info("platform stopped")
	case err != nil:
		log.Error("platform failed; it is off until restart", "err", err)
	default:
		log.Warn("platform ended by itself; it is off until restart")
	}
}

// pageURL is where a person on this machine finds the web page.
func pageURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// servePprof serves Go's profiles on their own listener, apart from the
// public routes.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("profiles served", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}
