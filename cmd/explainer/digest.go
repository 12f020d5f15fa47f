package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/explainerbot/explainer/config"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/store"
)

const digestUsage = `explainer digest --print [--date YYYY-MM-DD] [--json] [--kb DIR]
       explainer digest subscribe --platform slack|discord --channel ID [--at HH:MM] [--tz ZONE]
       explainer digest unsubscribe --platform slack|discord --channel ID
       explainer digest list`

func runDigest(ctx context.Context, c cli) error {
	if len(c.args) > 0 && !strings.HasPrefix(c.args[0], "-") {
		sub, c2 := c.args[0], c
		c2.args = c.args[1:]
		switch sub {
		case "subscribe":
			return runDigestSubscribe(ctx, c2)
		case "unsubscribe":
			return runDigestUnsubscribe(ctx, c2)
		case "list":
			return runDigestList(ctx, c2)
		}
		return usagef("unknown subcommand %q: want --print, subscribe, unsubscribe or list\n\nUsage: %s", sub, digestUsage)
	}
	return runDigestPrint(ctx, c)
}

func openStore(ctx context.Context, cfg config.Config, c cli) (*store.Store, error) {
	return store.Open(ctx, cfg.DBPath, store.Options{LogUsers: cfg.LogUsers, Logger: newLogger(cfg, c.stderr)})
}

func runDigestPrint(ctx context.Context, c cli) error {
	fs := newFlagSet("digest", digestUsage, c.stderr)
	printIt := fs.Bool("print", false, "print the digest of a day")
	date := fs.String("date", "", "the `day` to print, YYYY-MM-DD (default: today in EXPLAINER_TZ)")
	asJSON := fs.Bool("json", false, "print the digest's parts as JSON")
	var k kbFlags
	k.register(fs, c.env)
	var s settingsFlags
	s.register(fs)
	args, err := parseFlags(fs, c.args)
	if err != nil {
		return err
	}
	if !*printIt {
		return usagef("want --print or a subcommand\n\nUsage: %s", digestUsage)
	}
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	cfg, err := s.load(c)
	if err != nil {
		return err
	}
	day := digest.Today(time.Now(), cfg.Location())
	if *date != "" {
		if day, err = digest.ParseDate(*date); err != nil {
			return usagef("--date: %v", err)
		}
	}
	ix, err := k.load()
	if err != nil {
		return err
	}
	defer ix.Close()
	comp, err := digest.NewComposer(ctx, ix.KB(), digest.Options{Asker: k.engine(ix)})
	if err != nil {
		return err
	}
	d, err := comp.Compose(ctx, day)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	_, err = fmt.Fprint(c.stdout, d.Text())
	return err
}

var (
	slackChannel   = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)
	discordChannel = regexp.MustCompile(`^[0-9]{15,21}$`)
)

// channelFlags are --platform and --channel, checked.
type channelFlags struct{ platform, channel string }

func (f *channelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.platform, "platform", "", "slack or discord")
	fs.StringVar(&f.channel, "channel", "", "the channel `ID` (Slack: C0123ABCD; Discord: a number)")
}

func (f *channelFlags) check() error {
	switch f.platform {
	case "":
		return usagef("--platform: want slack or discord")
	case "slack":
		if !slackChannel.MatchString(f.channel) {
			return usagef("--channel %q: want a Slack channel id such as C0123ABCD (in Slack: channel details, at the bottom)", f.channel)
		}
	case "discord":
		if !discordChannel.MatchString(f.channel) {
			return usagef("--channel %q: want a Discord channel id, a number such as 1234567890123456789 (Developer Mode, then Copy Channel ID)", f.channel)
		}
	default:
		return usagef("--platform %q: want slack or discord", f.platform)
	}
	return nil
}

func runDigestSubscribe(ctx context.Context, c cli) error {
	fs := newFlagSet("digest subscribe", "digest subscribe --platform slack|discord --channel ID [--at HH:MM] [--tz ZONE]", c.stderr)
	var ch channelFlags
	ch.register(fs)
	at := fs.String("at", "09:00", "the local time of day to post, `HH:MM` on the 24-hour clock")
	tz := fs.String("tz", "", "the time `zone` of --at, such as Europe/Berlin (default EXPLAINER_TZ)")
	var s settingsFlags
	s.register(fs)
	if err := parseOnlyFlags(fs, c.args); err != nil {
		return err
	}
	if err := ch.check(); err != nil {
		return err
	}
	cfg, err := s.load(c)
	if err != nil {
		return err
	}
	zone := *tz
	if zone == "" {
		zone = cfg.TZ
	}
	when, zone, err := digest.CheckSchedule(*at, zone)
	if err != nil {
		return usagef("%v", err)
	}
	st, err := openStore(ctx, cfg, c)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := st.Subscribe(ctx, store.Subscription{Platform: ch.platform, Channel: ch.channel, At: when, Zone: zone, CreatedBy: "cli"})
	if err != nil {
		return err
	}
	next, err := digest.NextTime(time.Now(), when, zone)
	if err != nil {
		return err
	}
	verb := "subscribed"
	if !created {
		verb = "updated"
	}
	_, err = fmt.Fprintf(c.stdout, "%s %s:%s: a digest daily at %s %s; next %s\n", verb, ch.platform, ch.channel, when, zone, next.Format("Mon 2 Jan 15:04 MST"))
	return err
}

func runDigestUnsubscribe(ctx context.Context, c cli) error {
	fs := newFlagSet("digest unsubscribe", "digest unsubscribe --platform slack|discord --channel ID", c.stderr)
	var ch channelFlags
	ch.register(fs)
	var s settingsFlags
	s.register(fs)
	if err := parseOnlyFlags(fs, c.args); err != nil {
		return err
	}
	if err := ch.check(); err != nil {
		return err
	}
	cfg, err := s.load(c)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Unsubscribe(ctx, ch.platform, ch.channel); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s:%s is not subscribed (see explainer digest list)", ch.platform, ch.channel)
	} else if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "unsubscribed %s:%s\n", ch.platform, ch.channel)
	return err
}

func runDigestList(ctx context.Context, c cli) error {
	fs := newFlagSet("digest list", "digest list", c.stderr)
	var s settingsFlags
	s.register(fs)
	if err := parseOnlyFlags(fs, c.args); err != nil {
		return err
	}
	cfg, err := s.load(c)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, c)
	if err != nil {
		return err
	}
	defer st.Close()
	subs, err := st.Subscriptions(ctx)
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no subscriptions (explainer digest subscribe --platform slack --channel C0123ABCD)")
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tCHANNEL\tAT\tZONE\tSTATUS\tLAST DIGEST\tNEXT")
	for _, sub := range subs {
		status, next := "active", "-"
		if sub.Paused {
			status = fmt.Sprintf("paused after %d failed days", sub.Failures)
		} else {
			if sub.Failures > 0 {
				status = fmt.Sprintf("active, %d failed days", sub.Failures)
			}
			if t, err := digest.NextTime(now, sub.At, sub.Zone); err == nil {
				next = t.Format("Mon 2 Jan 15:04 MST")
			}
		}
		last := "-"
		recs, err := st.Digests(ctx, sub.Platform, sub.Channel, 1)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			last = recs[0].Day + " " + recs[0].State
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sub.Platform, sub.Channel, sub.At, sub.Zone, status, last, next)
	}
	return tw.Flush()
}
