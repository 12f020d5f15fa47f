// Package slack connects the explainer to Slack. It turns mentions, direct
// messages, replies in the bot's threads, the /explain command and button
// clicks into questions for the engine, and posts the answers as Block Kit
// messages. It runs over Socket Mode (an app-level token, no public URL),
// over HTTP (Events API, slash command and interactivity endpoints, every
// request signature-checked), or both.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	slackapi "github.com/slack-go/slack"

	"github.com/explainerbot/explainer/bot"
)

// Asker answers questions and says what it knows: the engine, or a fake.
type Asker interface {
	Ask(ctx context.Context, q bot.Question) (bot.Answer, error)
	About() bot.About
}

// FeedbackRecorder keeps readers' 👍/👎 verdicts.
type FeedbackRecorder interface {
	RecordFeedback(ctx context.Context, f bot.Feedback) error
}

// EventLog de-duplicates deliveries: FirstSeen reports true the first
// time an id from a source is seen.
type EventLog interface {
	FirstSeen(ctx context.Context, source, id string) (bool, error)
}

// Config is how the adapter connects to Slack and how much it takes on.
type Config struct {
	BotToken      string   // xoxb-: needed in both modes
	AppToken      string   // xapp-: Socket Mode
	SigningSecret string   // HTTP mode: verifies requests to /slack/*
	APIURL        string   // Web API base URL; "" for Slack's own
	AdminUsers    []string // user ids allowed to subscribe and unsubscribe channels; anyone when empty

	Command       string        // the slash command; default "/explain"
	Workers       int           // questions answered at once; default 8
	MaxPending    int           // accepted and not yet answered; default 1000
	MaxBody       int64         // largest HTTP request body; default 1 MiB
	PostAttempts  int           // tries of a rate-limited call; default 5
	MaxRetryAfter time.Duration // longest Retry-After waited; default 1 minute
	JobTimeout    time.Duration // longest time spent on one question; default 2 minutes
	DrainTimeout  time.Duration // wait for answers in flight on shutdown; default 10s
	// StreamInterval is the shortest time between edits of an answer shown
	// as it is written; default DefaultStreamInterval (stream.go).
	StreamInterval time.Duration
}

// Deps are what the adapter uses. Asker is required; without Feedback,
// verdicts are only logged; without Events, de-duplication is in memory.
type Deps struct {
	Asker      Asker
	Feedback   FeedbackRecorder
	Events     EventLog
	Digests    Digests // the digest commands; without it they say digests are off
	Logger     *slog.Logger
	HTTPClient *http.Client // Web API and response URLs; nil for a default with timeouts
}

func (c *Config) defaults() {
	if c.Command == "" {
		c.Command = "/explain"
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 1000
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.PostAttempts <= 0 {
		c.PostAttempts = 5
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = time.Minute
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 2 * time.Minute
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.StreamInterval <= 0 {
		c.StreamInterval = DefaultStreamInterval
	}
}

// Adapter is the Slack platform. Create it with New, Mount its HTTP
// endpoints, and Run it.
type Adapter struct {
	cfg      Config
	asker    Asker
	feedback FeedbackRecorder
	store    EventLog
	digests  Digests
	log      *slog.Logger
	api      *slackapi.Client
	http     *http.Client

	seen    *MemoryEvents
	threads *lru.Cache[string, struct{}]
	answers *lru.Cache[string, bot.Answer]

	sem  chan struct{}
	jobs tracker
	base context.Context // jobs run under it; cancelled when draining ends
	stop context.CancelFunc

	mu       sync.Mutex
	botUser  string // the bot's user id, from auth.test
	authed   bool
	socketUp bool
}

// New checks the configuration and returns an adapter.
func New(cfg Config, deps Deps) (*Adapter, error) {
	cfg.defaults()
	switch {
	case cfg.BotToken == "":
		return nil, errors.New("slack: a bot token (xoxb-) is needed")
	case cfg.AppToken == "" && cfg.SigningSecret == "":
		return nil, errors.New("slack: an app token (Socket Mode) or a signing secret (HTTP) is needed")
	case deps.Asker == nil:
		return nil, errors.New("slack: no asker")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("platform", "slack")
	hc := deps.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	opts := []slackapi.Option{slackapi.OptionHTTPClient(hc)}
	// Retries stay off in slack-go: rate limits are retried here, once.
	if cfg.APIURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(strings.TrimSuffix(cfg.APIURL, "/")+"/"))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	threads, err := lru.New[string, struct{}](10_000)
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	answers, err := lru.New[string, bot.Answer](1_000)
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	base, stop := context.WithCancel(context.Background())
	return &Adapter{
		cfg:      cfg,
		asker:    deps.Asker,
		feedback: deps.Feedback,
		store:    deps.Events,
		digests:  deps.Digests,
		log:      log,
		api:      slackapi.New(cfg.BotToken, opts...),
		http:     hc,
		seen:     NewMemoryEvents(0, 0),
		threads:  threads,
		answers:  answers,
		sem:      make(chan struct{}, cfg.Workers),
		base:     base,
		stop:     stop,
	}, nil
}

// Name is the platform's name.
func (a *Adapter) Name() string { return "slack" }

// Mount registers the HTTP endpoints when a signing secret is configured:
// /slack/events, /slack/commands and /slack/interactivity.
func (a *Adapter) Mount(mux *http.ServeMux) {
	if a.cfg.SigningSecret == "" {
		return
	}
	mux.Handle("POST /slack/events", a.verified(a.serveEvents))
	mux.Handle("POST /slack/commands", a.verified(a.serveCommand))
	mux.Handle("POST /slack/interactivity", a.verified(a.serveInteraction))
}

// Run checks the bot token with auth.test, then holds the Socket Mode
// connection when an app token is configured, reconnecting when it drops.
// It returns nil when ctx ends, after letting answers in flight finish,
// and an error only when Slack refuses the tokens.
func (a *Adapter) Run(ctx context.Context) error {
	defer a.drain()
	if err := a.authenticate(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if a.cfg.AppToken == "" {
		<-ctx.Done()
		return nil
	}
	return a.runSocket(ctx)
}

// Ready reports nil once the bot token passed auth.test and, in Socket
// Mode, the socket is connected.
func (a *Adapter) Ready() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !a.authed:
		return errors.New("slack: bot token not checked yet (auth.test)")
	case a.cfg.AppToken != "" && !a.socketUp:
		return errors.New("slack: socket mode not connected")
	}
	return nil
}

func (a *Adapter) botUserID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.botUser
}

