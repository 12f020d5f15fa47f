package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// rest makes Discord REST calls through discordgo sessions, retrying rate
// limited calls a bounded number of times.
//
// discordgo's own rate limiter still runs (it waits when a bucket it has
// seen is exhausted), but its retry on 429 is off: that retry sleeps
// without a context and without a bound. Here a 429 is waited out for its
// retry_after (or until the context ends) and retried at most retries
// times. The 429 response's X-RateLimit headers move the bucket's reset
// to about the same moment, so discordgo's limiter adds no second wait.
type rest struct {
	// bot calls as the bot (channel messages, commands, the gateway URL).
	bot *discordgo.Session
	// hooks calls the interaction endpoints, which take the interaction's
	// token instead of the bot's and are exempt from the global rate limit:
	// it has its own limiter, so a global limit hit by bot calls never
	// delays an interaction response.
	hooks   *discordgo.Session
	retries int
	log     *slog.Logger
}

// errNoBot is returned by calls that need the bot token when none is set.
var errNoBot = errors.New("discord: no bot token (DISCORD_BOT_TOKEN)")

// newSession returns a discordgo session that makes REST calls with client,
// logs nothing itself (the adapter logs through slog), and leaves 429
// retries and reconnects to the adapter.
func newSession(token string, client *http.Client) (*discordgo.Session, error) {
	s, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("discord session: %w", err)
	}
	s.Client = client
	s.ShouldRetryOnRateLimit = false
	s.ShouldReconnectOnError = false
	s.StateEnabled = false
	s.LogLevel = discordgo.LogError - 1 // silent
	return s, nil
}

// botToken returns the Authorization value for a bot token.
func botToken(token string) string {
	if token == "" || strings.HasPrefix(token, "Bot ") {
		return token
	}
	return "Bot " + token
}

// do makes one REST call with s, retrying on 429. The response body is
// returned as is.
func (r *rest) do(ctx context.Context, s *discordgo.Session, method, endpoint string, body any) ([]byte, error) {
	if s == nil {
		return nil, errNoBot
	}
	route := routeOf(endpoint)
	for attempt := 0; ; attempt++ {
		resp, err := s.RequestWithBucketID(method, endpoint, body, bucketOf(endpoint), discordgo.WithContext(ctx))
		var rl *discordgo.RateLimitError
		if !errors.As(err, &rl) {
			if err != nil {
				return resp, fmt.Errorf("discord %s %s: %w", method, route, redact(err, route))
			}
			return resp, nil
		}
		wait := rl.RetryAfter
		limited := &RateLimitedError{Route: route, RetryAfter: wait}
		if attempt >= r.retries {
			return nil, fmt.Errorf("discord %s %s: still rate limited after %d retries: %w", method, route, r.retries, limited)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, fmt.Errorf("discord %s %s: rate limited past the deadline: %w", method, route, limited)
		}
		r.log.Info("discord rate limited; retrying", "method", method, "route", route, "retry_after", wait, "attempt", attempt+1)
		if !sleep(ctx, wait) {
			return nil, fmt.Errorf("discord %s %s: %w", method, route, ctx.Err())
		}
	}
}

// RateLimitedError is a REST call Discord kept refusing with 429.
type RateLimitedError struct {
	Route      string // the endpoint, tokens removed
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return "rate limited on " + e.Route + ", retry after " + e.RetryAfter.String()
}

// redact keeps interaction and webhook tokens out of an error's text: an
// HTTP client error names the full URL.
func redact(err error, route string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		c := *ue
		c.URL = route
		return &c
	}
	return err
}

// tokenPath matches the secret part of interaction and webhook paths.
var tokenPath = regexp.MustCompile(`/(interactions|webhooks)/([^/]+)/[^/]+`)

// routeOf is an endpoint for logs and errors: no host, no tokens.
func routeOf(endpoint string) string {
	p := endpoint
	if u, err := url.Parse(endpoint); err == nil {
		p = u.Path
	}
	return tokenPath.ReplaceAllString(p, "/$1/$2/:token")
}

// bucketOf is the rate limit bucket key of an endpoint: the URL itself, as
// discordgo keys it, so that each channel, and each interaction token, has
// its own bucket.
func bucketOf(endpoint string) string { return strings.SplitN(endpoint, "?", 2)[0] }

// callback is an interaction response.
type callback struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data any                               `json:"data,omitempty"`
}

// choicesData is the data of an autocomplete response.
type choicesData struct {
	Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
}

func (r *rest) respond(ctx context.Context, i *discordgo.Interaction, cb callback) error {
	_, err := r.do(ctx, r.hooks, http.MethodPost, discordgo.EndpointInteractionResponse(i.ID, i.Token), cb)
	return err
}

func (r *rest) editOriginal(ctx context.Context, i *discordgo.Interaction, m message) error {
	_, err := r.do(ctx, r.hooks, http.MethodPatch, discordgo.EndpointInteractionResponseActions(i.AppID, i.Token), m)
	return err
}

func (r *rest) followup(ctx context.Context, i *discordgo.Interaction, m message) error {
	_, err := r.do(ctx, r.hooks, http.MethodPost, discordgo.EndpointFollowupMessage(i.AppID, i.Token), m)
	return err
}

func (r *rest) send(ctx context.Context, channelID string, m message) error {
	_, err := r.do(ctx, r.bot, http.MethodPost, discordgo.EndpointChannelMessages(channelID), m)
	return err
}

// redirect is an http.RoundTripper that sends Discord API requests
// (https://discord.com/api/vN/...) to another base URL, keeping the rest
// of the path: discordgo builds its endpoints from package variables, so
// the redirect happens here rather than there.
type redirect struct {
	base *url.URL
	next http.RoundTripper
}

var apiPath = regexp.MustCompile(`^/api/v\d+(/|$)`)

func newRedirect(base string, next http.RoundTripper) (*redirect, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("discord API URL %q: want an http:// or https:// URL", base)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &redirect{base: u, next: next}, nil
}

func (t *redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	path := req.URL.EscapedPath()
	loc := apiPath.FindStringIndex(path)
	if req.URL.Host != "discord.com" || loc == nil {
		return t.next.RoundTrip(req)
	}
	rest := path[loc[1]:]
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	escaped := strings.TrimSuffix(t.base.EscapedPath(), "/") + rest
	unescaped, err := url.PathUnescape(escaped)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("discord API URL: %w", err)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = t.base.Scheme
	out.URL.Host = t.base.Host
	out.URL.Path = unescaped
	out.URL.RawPath = escaped
	out.Host = t.base.Host
	return t.next.RoundTrip(out)
}
