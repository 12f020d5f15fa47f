package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/explainerbot/explainer/adapters/discord"
	"github.com/explainerbot/explainer/adapters/slack"
	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/knowledge"
	"github.com/explainerbot/explainer/store"
)

// serveDigests is the daily digest inside serve: the composer over the
// knowledge base being served (rebuilt when it is reloaded), the channels'
// subscriptions behind the chat commands, the scheduler posting to every
// platform that is on, and the curators' weekly report.
type serveDigests struct {
	log      *slog.Logger
	store    *store.Store
	source   *liveDigests
	channels *digest.Channels
	sched    *digest.Scheduler
	weekly   *digest.Weekly
	events   *prometheus.CounterVec

	started    bool
	stopWeekly context.CancelFunc
	weeklyDone chan struct{}
}

// newServeDigests composes from the knowledge base being served, with the
// engine's options: with a summarizer (the LLM on) each digest gets a
// short fluent summary on top, under the engine's grounding guard. The
// scheduler is built by attach, once the platforms are.
func newServeDigests(ctx context.Context, d serveDeps, eng bot.Options) (*serveDigests, error) {
	opts := digest.Options{Logger: d.Log}
	if eng.Summarizer != nil {
		opts.Summarize = digestSummary(eng.Summarizer)
		opts.Check = d.Engine.CheckGrounded
	}
	src := &liveDigests{opts: opts, minCoverage: eng.MinCoverage}
	start := time.Now()
	if err := src.refresh(ctx, d.Engine.KB()); err != nil {
		return nil, err
	}
	d.Log.Debug("digest composer ready", "days_in_rotation", src.cur.Load().Days(), "took", time.Since(start).Round(time.Millisecond))
	g := &serveDigests{log: d.Log, store: d.Store, source: src}
	g.channels = &digest.Channels{Store: d.Store, Digests: src, Zone: d.Config.TZ, At: digest.DefaultAt, Logger: d.Log}
	if d.Registry != nil {
		g.events = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "explainer_digest_events_total",
			Help: "Outcomes of scheduled digest and curator report deliveries, by platform and kind (posted, confirmed, retrying, failed, paused, missed...).",
		}, []string{"platform", "kind"})
		if err := d.Registry.Register(g.events); err != nil {
			return nil, fmt.Errorf("digest metrics: %w", err)
		}
	}
	return g, nil
}

// attach builds the scheduler with a poster for each platform that can
// post (Slack; Discord with a bot token), and the curators' weekly report
// when EXPLAINER_CURATOR_CHANNEL names a platform that is on.
func (g *serveDigests) attach(d serveDeps, ps []platform) error {
	posters := make(map[string]digest.Poster)
	texts := make(map[string]digest.TextPoster)
	for _, p := range ps {
		switch a := p.(type) {
		case *slack.Adapter:
			posters[bot.PlatformSlack], texts[bot.PlatformSlack] = a.Poster(), a.Poster()
		case *discord.Adapter:
			if d.Config.DiscordBotToken != "" {
				posters[bot.PlatformDiscord], texts[bot.PlatformDiscord] = a.Poster(), a.Poster()
			} else {
				g.log.Info("discord: digests off: posting to channels needs DISCORD_BOT_TOKEN")
			}
		}
	}
	cfg := d.Config
	sched, err := digest.NewScheduler(digest.Config{
		Store:       d.Store,
		Digests:     g.source,
		Posters:     posters,
		CatchUp:     cfg.DigestCatchUp,
		MaxFailures: cfg.DigestMaxRetries,
		Logger:      d.Log,
		Observe:     g.observe,
	})
	if err != nil {
		return err
	}
	g.sched = sched
	g.channels.Scheduler = sched

	if cfg.CuratorChannel == "" {
		return nil
	}
	platform, channel, _ := strings.Cut(cfg.CuratorChannel, ":")
	tp, ok := texts[platform]
	if !ok {
		g.log.Warn("curator report off: its platform cannot post (set its settings, and DISCORD_BOT_TOKEN for Discord)", "channel", cfg.CuratorChannel)
		return nil
	}
	loc := cfg.Location()
	g.weekly, err = digest.NewWeekly(digest.WeeklyConfig{
		Store: d.Store, Poster: tp, Platform: platform, Channel: channel,
		Weekday: time.Monday, At: digest.DefaultAt, Zone: loc,
		CatchUp: cfg.DigestCatchUp,
		Report:  curatorReport(d.Store, loc),
		Logger:  d.Log,
		Observe: g.observe,
	})
	return err
}

// Start schedules the subscriptions (catching up on any due while the
// process was down) and starts the weekly report. Posts are not cut by the
// signal that stops serve, only by Stop.
func (g *serveDigests) Start(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if err := g.sched.Start(ctx); err != nil {
		return err
	}
	g.started = true
	if g.weekly != nil {
		wctx, stop := context.WithCancel(ctx)
		g.stopWeekly, g.weeklyDone = stop, make(chan struct{})
		go func() {
			defer close(g.weeklyDone)
			g.weekly.Run(wctx)
		}()
	}
	return nil
}

