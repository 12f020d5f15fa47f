package digest_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/knowledge"
	"github.com/explainerbot/explainer/store"
)

// How a server runs the daily digest: a store, a composer over the
// knowledge base (with the engine to vet the questions of the day), a
// poster a platform, and the scheduler.
func Example() {
	ctx := context.Background()
	log := slog.Default()
	st, err := store.Open(ctx, "explainer.db", store.Options{Logger: log})
	if err != nil {
		log.Error("store", "err", err)
		return
	}
	defer st.Close()
	kb, _ := knowledge.Default()
	ix, _ := knowledge.NewIndex(kb)
	eng := bot.New(ix, bot.Options{})
	comp, err := digest.NewComposer(ctx, kb, digest.Options{Asker: eng, Logger: log})
	if err != nil {
		log.Error("digest", "err", err)
		return
	}
	var slackPoster digest.Poster // the Slack adapter
	sched, err := digest.NewScheduler(digest.Config{
		Store:       st,
		Digests:     comp,
		Posters:     map[string]digest.Poster{bot.PlatformSlack: slackPoster},
		CatchUp:     3 * time.Hour, // EXPLAINER_DIGEST_CATCHUP
		MaxFailures: 3,             // EXPLAINER_DIGEST_MAX_FAILURES
		Logger:      log,
	})
	if err != nil {
		log.Error("digest", "err", err)
		return
	}
	if err := sched.Start(ctx); err != nil {
		log.Error("digest", "err", err)
		return
	}
	defer sched.Stop(ctx)

	// A slash command subscribes a channel, then tells the scheduler.
	at, zone, err := digest.CheckSchedule("09:00", "Europe/Berlin")
	if err != nil {
		return // tell the user what is wrong: err names it
	}
	st.Subscribe(ctx, store.Subscription{Platform: bot.PlatformSlack, Channel: "C0123ABCD", At: at, Zone: zone, CreatedBy: "U0123"})
	sched.Sync(ctx)
}
