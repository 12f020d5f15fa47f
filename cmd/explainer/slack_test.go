package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := env{get: func(string) string { return "" }, lookup: func(string) (string, bool) { return "", false }}
	code := run(context.Background(), args, e, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSlackManifest(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		want     []string
		wantNot  []string
		wantErr  string
		jsonForm bool
	}{
		{name: "socket mode", args: []string{"slack", "manifest"}, want: []string{"socket_mode_enabled: true", "- app_mention", "- im:history", "command: /explain", "is_enabled: true"}, wantNot: []string{"request_url", "url:"}},
		{name: "http", args: []string{"slack", "manifest", "--http", "https://bot.example.com"}, want: []string{"socket_mode_enabled: false", "request_url: https://bot.example.com/slack/events", "url: https://bot.example.com/slack/commands", "request_url: https://bot.example.com/slack/interactivity"}},
		{name: "json", args: []string{"slack", "manifest", "--json", "--name", "Chip Explainer"}, want: []string{`"socket_mode_enabled": true`, `"name": "Chip Explainer"`}, jsonForm: true},
		{name: "plain http refused", args: []string{"slack", "manifest", "--http", "http://bot.example.com"}, code: 2, wantErr: "public https URL"},
		{name: "no subcommand", args: []string{"slack"}, code: 2, wantErr: "manifest"},
		{name: "unknown subcommand", args: []string{"slack", "install"}, code: 2, wantErr: "want a subcommand"},
		{name: "stray argument", args: []string{"slack", "manifest", "extra"}, code: 2, wantErr: "unexpected argument"},
		{name: "help", args: []string{"slack", "manifest", "-h"}, code: 0, wantErr: "Create New App"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %s)", code, c.code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range c.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if c.wantErr != "" && !strings.Contains(errOut, c.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, c.wantErr)
			}
			if c.jsonForm && !json.Valid([]byte(out)) {
				t.Errorf("not JSON:\n%s", out)
			}
		})
	}
}

func TestSlackCommandIsListed(t *testing.T) {
	_, out, _ := runCLI(t, "help")
	if !strings.Contains(out, "slack") {
		t.Errorf("usage does not list the slack command:\n%s", out)
	}
}

// slackAPI is a fake Slack Web API: auth.test and chat.postMessage.
type slackAPI struct {
	*httptest.Server
	mu    sync.Mutex
	posts []url.Values
	got   chan url.Values
}

func newSlackAPI(t *testing.T, token string) *slackAPI {
	api := &slackAPI{got: make(chan url.Values, 100)}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("token") != token {
			io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		switch r.URL.Path {
		case "/api/auth.test":
			io.WriteString(w, `{"ok":true,"team":"Test","user":"explainer","team_id":"T1","user_id":"UBOT","bot_id":"B1"}`)
		case "/api/chat.postMessage":
			api.mu.Lock()
			api.posts = append(api.posts, r.PostForm)
			api.mu.Unlock()
			api.got <- r.PostForm
			io.WriteString(w, `{"ok":true,"channel":"C1","ts":"1700000999.000100"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(api.Close)
	return api
}

func signSlack(secret string, at time.Time, body []byte) (string, string) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	return ts, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// TestSlackThroughServe runs the Slack adapter inside serve, behind its
// middleware, against a fake Slack: a signed mention gets one threaded
// reply from the real knowledge base, its retry none, forged and stale
// requests 401.
func TestSlackThroughServe(t *testing.T) {
	const token, secret = "xoxb-e2e-1-2-secrettoken", "e2e-signing-secret"
	api := newSlackAPI(t, token)
	s, logs := newTestServer(t, map[string]string{"SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": api.URL + "/api/", "EXPLAINER_RATE_LIMIT": "0"})
	ps, _, err := buildPlatforms(context.Background(), s.deps)
	if err != nil || len(ps) != 1 || ps[0].Name() != "slack" {
		t.Fatalf("buildPlatforms = %v, %v; want the slack platform", ps, err)
	}
	s.platforms = ps
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	// /readyz turns ready once auth.test passed (a health check polls it).
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve with slack never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}

	body := []byte(`{"type":"event_callback","team_id":"T1","event_id":"EvE2E","authorizations":[{"user_id":"UBOT","is_bot":true}],` +
		`"event":{"type":"app_mention","user":"UANA","channel":"C1","ts":"1700000500.000100","text":"<@UBOT> ` + headline + `"}}`)
	send := func(at time.Time, key string, headers ...string) int {
		ts, sig := signSlack(key, at, body)
		req, _ := http.NewRequest(http.MethodPost, base+"/slack/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := send(time.Now(), secret); got != http.StatusOK {
		t.Fatalf("mention: %d", got)
	}
	var reply url.Values
	select {
	case reply = <-api.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
	if reply.Get("channel") != "C1" || reply.Get("thread_ts") != "1700000500.000100" {
		t.Errorf("reply in %s/%s, want the thread of the mention", reply.Get("channel"), reply.Get("thread_ts"))
	}
	for _, want := range []string{"A100", "H800"} {
		if !strings.Contains(reply.Get("blocks"), want) {
			t.Errorf("reply lacks %s: %s", want, reply.Get("blocks"))
		}
	}
	if got := send(time.Now(), secret, "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout"); got != http.StatusOK {
		t.Errorf("retry: %d", got)
	}
	if got := send(time.Now(), "forged"); got != http.StatusUnauthorized {
		t.Errorf("forged: %d, want 401", got)
	}
	if got := send(time.Now().Add(-10*time.Minute), secret); got != http.StatusUnauthorized {
		t.Errorf("stale: %d, want 401", got)
	}

	// Shutting down lets answers in flight finish: then count the replies.
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	api.mu.Lock()
	n := len(api.posts)
	api.mu.Unlock()
	if n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	if l := logs.String(); strings.Contains(l, token) || strings.Contains(l, secret) {
		t.Error("logs contain the token or the signing secret")
	}
}
