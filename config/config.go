// Package config holds every setting of the explainer, parsed from an
// environment given to it (cmd reads the process environment and .env), and
// checked all at once so that every problem names its variable.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is every setting. Each field's env tag names its variable; the
// secret tag marks values never to print.
type Config struct {
	// Core
	KBDir string `env:"EXPLAINER_KB"`
	Addr  string `env:"EXPLAINER_ADDR" envDefault:":8080"`

	LogFormat string `env:"LOG_FORMAT" envDefault:"text"`
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`

	// HTTP operations
	RateLimit       float64       `env:"EXPLAINER_RATE_LIMIT" envDefault:"5"` // requests a second per client; 0 turns limiting off
	RateBurst       int           `env:"EXPLAINER_RATE_BURST" envDefault:"20"`
	ShutdownTimeout time.Duration `env:"EXPLAINER_SHUTDOWN_TIMEOUT" envDefault:"20s"`
	WatchKB         bool          `env:"EXPLAINER_WATCH_KB" envDefault:"true"` // reload when files under EXPLAINER_KB change

	// Store and digests
	DBPath           string        `env:"EXPLAINER_DB" envDefault:"explainer.db"`
	TZ               string        `env:"EXPLAINER_TZ" envDefault:"UTC"`
	LogUsers         bool          `env:"EXPLAINER_LOG_USERS" envDefault:"false"`
	CuratorChannel   string        `env:"EXPLAINER_CURATOR_CHANNEL"` // platform:channel, e.g. slack:C0123
	DigestCatchUp    time.Duration `env:"EXPLAINER_DIGEST_CATCHUP" envDefault:"3h"`
	DigestMaxRetries int           `env:"EXPLAINER_DIGEST_MAX_FAILURES" envDefault:"3"` // failed days before a subscription pauses

	// Slack
	SlackBotToken      string   `env:"SLACK_BOT_TOKEN" secret:"true"`
	SlackAppToken      string   `env:"SLACK_APP_TOKEN" secret:"true"`
	SlackSigningSecret string   `env:"SLACK_SIGNING_SECRET" secret:"true"`
	SlackAPIURL        string   `env:"SLACK_API_URL"`
	SlackAdminUsers    []string `env:"SLACK_ADMIN_USERS" envSeparator:","`

	// Discord
	DiscordBotToken  string `env:"DISCORD_BOT_TOKEN" secret:"true"`
	DiscordPublicKey string `env:"DISCORD_PUBLIC_KEY"`
	DiscordAppID     string `env:"DISCORD_APP_ID"`
	DiscordAPIURL    string `env:"DISCORD_API_URL"`
	DiscordGuildID   string `env:"DISCORD_GUILD_ID"`

	// LLM summarizer (optional)
	LLMBaseURL   string        `env:"LLM_BASE_URL"`
	LLMAPIKey    string        `env:"LLM_API_KEY" secret:"true"`
	OpenAIAPIKey string        `env:"OPENAI_API_KEY" secret:"true"`
	LLMModel     string        `env:"LLM_MODEL"`
	LLMTimeout   time.Duration `env:"LLM_TIMEOUT" envDefault:"8s"`
	LLMCacheTTL  time.Duration `env:"LLM_CACHE_TTL" envDefault:"24h"`
	LLMCacheSize int           `env:"LLM_CACHE_SIZE" envDefault:"1000"`
}

// SlackEnabled reports whether any Slack connection is configured.
func (c Config) SlackEnabled() bool {
	return c.SlackBotToken != "" || c.SlackAppToken != "" || c.SlackSigningSecret != ""
}

// DiscordEnabled reports whether any Discord connection is configured.
func (c Config) DiscordEnabled() bool {
	return c.DiscordBotToken != "" || c.DiscordPublicKey != ""
}

// LLMEnabled reports whether the LLM summarizer is configured.
func (c Config) LLMEnabled() bool { return c.LLMBaseURL != "" || c.LLMModel != "" }

// LLMKey is the API key for the LLM: LLM_API_KEY, else OPENAI_API_KEY. It
// may be empty for local servers.
func (c Config) LLMKey() string {
	if c.LLMAPIKey != "" {
		return c.LLMAPIKey
	}
	return c.OpenAIAPIKey
}

// Location is the time zone of EXPLAINER_TZ.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Error lists every problem with the settings, each naming its variable.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "settings: " + strings.Join(e.Problems, "; ")
}

// Load parses and checks the settings in environ (variable -> value).
func Load(environ map[string]string) (Config, error) {
	var c Config
	var problems []string
	err := env.ParseWithOptions(&c, env.Options{Environment: environ})
	if err != nil {
		var agg env.AggregateError
		if errors.As(err, &agg) {
			for _, e := range agg.Errors {
				problems = append(problems, describe(e))
			}
		} else {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// describe rewords a parse error to name the variable, not the Go field.
func describe(err error) string {
	var pe env.ParseError
	if errors.As(err, &pe) {
		if f, ok := reflect.TypeFor[Config]().FieldByName(pe.Name); ok {
			return fmt.Sprintf("%s: %v", f.Tag.Get("env"), unwrapParse(pe.Err))
		}
	}
	return err.Error()
}

func unwrapParse(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "strconv.") {
		return "not a valid value (" + msg[i+2:] + ")"
	}
	return msg
}

var hhmm = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

func (c Config) validate() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	if !slices.Contains([]string{"text", "json"}, c.LogFormat) {
		add("LOG_FORMAT: %q is not text or json", c.LogFormat)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(c.LogLevel)) {
		add("LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.RateLimit < 0 {
		add("EXPLAINER_RATE_LIMIT: must be 0 (off) or more")
	}
	if c.RateBurst < 1 {
		add("EXPLAINER_RATE_BURST: must be at least 1")
	}
	if c.ShutdownTimeout <= 0 {
		add("EXPLAINER_SHUTDOWN_TIMEOUT: must be positive")
	}
	if _, err := time.LoadLocation(c.TZ); err != nil {
		add("EXPLAINER_TZ: %q is not a known time zone (try Europe/Berlin or UTC)", c.TZ)
	}
	if c.DigestCatchUp < 0 {
		add("EXPLAINER_DIGEST_CATCHUP: must not be negative")
	}
	if c.DigestMaxRetries < 1 {
		add("EXPLAINER_DIGEST_MAX_FAILURES: must be at least 1")
	}
	if c.CuratorChannel != "" {
		platform, channel, ok := strings.Cut(c.CuratorChannel, ":")
		if !ok || channel == "" || (platform != "slack" && platform != "discord") {
			add("EXPLAINER_CURATOR_CHANNEL: want slack:CHANNEL_ID or discord:CHANNEL_ID")
		}
	}

	// Slack: the bot token is needed for either connection mode.
	if c.SlackEnabled() {
		if c.SlackBotToken == "" {
			add("SLACK_BOT_TOKEN: needed when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set")
		} else if !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
			add("SLACK_BOT_TOKEN: a bot token starts with xoxb-")
		}
		if c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-") {
			add("SLACK_APP_TOKEN: an app-level token starts with xapp-")
		}
		if c.SlackAppToken == "" && c.SlackSigningSecret == "" {
			add("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET: set one (Socket Mode or HTTP events)")
		}
	}
	checkURL(&p, "SLACK_API_URL", c.SlackAPIURL)

	// Discord
	if c.DiscordPublicKey != "" && !isHexLen(c.DiscordPublicKey, 64) {
		add("DISCORD_PUBLIC_KEY: want the application's public key, 64 hex characters")
	}
	if c.DiscordEnabled() && c.DiscordAppID == "" {
		add("DISCORD_APP_ID: needed when DISCORD_BOT_TOKEN or DISCORD_PUBLIC_KEY is set")
	}
	if c.DiscordAppID != "" && !isDigits(c.DiscordAppID) {
		add("DISCORD_APP_ID: want the numeric application id")
	}
	if c.DiscordGuildID != "" && !isDigits(c.DiscordGuildID) {
		add("DISCORD_GUILD_ID: want a numeric server (guild) id")
	}
	checkURL(&p, "DISCORD_API_URL", c.DiscordAPIURL)

	// LLM
	if c.LLMEnabled() {
		if c.LLMBaseURL == "" {
			add("LLM_BASE_URL: needed when LLM_MODEL is set (for OpenAI: https://api.openai.com/v1)")
		}
		if c.LLMModel == "" {
			add("LLM_MODEL: needed when LLM_BASE_URL is set (for example gpt-4o-mini or llama3.1)")
		}
	}
	checkURL(&p, "LLM_BASE_URL", c.LLMBaseURL)
	if c.LLMTimeout <= 0 {
		add("LLM_TIMEOUT: must be positive")
	}
	if c.LLMCacheSize < 0 {
		add("LLM_CACHE_SIZE: must not be negative")
	}
	return p
}

func checkURL(p *[]string, name, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*p = append(*p, fmt.Sprintf("%s: want an http:// or https:// URL", name))
	}
}

func isHexLen(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ValidHHMM reports whether s is a time of day like 09:00.
func ValidHHMM(s string) bool { return hhmm.MatchString(s) }

// Redacted returns every setting as variable -> value for logging, with
// secrets replaced by "[set]" or "" and nothing else changed.
func (c Config) Redacted() map[string]string {
	out := make(map[string]string)
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("env")
		if name == "" {
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		if f.Tag.Get("secret") == "true" {
			if v.Field(i).String() != "" {
				val = "[set]"
			}
		}
		if f.Type.Kind() == reflect.Slice {
			val = strings.Join(v.Field(i).Interface().([]string), ",")
		}
		out[name] = val
	}
	return out
}

// Variables lists every setting's variable name, in declaration order.
func Variables() []string {
	var out []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("env"); name != "" {
			out = append(out, name)
		}
	}
	return out
}
