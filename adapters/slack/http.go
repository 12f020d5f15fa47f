package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"

	slackapi "github.com/slack-go/slack"
)

// verified wraps a handler of Slack's HTTP requests: it checks the
// signature and its 5-minute window before reading anything else, caps
// the body, and answers 401 to anything unsigned, forged or stale.
func (a *Adapter) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("slack: panic in request handler", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		sv, err := slackapi.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
		if err != nil {
			a.log.Warn("slack: request refused", "path", r.URL.Path, "reason", err.Error())
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read request", http.StatusBadRequest)
			return
		}
		if _, err := sv.Write(body); err != nil || sv.Ensure() != nil {
			a.log.Warn("slack: request refused", "path", r.URL.Path, "reason", "signature does not match")
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

// serveEvents handles the Events API: the URL check, and event callbacks,
// acknowledged at once and answered in the background.
func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	env, err := parseEnvelope(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch env.Type {
	case "url_verification":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, env.Challenge)
		return
	case "event_callback":
		if retry := r.Header.Get("X-Slack-Retry-Num"); retry != "" {
			a.log.Debug("slack: event delivered again", "event_id", env.EventID, "retry", retry, "reason", r.Header.Get("X-Slack-Retry-Reason"))
		}
		if !a.acceptEvent(env) {
			// Busy: Slack delivers it again later.
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
	case "app_rate_limited":
		a.log.Warn("slack: Slack is dropping events for this app (rate limited)")
	}
	w.WriteHeader(http.StatusOK)
}

// serveCommand handles the slash command: acknowledged at once, answered
// through its response URL.
func (a *Adapter) serveCommand(w http.ResponseWriter, _ *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	cmd := slackapi.SlashCommand{
		TeamID:      form.Get("team_id"),
		ChannelID:   form.Get("channel_id"),
		ChannelName: form.Get("channel_name"),
		UserID:      form.Get("user_id"),
		UserName:    form.Get("user_name"),
		Command:     form.Get("command"),
		Text:        form.Get("text"),
		ResponseURL: form.Get("response_url"),
		TriggerID:   form.Get("trigger_id"),
		APIAppID:    form.Get("api_app_id"),
	}
	if !a.acceptCommand(cmd) {
		// Commands are not delivered again: say so to the person.
		writeJSON(w, map[string]string{"response_type": "ephemeral", "text": busyText})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveInteraction handles button clicks.
func (a *Adapter) serveInteraction(w http.ResponseWriter, _ *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "no payload", http.StatusBadRequest)
		return
	}
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	if !a.acceptInteraction(cb) {
		writeJSON(w, map[string]any{"response_type": "ephemeral", "replace_original": false, "text": busyText})
		return
	}
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
