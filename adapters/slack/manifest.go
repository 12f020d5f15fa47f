package slack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/goccy/go-yaml"
)

// botScopes are the bot token scopes the adapter's features need, and no more.
var botScopes = []string{
	"app_mentions:read", // mentions in channels
	"channels:history",  // replies in the bot's threads, and finding a digest already posted, public channels
	"chat:write",        // answers
	"commands",          // /explain
	"groups:history",    // the same, private channels
	"im:history",        // direct messages, and digests subscribed in them
}

// botEvents are the events the adapter answers.
var botEvents = []string{
	"app_mention",      // a mention in a channel
	"message.channels", // replies in threads, public channels
	"message.groups",   // replies in threads, private channels
	"message.im",       // direct messages
}

// AppManifest is a Slack app manifest: everything Slack needs to create
// the app. It marshals to the YAML or JSON that "Create an app from a
// manifest" accepts.
type AppManifest struct {
	Display     manifestDisplay  `json:"display_information" yaml:"display_information"`
	Features    manifestFeatures `json:"features" yaml:"features"`
	OAuthConfig manifestOAuth    `json:"oauth_config" yaml:"oauth_config"`
	Settings    manifestSettings `json:"settings" yaml:"settings"`
}

type manifestDisplay struct {
	Name            string `json:"name" yaml:"name"`
	Description     string `json:"description" yaml:"description"`
	BackgroundColor string `json:"background_color" yaml:"background_color"`
}

type manifestFeatures struct {
	AppHome       manifestAppHome   `json:"app_home" yaml:"app_home"`
	BotUser       manifestBotUser   `json:"bot_user" yaml:"bot_user"`
	SlashCommands []manifestCommand `json:"slash_commands" yaml:"slash_commands"`
}

type manifestAppHome struct {
	HomeTabEnabled             bool `json:"home_tab_enabled" yaml:"home_tab_enabled"`
	MessagesTabEnabled         bool `json:"messages_tab_enabled" yaml:"messages_tab_enabled"`
	MessagesTabReadOnlyEnabled bool `json:"messages_tab_read_only_enabled" yaml:"messages_tab_read_only_enabled"`
}

type manifestBotUser struct {
	DisplayName  string `json:"display_name" yaml:"display_name"`
	AlwaysOnline bool   `json:"always_online" yaml:"always_online"`
}

type manifestCommand struct {
	Command      string `json:"command" yaml:"command"`
	URL          string `json:"url,omitempty" yaml:"url,omitempty"`
	Description  string `json:"description" yaml:"description"`
	UsageHint    string `json:"usage_hint" yaml:"usage_hint"`
	ShouldEscape bool   `json:"should_escape" yaml:"should_escape"`
}

type manifestOAuth struct {
	Scopes struct {
		Bot []string `json:"bot" yaml:"bot"`
	} `json:"scopes" yaml:"scopes"`
}

type manifestSettings struct {
	EventSubscriptions   manifestEvents        `json:"event_subscriptions" yaml:"event_subscriptions"`
	Interactivity        manifestInteractivity `json:"interactivity" yaml:"interactivity"`
	OrgDeployEnabled     bool                  `json:"org_deploy_enabled" yaml:"org_deploy_enabled"`
	SocketModeEnabled    bool                  `json:"socket_mode_enabled" yaml:"socket_mode_enabled"`
	TokenRotationEnabled bool                  `json:"token_rotation_enabled" yaml:"token_rotation_enabled"`
}

type manifestEvents struct {
	RequestURL string   `json:"request_url,omitempty" yaml:"request_url,omitempty"`
	BotEvents  []string `json:"bot_events" yaml:"bot_events"`
}

type manifestInteractivity struct {
	IsEnabled  bool   `json:"is_enabled" yaml:"is_enabled"`
	RequestURL string `json:"request_url,omitempty" yaml:"request_url,omitempty"`
}

// ManifestOptions choose the app's name and how Slack reaches it.
type ManifestOptions struct {
	Name    string // app and bot name; default "explainer"
	Command string // default "/explain"
	// HTTPBase is the public https URL of `explainer serve` for HTTP mode
	// ("https://bot.example.com"); empty for Socket Mode.
	HTTPBase string
}

// Manifest returns the app manifest for the adapter's features: Socket
// Mode, or the HTTP endpoints under o.HTTPBase.
func Manifest(o ManifestOptions) (AppManifest, error) {
	if o.Name == "" {
		o.Name = "explainer"
	}
	if o.Command == "" {
		o.Command = "/explain"
	}
	if len(o.Name) > 35 {
		return AppManifest{}, fmt.Errorf("app name %q: at most 35 characters", o.Name)
	}
	if !strings.HasPrefix(o.Command, "/") || strings.ContainsAny(o.Command, " \t") || len(o.Command) > 32 {
		return AppManifest{}, fmt.Errorf("command %q: want /name, at most 32 characters", o.Command)
	}
	var m AppManifest
	m.Display = manifestDisplay{
		Name:            o.Name,
		Description:     "Explains one news story from a curated knowledge base, with its sources.",
		BackgroundColor: "#1d3557",
	}
	m.Features.AppHome = manifestAppHome{MessagesTabEnabled: true}
	m.Features.BotUser = manifestBotUser{DisplayName: strings.ToLower(o.Name), AlwaysOnline: true}
	m.Features.SlashCommands = []manifestCommand{{
		Command:     o.Command,
		Description: "Ask about the story (only you see the answer), or set up the daily digest",
		UsageHint:   "[question] | help | digest subscribe [HH:MM] [Time/Zone] | digest unsubscribe | digest now | digest list",
	}}
	m.OAuthConfig.Scopes.Bot = append([]string(nil), botScopes...)
	m.Settings.EventSubscriptions.BotEvents = append([]string(nil), botEvents...)
	m.Settings.Interactivity.IsEnabled = true
	if o.HTTPBase == "" {
		m.Settings.SocketModeEnabled = true
		return m, nil
	}
	u, err := url.Parse(o.HTTPBase)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return AppManifest{}, fmt.Errorf("--http %q: want the public https URL of the server, such as https://bot.example.com", o.HTTPBase)
	}
	base := strings.TrimSuffix(u.String(), "/")
	m.Features.SlashCommands[0].URL = base + "/slack/commands"
	m.Settings.EventSubscriptions.RequestURL = base + "/slack/events"
	m.Settings.Interactivity.RequestURL = base + "/slack/interactivity"
	return m, nil
}

// YAML renders the manifest as YAML.
func (m AppManifest) YAML() ([]byte, error) {
	b, err := yaml.MarshalWithOptions(m, yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return b, nil
}

// JSON renders the manifest as indented JSON.
func (m AppManifest) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return append(b, '\n'), nil
}
