package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/bot"
)

// Commands are the application commands the bot serves. Registering
// overwrites the application's commands with exactly these, so a command
// added later (a digest subscription, say) joins this list.
func Commands() []*discordgo.ApplicationCommand {
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	minLen := 1
	return []*discordgo.ApplicationCommand{
		{
			Name:        cmdAsk,
			Type:        discordgo.ChatApplicationCommand,
			Description: "Ask a question about the story; I answer from my sources",
			Contexts:    &contexts,
			Options: []*discordgo.ApplicationCommandOption{{
				Type:         discordgo.ApplicationCommandOptionString,
				Name:         optQuestion,
				Description:  "Your question (suggestions appear as you type)",
				Required:     true,
				Autocomplete: true,
				MinLength:    &minLen,
				MaxLength:    bot.MaxQuestionRunes,
			}},
		},
		{
			Name:        cmdExplain,
			Type:        discordgo.ChatApplicationCommand,
			Description: "Explain a term, chip, company or person from the story",
			Contexts:    &contexts,
			Options: []*discordgo.ApplicationCommandOption{{
				Type:         discordgo.ApplicationCommandOptionString,
				Name:         optTopic,
				Description:  "What to explain, e.g. H800, CUDA, Jevons paradox",
				Required:     true,
				Autocomplete: true,
				MinLength:    &minLen,
				MaxLength:    maxChoiceText,
			}},
		},
		{
			Name:        cmdAbout,
			Type:        discordgo.ChatApplicationCommand,
			Description: "What I know, my sources and questions to try",
			Contexts:    &contexts,
			Options:     []*discordgo.ApplicationCommandOption{},
		},
		digestCommand(),
	}
}

// RegisterCommands overwrites the application's commands with cmds, in
// one guild (they appear at once) or, with no guild, globally. It returns
// the commands as Discord registered them.
func RegisterCommands(ctx context.Context, cfg Config, guildID string, cmds []*discordgo.ApplicationCommand, log *slog.Logger) ([]*discordgo.ApplicationCommand, error) {
	if cfg.BotToken == "" {
		return nil, errNoBot
	}
	if cfg.AppID == "" {
		return nil, errors.New("discord: no application id (DISCORD_APP_ID)")
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	r, err := newREST(cfg, log)
	if err != nil {
		return nil, err
	}
	endpoint := discordgo.EndpointApplicationGlobalCommands(cfg.AppID)
	if guildID != "" {
		endpoint = discordgo.EndpointApplicationGuildCommands(cfg.AppID, guildID)
	}
	body, err := r.do(ctx, r.bot, http.MethodPut, endpoint, cmds)
	if err != nil {
		return nil, fmt.Errorf("register commands: %w", err)
	}
	var out []*discordgo.ApplicationCommand
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("register commands: read Discord's reply: %w", err)
	}
	return out, nil
}

// Permissions are what the bot needs in a channel: see it, send and reply
// in channels and threads (a reply needs the channel's history), embed.
const Permissions = discordgo.PermissionViewChannel |
	discordgo.PermissionSendMessages |
	discordgo.PermissionSendMessagesInThreads |
	discordgo.PermissionEmbedLinks |
	discordgo.PermissionReadMessageHistory

// InviteURL is the link that adds the application to a server, with the
// bot user and its slash commands and the permissions it needs.
func InviteURL(appID string) string {
	q := url.Values{}
	q.Set("client_id", appID)
	q.Set("scope", "bot applications.commands")
	q.Set("permissions", strconv.FormatInt(Permissions, 10))
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}