// Stop stops scheduling and waits, until ctx ends, for posts under way.
func (g *serveDigests) Stop(ctx context.Context) error {
	if !g.started {
		return nil
	}
	err := g.sched.Stop(ctx)
	if g.stopWeekly != nil {
		g.stopWeekly()
		select {
		case <-g.weeklyDone:
		case <-ctx.Done():
			err = errors.Join(err, fmt.Errorf("curator report: %w", ctx.Err()))
		}
	}
	return err
}

// Reloaded rebuilds the composer from the knowledge base now served. A
// composer that cannot be built leaves the previous one.
func (g *serveDigests) Reloaded(ctx context.Context, kb *knowledge.KB) {
	if err := g.source.refresh(ctx, kb); err != nil {
		g.log.Error("digest composer not rebuilt after the reload; digests keep the previous knowledge base", "err", err)
		return
	}
	g.log.Info("digest composer rebuilt", "days_in_rotation", g.source.cur.Load().Days())
}

// observe counts and logs the scheduler's outcomes.
func (g *serveDigests) observe(e digest.Event) {
	if e.Kind == digest.EventSwept {
		g.log.Debug("digest sweep done", "at", e.At)
		return
	}
	if g.events != nil {
		g.events.WithLabelValues(e.Key.Platform, e.Kind).Inc()
	}
	g.log.Debug("digest event", "kind", e.Kind, "platform", e.Key.Platform, "channel", e.Key.Channel, "date", e.Key.Day, "attempt", e.Attempt)
}

// liveDigests composes from the composer of the knowledge base being
// served.
type liveDigests struct {
	opts        digest.Options
	minCoverage float64
	mu          sync.Mutex // one refresh at a time
	cur         atomic.Pointer[digest.Composer]
}

func (l *liveDigests) Compose(ctx context.Context, date digest.Date) (digest.Digest, error) {
	return l.cur.Load().Compose(ctx, date)
}

// refresh builds the composer of kb. The questions of the day are vetted
// by an engine of their own without a summarizer, as `explainer digest
// --print` vets them: vetting asks dozens of questions, none of which
// should reach a language model, the question log or the metrics.
func (l *liveDigests) refresh(ctx context.Context, kb *knowledge.KB) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ix, err := knowledge.NewIndex(kb)
	if err != nil {
		return fmt.Errorf("digest: index the knowledge base: %w", err)
	}
	defer ix.Close()
	opts := l.opts
	opts.Asker = bot.New(ix, bot.Options{MinCoverage: l.minCoverage})
	c, err := digest.NewComposer(ctx, kb, opts)
	if err != nil {
		return err
	}
	l.cur.Store(c)
	return nil
}

// digestQuestion is what the summarizer is asked about a digest's points.
const digestQuestion = "What are the key points of the story today?"

// digestSummary asks the summarizer for a digest's short summary; the
// composer keeps it only when the grounding guard passes it.
func digestSummary(s bot.Summarizer) digest.SummarizeFunc {
	return func(ctx context.Context, _ string, points []bot.Point) (string, error) {
		b := bot.Brief{Question: digestQuestion, Points: make([]bot.BriefPoint, len(points))}
		for i, p := range points {
			b.Points[i] = bot.BriefPoint{ID: bot.PointID(i), Text: p.Text, By: p.By, Standing: p.Standing}
		}
		return s.Summarize(ctx, b, nil)
	}
}

// curatorGroups is how many questions the weekly report lists.
const curatorGroups = 15

// curatorReport writes the weekly report for curators: the `explainer kb
// gaps` report of the week, or nothing when there were no gaps.
func curatorReport(st *store.Store, loc *time.Location) func(ctx context.Context, since, due time.Time) (string, error) {
	return func(ctx context.Context, since, _ time.Time) (string, error) {
		items, err := st.Gaps(ctx, since, false)
		if err != nil {
			return "", err
		}
		groups := digest.GroupGaps(items)
		if len(groups) == 0 {
			return "", nil
		}
		var b strings.Builder
		b.WriteString("Weekly report for curators: questions the knowledge base served badly\n\n")
		if err := digest.WriteGaps(&b, groups, since.In(loc), curatorGroups); err != nil {
			return "", err
		}
		b.WriteString("\nThe whole list: explainer kb gaps --since 7d\n")
		return b.String(), nil
	}
}

// startDigests starts the digests, when serve has them; a scheduler that
// cannot start leaves the rest serving.
func (s *server) startDigests(ctx context.Context) {
	if s.digests == nil {
		return
	}
	if err := s.digests.Start(ctx); err != nil {
		s.deps.Log.Error("daily digests off: the scheduler did not start", "err", err)
	}
}

// stopDigests stops the digests, waiting for posts under way until ctx
// ends.
func (s *server) stopDigests(ctx context.Context) error {
	if s.digests == nil {
		return nil
	}
	return s.digests.Stop(ctx)
}

// reloaded is told of every knowledge base reload: the metrics, then the
// digest composer.
func (s *server) reloaded(ctx context.Context) func(entries int, err error) {
	return func(entries int, err error) {
		s.deps.Metrics.Reloaded(entries, err)
		if err == nil && s.digests != nil {
			s.digests.Reloaded(ctx, s.deps.Engine.KB())
		}
	}
}
