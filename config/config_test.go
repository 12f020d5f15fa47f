package config

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.LLMTimeout != 8*time.Second || c.TZ != "UTC" || c.DBPath != "explainer.db" {
		t.Errorf("defaults: %+v", c)
	}
	if c.SlackEnabled() || c.DiscordEnabled() || c.LLMEnabled() {
		t.Error("no platform should be on without settings")
	}
}

func TestEveryProblemNamesItsVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // variables that must be named
	}{
		{"bad duration", map[string]string{"LLM_TIMEOUT": "soon"}, []string{"LLM_TIMEOUT"}},
		{"bad number", map[string]string{"EXPLAINER_RATE_LIMIT": "lots"}, []string{"EXPLAINER_RATE_LIMIT"}},
		{"bad bool", map[string]string{"EXPLAINER_LOG_USERS": "maybe"}, []string{"EXPLAINER_LOG_USERS"}},
		{"bad zone", map[string]string{"EXPLAINER_TZ": "Mars/Olympus"}, []string{"EXPLAINER_TZ"}},
		{"slack without bot token", map[string]string{"SLACK_APP_TOKEN": "xapp-1"}, []string{"SLACK_BOT_TOKEN"}},
		{"slack wrong token kinds", map[string]string{"SLACK_BOT_TOKEN": "xapp-1", "SLACK_APP_TOKEN": "xoxb-1"}, []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"}},
		{"slack no mode", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, []string{"SLACK_APP_TOKEN or SLACK_SIGNING_SECRET"}},
		{"discord key", map[string]string{"DISCORD_PUBLIC_KEY": "abc", "DISCORD_APP_ID": "1"}, []string{"DISCORD_PUBLIC_KEY"}},
		{"discord app id", map[string]string{"DISCORD_BOT_TOKEN": "t"}, []string{"DISCORD_APP_ID"}},
		{"llm half set", map[string]string{"LLM_MODEL": "m"}, []string{"LLM_BASE_URL"}},
		{"llm bad url", map[string]string{"LLM_BASE_URL": "localhost:11434", "LLM_MODEL": "m"}, []string{"LLM_BASE_URL"}},
		{"several at once", map[string]string{"LOG_FORMAT": "xml", "LOG_LEVEL": "loud", "EXPLAINER_RATE_BURST": "0"},
			[]string{"LOG_FORMAT", "LOG_LEVEL", "EXPLAINER_RATE_BURST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.env)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, v := range tt.want {
				if !strings.Contains(err.Error(), v+":") {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
		})
	}
}

func TestErrorsNeverEchoSecrets(t *testing.T) {
	_, err := Load(map[string]string{"SLACK_BOT_TOKEN": "xapp-supersecret-value", "SLACK_SIGNING_SECRET": "s3cr3t"})
	if err == nil {
		t.Fatal("want an error for the wrong token kind")
	}
	if strings.Contains(err.Error(), "supersecret") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error echoes a secret: %v", err)
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	c, err := Load(map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-secret-1", "SLACK_SIGNING_SECRET": "sig-secret-2",
		"LLM_BASE_URL": "http://localhost:11434/v1", "LLM_MODEL": "llama3.1", "LLM_API_KEY": "sk-secret-3",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	for k, v := range r {
		if strings.Contains(v, "secret") {
			t.Errorf("%s=%q leaks a secret", k, v)
		}
	}
	if r["SLACK_BOT_TOKEN"] != "[set]" || r["OPENAI_API_KEY"] != "" || r["LLM_MODEL"] != "llama3.1" {
		t.Errorf("redacted: %v", r)
	}
}

func TestLLMKeyFallsBackToOpenAI(t *testing.T) {
	c, _ := Load(map[string]string{"OPENAI_API_KEY": "k2"})
	if c.LLMKey() != "k2" {
		t.Errorf("LLMKey = %q", c.LLMKey())
	}
	c, _ = Load(map[string]string{"OPENAI_API_KEY": "k2", "LLM_API_KEY": "k1"})
	if c.LLMKey() != "k1" {
		t.Errorf("LLMKey = %q", c.LLMKey())
	}
}

// Every setting is documented in .env.example with a comment above it.
func TestEnvExampleListsEverySetting(t *testing.T) {
	f, err := os.Open("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	documented := make(map[string]bool)
	var prev string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			if !strings.HasPrefix(prev, "#") {
				t.Errorf(".env.example: %s has no comment above it", name)
			}
			documented[name] = true
		}
		prev = line
	}
	for _, v := range Variables() {
		if !documented[v] {
			t.Errorf(".env.example does not list %s", v)
		}
	}
	for v := range documented {
		found := false
		for _, w := range Variables() {
			found = found || w == v
		}
		if !found {
			t.Errorf(".env.example lists %s, which no setting reads", v)
		}
	}
}
