package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
)

// postMessages posts messages in order to a channel, in a thread when
// thread is set, and returns the first one's timestamp.
func (a *Adapter) postMessages(ctx context.Context, channel, thread string, msgs []Message) (string, error) {
	first := ""
	for _, m := range msgs {
		opts := []slackapi.MsgOption{
			slackapi.MsgOptionText(m.Text, true),
			slackapi.MsgOptionDisableLinkUnfurl(),
		}
		if len(m.Blocks) > 0 {
			opts = append(opts, slackapi.MsgOptionBlocks(m.Blocks...))
		}
		if thread != "" {
			opts = append(opts, slackapi.MsgOptionTS(thread))
		}
		var ts string
		err := a.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
			var err error
			_, ts, err = a.api.PostMessageContext(ctx, channel, opts...)
			return err
		})
		if err != nil {
			return first, fmt.Errorf("chat.postMessage: %w", err)
		}
		if first == "" {
			first = ts
		}
	}
	return first, nil
}

// postEphemeral shows a message to one person in a channel.
func (a *Adapter) postEphemeral(ctx context.Context, channel, user, thread string, m Message) error {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.Text, true)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slackapi.MsgOptionBlocks(m.Blocks...))
	}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	err := a.retry(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := a.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("chat.postEphemeral: %w", err)
	}
	return nil
}

// respond shows messages to one person: through the response URL when
// there is one, else with chat.postEphemeral.
func (a *Adapter) respond(ctx context.Context, responseURL, channel, user, thread string, msgs []Message) {
	if responseURL != "" {
		err := a.respondURL(ctx, responseURL, "ephemeral", false, msgs)
		if err == nil {
			return
		}
		a.log.Info("slack: response URL failed, using chat.postEphemeral", "err", redact(err.Error()))
	}
	for _, m := range msgs {
		if err := a.postEphemeral(ctx, channel, user, thread, m); err != nil {
			a.log.Error("slack: replying privately failed", "channel", channel, "err", redact(err.Error()))
			return
		}
	}
}

// respondURL posts messages to an interaction's response URL.
func (a *Adapter) respondURL(ctx context.Context, responseURL, responseType string, replace bool, msgs []Message) error {
	if err := a.checkResponseURL(responseURL); err != nil {
		return err
	}
	for _, m := range msgs {
		msg := &slackapi.WebhookMessage{Text: m.Text, ResponseType: responseType, ReplaceOriginal: replace}
		if len(m.Blocks) > 0 {
			msg.Blocks = &slackapi.Blocks{BlockSet: m.Blocks}
		}
		err := a.retry(ctx, "response_url", func(ctx context.Context) error {
			return slackapi.PostWebhookCustomHTTPContext(ctx, responseURL, a.http, msg)
		})
		if err != nil {
			return fmt.Errorf("response URL: %w", err)
		}
	}
	return nil
}

// deleteOriginal removes the message a response URL belongs to.
func (a *Adapter) deleteOriginal(ctx context.Context, responseURL string) error {
	if err := a.checkResponseURL(responseURL); err != nil {
		return err
	}
	return a.retry(ctx, "response_url", func(ctx context.Context) error {
		return slackapi.PostWebhookCustomHTTPContext(ctx, responseURL, a.http, &slackapi.WebhookMessage{DeleteOriginal: true})
	})
}

// checkResponseURL accepts only Slack's own response URLs, or any http(s)
// URL when the Web API itself is pointed elsewhere (a proxy, a test).
func (a *Adapter) checkResponseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Errorf("response URL: not a URL")
	}
	if a.cfg.APIURL != "" {
		if u.Scheme != "https" && u.Scheme != "http" {
			return fmt.Errorf("response URL: scheme %q", u.Scheme)
		}
		return nil
	}
	if u.Scheme != "https" || (u.Hostname() != "slack.com" && !strings.HasSuffix(u.Hostname(), ".slack.com")) {
		return fmt.Errorf("response URL: not a Slack URL (%s)", u.Hostname())
	}
	return nil
}

// retry makes a Web API call, and when Slack answers 429 waits as long as
// its Retry-After says and tries again, PostAttempts times at most.
func (a *Adapter) retry(ctx context.Context, call string, do func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := do(ctx)
		wait, limited := rateLimited(err)
		if !limited {
			return err
		}
		if attempt >= a.cfg.PostAttempts || wait > a.cfg.MaxRetryAfter {
			a.log.Error("slack: rate limited, giving up", "call", call, "attempts", attempt, "retry_after", wait)
			return fmt.Errorf("rate limited %d times: %w", attempt, err)
		}
		a.log.Warn("slack: rate limited, waiting", "call", call, "attempt", attempt, "retry_after", wait)
		if !sleep(ctx, wait) {
			return fmt.Errorf("waiting out a rate limit: %w", ctx.Err())
		}
	}
}

// rateLimited reports whether err is Slack's 429, and how long to wait.
func rateLimited(err error) (time.Duration, bool) {
	if err == nil {
		return 0, false
	}
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return max(rl.RetryAfter, 0), true
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests {
		return time.Second, true // no Retry-After header
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "ratelimited" {
		return time.Second, true
	}
	return 0, false
}

var secrets = regexp.MustCompile(`(xox[a-z]|xapp)-[0-9A-Za-z-]+|((?:ticket|token)=)[^&\s"]+`)

// redact removes anything that looks like a Slack token or a connection
// ticket from text about to be logged.
func redact(s string) string {
	return secrets.ReplaceAllStringFunc(s, func(m string) string {
		if k, _, ok := strings.Cut(m, "="); ok && !strings.HasPrefix(m, "xox") && !strings.HasPrefix(m, "xapp") {
			return k + "=REDACTED"
		}
		prefix, _, _ := strings.Cut(m, "-")
		return prefix + "-REDACTED"
	})
}
