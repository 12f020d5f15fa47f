// Package discord connects the bot to Discord: slash commands (/ask with
// autocomplete, /explain, /about), buttons under answers (follow-up
// questions, 👍 / 👎) and mentions of the bot, over the gateway (a bot
// token) and over the HTTP interactions endpoint (the application's public
// key), or both. It turns what people do into bot.Question values and
// renders bot.Answer values as Discord embeds.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/explainerbot/explainer/bot"
)

// Asker is the engine, as the adapter uses it.
type Asker interface {
	Ask(ctx context.Context, q bot.Question) (bot.Answer, error)
	// Suggest returns up to n questions the knowledge base answers well
	// that match what has been typed so far.
	Suggest(ctx context.Context, typed string, n int) ([]string, error)
	// Topics returns up to n names of things the knowledge base explains
	// that match typed.
	Topics(typed string, n int) []string
	// Explain answers with the entry that explains a topic.
	Explain(ctx context.Context, topic string) (bot.Answer, error)
	About() bot.About
}

// FeedbackRecorder keeps 👍 / 👎 verdicts on answers.
type FeedbackRecorder interface {
	RecordFeedback(ctx context.Context, f bot.Feedback) error
}

// Config is how the adapter connects.
type Config struct {
	// BotToken runs the gateway session and authorises bot REST calls
	// (mention replies, command registration). Empty: no gateway.
	BotToken string
	// PublicKey is the application's Ed25519 public key, in hex. Empty: no
	// HTTP interactions endpoint.
	PublicKey string
	// AppID is the application id. Interactions carry their own; it is
	// needed to register commands.
	AppID string
	// APIURL replaces https://discord.com/api/vN in REST calls (a proxy or a
	// test server). Empty: Discord's own.
	APIURL string

	// DeferAfter is how long an interaction waits for its answer before it
	// is deferred and the answer edited in when ready. Default 1.5s, well
	// inside the 3 seconds Discord allows.
	DeferAfter time.Duration
	// AnswerTimeout bounds one answer. Default 30s.
	AnswerTimeout time.Duration
	// StreamInterval is the shortest time between edits of an answer
	// shown as it is written. Default DefaultStreamInterval (stream.go).
	StreamInterval time.Duration
	// MaxRetries is how many times a rate limited REST call is retried.
	// Default 3.
	MaxRetries int
	// MaxBody caps an HTTP interaction's body. Default 256 KiB.
	MaxBody int64
	// HTTPClient makes the REST calls (and reaches the gateway URL); its
	// transport is wrapped when APIURL is set. Default: a client with a
	// 20-second timeout.
	HTTPClient *http.Client
}

// Defaults for Config.
const (
	DefaultDeferAfter    = 1500 * time.Millisecond
	DefaultAnswerTimeout = 30 * time.Second
	DefaultMaxRetries    = 3
	DefaultMaxBody       = 256 << 10

	// interactionWindow is how long Discord waits for an interaction's
	// first response.
	interactionWindow = 3 * time.Second
	// followupWindow is how long an interaction token lasts.
	followupWindow = 15 * time.Minute
	// A signed timestamp older than maxStale, or more than maxFuture
	// ahead, is refused.
	maxStale  = 5 * time.Minute
	maxFuture = 1 * time.Minute
)

// Deps are what the adapter works with.
type Deps struct {
	Asker    Asker
	Feedback FeedbackRecorder // optional: without it no 👍 / 👎 buttons
	Digests  Digests          // optional: without it /digest says digests are off
	Logger   *slog.Logger     // optional
}

// Adapter serves one Discord application. It is safe for concurrent use.
type Adapter struct {
	cfg       Config
	deps      Deps
	log       *slog.Logger
	publicKey ed25519.PublicKey
	rest      *rest
	seen      *seen

	gw        *gateway // nil without a bot token
	connected atomic.Bool
	work      inflight
}

// New returns an adapter for cfg. It connects to nothing until Run.
func New(cfg Config, deps Deps) (*Adapter, error) {
	if deps.Asker == nil {
		return nil, errors.New("discord: no Asker")
	}
	if cfg.BotToken == "" && cfg.PublicKey == "" {
		return nil, errors.New("discord: set a bot token (DISCORD_BOT_TOKEN), a public key (DISCORD_PUBLIC_KEY) or both")
	}
	if cfg.DeferAfter <= 0 {
		cfg.DeferAfter = DefaultDeferAfter
	}
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = DefaultAnswerTimeout
	}
	if cfg.StreamInterval <= 0 {
		cfg.StreamInterval = DefaultStreamInterval
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &Adapter{cfg: cfg, deps: deps, log: log.With("platform", "discord"), seen: newSeen(4096)}
	if cfg.PublicKey != "" {
		key, err := hex.DecodeString(cfg.PublicKey)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return nil, errors.New("discord: the public key (DISCORD_PUBLIC_KEY) must be 64 hex characters")
		}
		a.publicKey = key
	}
	r, err := newREST(cfg, a.log)
	if err != nil {
		return nil, err
	}
	a.rest = r
	if r.bot != nil {
		a.gw = newGateway(a, r.bot)
	}
	return a, nil
}

// newREST builds the REST client of cfg.
func newREST(cfg Config, log *slog.Logger) (*rest, error) {
	client := &http.Client{Timeout: 20 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	if cfg.APIURL != "" {
		rt, err := newRedirect(cfg.APIURL, client.Transport)
		if err != nil {
			return nil, err
		}
		client.Transport = rt
	}
	r := &rest{retries: cfg.MaxRetries, log: log}
	var err error
	if r.hooks, err = newSession("", client); err != nil {
		return nil, err
	}
	if cfg.BotToken != "" {
		if r.bot, err = newSession(botToken(cfg.BotToken), client); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Name is the platform's name.
func (a *Adapter) Name() string { return bot.PlatformDiscord }

// Ready reports whether the adapter can serve: always with the HTTP
// endpoint only, else once the gateway session is connected.
func (a *Adapter) Ready() error {
	if a.gw == nil || a.connected.Load() {
		return nil
	}
	return errors.New("discord: gateway not connected")
}

// Run runs the gateway session, when there is a bot token, until ctx ends;
// then it waits for answers in flight and returns nil. It returns an error
// only when Discord refuses the session for good (a bad token, intents not
// allowed).
func (a *Adapter) Run(ctx context.Context) error {
	defer a.work.close()
	if a.gw == nil {
		<-ctx.Done()
		return nil
	}
	return a.gw.run(ctx)
}

// inflight tracks work that outlives the request or event that started
// it, so that Run can wait for it.
type inflight struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// start runs fn in the background, or, once closed, at once in the
// caller's goroutine.
func (f *inflight) start(fn func()) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		fn()
		return
	}
	f.wg.Add(1)
	f.mu.Unlock()
	go func() {
		defer f.wg.Done()
		fn()
	}()
}

func (f *inflight) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.wg.Wait()
}

// seen remembers the last ids it was given, to handle each interaction and
// message once.
type seen struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

func newSeen(n int) *seen {
	return &seen{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// add reports whether id is new, and remembers it.
func (s *seen) add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.ids[id] = struct{}{}
	return true
}

// recovered logs a panic recovered while handling something, and reports
// whether there was one.
func (a *Adapter) recovered(v any, what string, stack []byte) bool {
	if v == nil {
		return false
	}
	a.log.Error("discord: panic handling "+what, "panic", fmt.Sprint(v), "stack", string(stack))
	return true
}
