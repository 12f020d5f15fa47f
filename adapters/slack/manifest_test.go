package slack

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestManifestSocketMode(t *testing.T) {
	m, err := Manifest(ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Settings.SocketModeEnabled || m.Settings.EventSubscriptions.RequestURL != "" || m.Settings.Interactivity.RequestURL != "" || m.Features.SlashCommands[0].URL != "" {
		t.Errorf("socket mode manifest has HTTP settings: %+v", m.Settings)
	}
	wantScopes := []string{"app_mentions:read", "channels:history", "chat:write", "commands", "groups:history", "im:history"}
	if !slices.Equal(m.OAuthConfig.Scopes.Bot, wantScopes) {
		t.Errorf("scopes %v, want %v", m.OAuthConfig.Scopes.Bot, wantScopes)
	}
	wantEvents := []string{"app_mention", "message.channels", "message.groups", "message.im"}
	if !slices.Equal(m.Settings.EventSubscriptions.BotEvents, wantEvents) {
		t.Errorf("events %v, want %v", m.Settings.EventSubscriptions.BotEvents, wantEvents)
	}
	if c := m.Features.SlashCommands; len(c) != 1 || c[0].Command != "/explain" {
		t.Errorf("commands %+v", c)
	}
	if !m.Settings.Interactivity.IsEnabled || !m.Features.AppHome.MessagesTabEnabled || m.Features.AppHome.MessagesTabReadOnlyEnabled {
		t.Error("buttons or direct messages are not enabled")
	}
}

func TestManifestHTTP(t *testing.T) {
	m, err := Manifest(ManifestOptions{HTTPBase: "https://bot.example.com/", Name: "News Explainer"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Settings.SocketModeEnabled {
		t.Error("HTTP manifest enables Socket Mode")
	}
	for got, want := range map[string]string{
		m.Settings.EventSubscriptions.RequestURL: "https://bot.example.com/slack/events",
		m.Settings.Interactivity.RequestURL:      "https://bot.example.com/slack/interactivity",
		m.Features.SlashCommands[0].URL:          "https://bot.example.com/slack/commands",
	} {
		if got != want {
			t.Errorf("URL %q, want %q", got, want)
		}
	}
	if m.Display.Name != "News Explainer" || m.Features.BotUser.DisplayName != "news explainer" {
		t.Errorf("names %q %q", m.Display.Name, m.Features.BotUser.DisplayName)
	}
	// Both encodings read back to the same manifest.
	y, err := m.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var fromYAML AppManifest
	if err := yaml.Unmarshal(y, &fromYAML); err != nil {
		t.Fatalf("YAML: %v\n%s", err, y)
	}
	j, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON AppManifest
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromYAML)
	b, _ := json.Marshal(fromJSON)
	c, _ := json.Marshal(m)
	if string(a) != string(c) || string(b) != string(c) {
		t.Errorf("round trip differs:\nYAML %s\nJSON %s\nwant %s", a, b, c)
	}
	if !strings.HasPrefix(string(y), "display_information:") {
		t.Errorf("YAML starts %q", string(y)[:30])
	}
}

func TestManifestRefusesBadInput(t *testing.T) {
	for _, o := range []ManifestOptions{
		{HTTPBase: "http://bot.example.com"},
		{HTTPBase: "bot.example.com"},
		{HTTPBase: "https://"},
		{HTTPBase: "https://bot.example.com/?x=1"},
		{Name: strings.Repeat("x", 36)},
		{Command: "explain"},
		{Command: "/ex plain"},
	} {
		if _, err := Manifest(o); err == nil {
			t.Errorf("Manifest(%+v) accepted", o)
		}
	}
}