// fatalAuth lists the Slack errors that no retry fixes.
var fatalAuth = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true,
	"token_revoked": true, "token_expired": true, "not_allowed_token_type": true,
}

// authenticate calls auth.test until it passes, retrying network trouble.
func (a *Adapter) authenticate(ctx context.Context) error {
	wait := time.Second
	for {
		res, err := a.api.AuthTestContext(ctx)
		if err == nil {
			a.mu.Lock()
			a.botUser, a.authed = res.UserID, true
			a.mu.Unlock()
			a.log.Info("slack: bot token accepted", "team", res.Team, "bot_user", res.UserID)
			return nil
		}
		var se slackapi.SlackErrorResponse
		if errors.As(err, &se) && fatalAuth[se.Err] {
			return fmt.Errorf("slack: bot token refused by auth.test: %w", err)
		}
		a.log.Warn("slack: auth.test failed, retrying", "err", redact(err.Error()), "in", wait)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// dispatch runs a job in the background, at most Workers at a time, under
// the adapter's context with a deadline. It returns false, running
// nothing, when MaxPending jobs are already waiting.
func (a *Adapter) dispatch(kind string, job func(ctx context.Context)) bool {
	if !a.jobs.add(a.cfg.MaxPending) {
		a.log.Warn("slack: too many questions waiting, refusing one", "kind", kind, "pending", a.cfg.MaxPending)
		return false
	}
	go func() {
		defer a.jobs.finish()
		select {
		case a.sem <- struct{}{}:
		case <-a.base.Done():
			return
		}
		defer func() { <-a.sem }()
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("slack: panic while handling", "kind", kind, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		ctx, cancel := context.WithTimeout(a.base, a.cfg.JobTimeout)
		defer cancel()
		job(ctx)
	}()
	return true
}

// drain waits for jobs in flight, up to DrainTimeout, then cancels them.
func (a *Adapter) drain() {
	t := time.NewTimer(a.cfg.DrainTimeout)
	defer t.Stop()
	select {
	case <-a.jobs.idle():
	case <-t.C:
		a.log.Warn("slack: answers still in flight at shutdown, cancelling", "jobs", a.jobs.count())
	}
	a.stop()
}

// firstSeen reports whether an id is new, in memory first and then in the
// store. A store failure is logged and the id treated as new: answering
// twice is better than not answering.
func (a *Adapter) firstSeen(ctx context.Context, source, id string) bool {
	if id == "" {
		return true
	}
	if ok, _ := a.seen.FirstSeen(ctx, source, id); !ok {
		return false
	}
	if a.store == nil {
		return true
	}
	ok, err := a.store.FirstSeen(ctx, source, id)
	if err != nil {
		a.log.Warn("slack: event store failed; de-duplicating in memory only", "err", err)
		return true
	}
	return ok
}

func threadKey(channel, thread string) string { return channel + "/" + thread }

// inThread reports whether the bot is part of a thread.
func (a *Adapter) inThread(channel, thread string) bool {
	return a.threads.Contains(threadKey(channel, thread))
}

func (a *Adapter) joinThread(channel, thread string) {
	if thread != "" {
		a.threads.Add(threadKey(channel, thread), struct{}{})
	}
}

// sleep waits d or until ctx ends, reporting whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
