package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/adapters/discord"
	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/live"
	"github.com/explainerbot/explainer/metrics"
)

// newDiscord builds the Discord platform from the settings: the gateway
// with DISCORD_BOT_TOKEN, the HTTP interactions endpoint with
// DISCORD_PUBLIC_KEY, or both.
func newDiscord(d serveDeps) (*discord.Adapter, error) {
	c := d.Config
	deps := discord.Deps{
		Asker:  discordAsker{StreamAsker: d.Asker, Engine: d.Engine},
		Logger: d.Log,
	}
	if d.Store != nil {
		deps.Feedback = d.Store
		deps.Asker = discordAsker{StreamAsker: d.Asker, Engine: d.Engine, explained: questionLog{ql: d.Store, log: d.Log}}
	}
	if d.Digests != nil {
		deps.Digests = d.Digests
	}
	return discord.New(discord.Config{
		BotToken:  c.DiscordBotToken,
		PublicKey: c.DiscordPublicKey,
		AppID:     c.DiscordAppID,
		APIURL:    c.DiscordAPIURL,
	}, deps)
}

// discordAsker answers through the counted asker; autocomplete, topics and
// /about read the knowledge base being served. /explain topics go to the
// question log when explained is set.
type discordAsker struct {
	metrics.StreamAsker
	*live.Engine
	explained questionLog
}

func (a discordAsker) Explain(ctx context.Context, topic string) (bot.Answer, error) {
	ans, err := a.Engine.Explain(ctx, topic)
	if err == nil && a.explained.ql != nil {
		a.explained.record(ctx, bot.Question{Text: topic, Platform: bot.PlatformDiscord}, ans)
	}
	return ans, err
}

func (a discordAsker) Ask(ctx context.Context, q bot.Question) (bot.Answer, error) {
	return a.StreamAsker.Ask(ctx, q)
}

func (a discordAsker) AskStream(ctx context.Context, q bot.Question, partial func(string)) (bot.Answer, error) {
	return a.StreamAsker.AskStream(ctx, q, partial)
}

const discordUsage = `Usage: explainer discord register [--guild ID | --global] [--env-file FILE]

  register   register the slash commands (/ask, /explain, /about, /digest) with Discord`

// runDiscord runs the Discord helper commands: for now, registering the
// slash commands.
func runDiscord(ctx context.Context, c cli) error {
	if len(c.args) == 0 || c.args[0] != "register" {
		if len(c.args) > 0 && (c.args[0] == "-h" || c.args[0] == "--help" || c.args[0] == "help") {
			fmt.Fprintln(c.stdout, discordUsage)
			return nil
		}
		return usagef("want a subcommand\n\n%s", discordUsage)
	}
	fs := newFlagSet("discord register", `discord register [--guild ID | --global] [--env-file FILE]

Registers the bot's slash commands, replacing whatever the application had:
in one server (guild) with --guild or DISCORD_GUILD_ID, where they appear at
once, else globally. Needs DISCORD_BOT_TOKEN and DISCORD_APP_ID.`, c.stderr)
	guild := fs.String("guild", "", "register in this server `ID` only (default DISCORD_GUILD_ID)")
	global := fs.Bool("global", false, "register globally even when DISCORD_GUILD_ID is set")
	var set settingsFlags
	set.register(fs)
	if err := parseOnlyFlags(fs, c.args[1:]); err != nil {
		return err
	}
	if *global && *guild != "" {
		return usagef("--guild and --global exclude each other")
	}
	environ, _, err := set.read(c)
	if err != nil {
		return err
	}
	cfg, err := loadSettings(environ)
	if err != nil {
		return err
	}
	if cfg.DiscordBotToken == "" {
		return errors.New("DISCORD_BOT_TOKEN is not set: copy the bot's token from the Developer Portal (Bot -> Reset Token)")
	}
	target := *guild
	if target == "" && !*global {
		target = cfg.DiscordGuildID
	}
	if target != "" && strings.Trim(target, "0123456789") != "" {
		return usagef("--guild %q: want a numeric server id (Developer Mode -> right-click the server -> Copy Server ID)", target)
	}

	cmds, err := discord.RegisterCommands(ctx, discord.Config{
		BotToken: cfg.DiscordBotToken,
		AppID:    cfg.DiscordAppID,
		APIURL:   cfg.DiscordAPIURL,
	}, target, discord.Commands(), newLogger(cfg, c.stderr))
	if err != nil {
		return err
	}
	var b strings.Builder
	if target != "" {
		fmt.Fprintf(&b, "Registered %d commands in server %s (they appear at once):\n", len(cmds), target)
	} else {
		fmt.Fprintf(&b, "Registered %d commands globally (Discord may take a few minutes to show them everywhere):\n", len(cmds))
	}
	for _, cmd := range cmds {
		usage := "/" + cmd.Name
		var subs []string
		for _, o := range cmd.Options {
			if o.Type == discordgo.ApplicationCommandOptionSubCommand {
				subs = append(subs, o.Name)
				continue
			}
			usage += " " + o.Name + ":"
		}
		if len(subs) > 0 {
			usage += " " + strings.Join(subs, "|")
		}
		fmt.Fprintf(&b, "  %-20s %s", usage, cmd.Description)
		if cmd.ID != "" {
			fmt.Fprintf(&b, "  (id %s)", cmd.ID)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nInvite the bot to a server with:\n  %s\n", discord.InviteURL(cfg.DiscordAppID))
	_, err = fmt.Fprint(c.stdout, b.String())
	return err
}
