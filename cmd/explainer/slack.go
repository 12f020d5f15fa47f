package main

import (
	"context"
	"fmt"

	"github.com/explainerbot/explainer/adapters/slack"
	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/metrics"
)

// newSlack builds the Slack platform from the settings: Socket Mode with
// SLACK_APP_TOKEN, HTTP endpoints with SLACK_SIGNING_SECRET, or both.
func newSlack(d serveDeps) (*slack.Adapter, error) {
	c := d.Config
	deps := slack.Deps{
		Asker:  slackAsker{StreamAsker: d.Asker, about: d.Engine.About},
		Logger: d.Log,
	}
	if d.Store != nil {
		deps.Feedback, deps.Events = d.Store, d.Store
	}
	if d.Digests != nil {
		deps.Digests = d.Digests
	}
	a, err := slack.New(slack.Config{
		BotToken:      c.SlackBotToken,
		AppToken:      c.SlackAppToken,
		SigningSecret: c.SlackSigningSecret,
		APIURL:        c.SlackAPIURL,
		AdminUsers:    c.SlackAdminUsers,
	}, deps)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// slackAsker answers through the counted asker and says what the
// knowledge base being served knows.
type slackAsker struct {
	metrics.StreamAsker
	about func() bot.About
}

func (s slackAsker) About() bot.About { return s.about() }

// runSlack runs the Slack helper commands: for now, printing the app
// manifest to create the Slack app from.
func runSlack(_ context.Context, c cli) error {
	if len(c.args) == 0 || c.args[0] != "manifest" {
		if len(c.args) > 0 && (c.args[0] == "-h" || c.args[0] == "--help" || c.args[0] == "help") {
			fmt.Fprintln(c.stdout, slackUsage)
			return nil
		}
		return usagef("want a subcommand\n\n%s", slackUsage)
	}
	fs := newFlagSet("slack manifest", `slack manifest [--http https://HOST] [--json] [--name NAME]

Prints the Slack app manifest: paste it at https://api.slack.com/apps ->
Create New App -> From a manifest. Without --http the app uses Socket Mode
(no public URL needed); with it, Slack calls HOST/slack/events,
HOST/slack/commands and HOST/slack/interactivity on 'explainer serve'.`, c.stderr)
	httpBase := fs.String("http", "", "public https `URL` of 'explainer serve' for HTTP mode (default: Socket Mode)")
	asJSON := fs.Bool("json", false, "print JSON instead of YAML")
	name := fs.String("name", "explainer", "the app's `name` in Slack")
	if err := parseOnlyFlags(fs, c.args[1:]); err != nil {
		return err
	}
	m, err := slack.Manifest(slack.ManifestOptions{Name: *name, HTTPBase: *httpBase})
	if err != nil {
		return usageError{err.Error()}
	}
	var out []byte
	if *asJSON {
		out, err = m.JSON()
	} else {
		out, err = m.YAML()
	}
	if err != nil {
		return err
	}
	if _, err := c.stdout.Write(out); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

const slackUsage = `Usage: explainer slack manifest [--http https://HOST] [--json] [--name NAME]

  manifest   print the Slack app manifest (Socket Mode, or HTTP with --http)`
