package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/gorilla/websocket"
)

// Fakes of Slack and Discord for serve's end-to-end tests: each speaks its
// platform's wire protocol (form-encoded Web API methods with JSON
// replies, response URLs; Discord's REST API with bot authorization and
// message limits, and a gateway that says HELLO, takes IDENTIFY, says
// READY and acknowledges heartbeats), and records what the bot sent.

// lineLog is serve's JSON log, kept line by line for tests to wait on.
type lineLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	lines   []map[string]any
	raw     strings.Builder
	changed chan struct{}
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadBytes('\n')
		if err != nil {
			l.buf.Write(line) // an unfinished line waits for its end
			break
		}
		l.raw.Write(line)
		var m map[string]any
		if json.Unmarshal(line, &m) != nil {
			m = map[string]any{"msg": strings.TrimSpace(string(line))}
		}
		l.lines = append(l.lines, m)
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.raw.String()
}

// find returns the lines with message msg for which match (if set) holds.
func (l *lineLog) find(msg string, match func(map[string]any) bool) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.lines {
		if m["msg"] == msg && (match == nil || match(m)) {
			out = append(out, m)
		}
	}
	return out
}

// wait waits for n lines with message msg for which match holds.
func (l *lineLog) wait(t *testing.T, n int, msg string, match func(map[string]any) bool) []map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		changed := l.changed
		l.mu.Unlock()
		if got := l.find(msg, match); len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %d× %q in serve's log after 30 s:\n%s", n, msg, l.String())
		}
	}
}

// serveRun is `explainer serve` run in-process through run(), as the
// binary runs it.
type serveRun struct {
	t      *testing.T
	log    *lineLog
	base   string
	cancel context.CancelFunc
	done   chan int
}

// startServeRun runs serve with JSON debug logs on a free loopback port
// and waits until it listens. environ adds to and overrides the defaults.
func startServeRun(t *testing.T, environ map[string]string) *serveRun {
	t.Helper()
	env := map[string]string{"LOG_FORMAT": "json", "LOG_LEVEL": "debug", "EXPLAINER_ADDR": "127.0.0.1:0",
		"EXPLAINER_RATE_LIMIT": "0", "EXPLAINER_WATCH_KB": "false", "EXPLAINER_SHUTDOWN_TIMEOUT": "20s"}
	for k, v := range environ {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &serveRun{t: t, log: newLineLog(), cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- run(ctx, []string{"serve"}, mapEnv(env), nil, io.Discard, r.log) }()
	t.Cleanup(func() {
		if r.cancel != nil {
			r.stop()
		}
	})
	timeout := time.After(60 * time.Second)
	for {
		r.log.mu.Lock()
		changed := r.log.changed
		r.log.mu.Unlock()
		if l := r.log.find("listening", nil); len(l) > 0 {
			r.base = "http://" + l[0]["addr"].(string)
			return r
		}
		select {
		case <-changed:
		case code := <-r.done:
			r.cancel = nil
			t.Fatalf("serve exited with %d before listening:\n%s", code, r.log.String())
		case <-timeout:
			t.Fatalf("serve not listening after 60 s:\n%s", r.log.String())
		}
	}
}

// stop ends serve as a signal does and returns its exit status.
func (r *serveRun) stop() int {
	r.t.Helper()
	r.cancel()
	r.cancel = nil
	select {
	case code := <-r.done:
		if code != 0 {
			r.t.Errorf("serve exited with %d:\n%s", code, r.log.String())
		}
		return code
	case <-time.After(60 * time.Second):
		r.t.Fatal("serve did not stop within 60 s")
		return -1
	}
}

func (r *serveRun) post(path, contentType string, body []byte, header http.Header) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.base+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Slack.

const (
	e2eSlackToken  = "xoxb-e2e-7-8-secrettoken"
	e2eSlackSecret = "e2e-digest-signing-secret"
	e2eSlackBot    = "UBOT"
)

// slackMsg is one message the fake Slack received.
type slackMsg struct {
	Method       string // chat.postMessage, chat.postEphemeral or response_url
	Channel      string
	User         string
	Thread       string
	TS           string
	Text         string
	Blocks       string
	Metadata     string
	ResponseType string
	Path         string
}

type fakeSlackWeb struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	msgs    []slackMsg
	calls   map[string]int
	ts      int
	changed chan struct{}
}

func newFakeSlackWeb(t *testing.T) *fakeSlackWeb {
	f := &fakeSlackWeb{t: t, calls: map[string]int{}, changed: make(chan struct{}), ts: 500}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", f.api)
	mux.HandleFunc("POST /response/{id}", f.response)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlackWeb) apiURL() string { return f.srv.URL + "/api/" }

func (f *fakeSlackWeb) reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeSlackWeb) api(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") != e2eSlackToken {
		f.reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	f.mu.Lock()
	f.calls[method]++
	f.mu.Unlock()
	switch method {
	case "auth.test":
		f.reply(w, map[string]any{"ok": true, "team": "Test", "user": "explainer", "team_id": "T1", "user_id": e2eSlackBot, "bot_id": "B1"})
	case "chat.postMessage", "chat.postEphemeral", "chat.update":
		m := slackMsg{Method: method, Channel: r.PostForm.Get("channel"), User: r.PostForm.Get("user"), Thread: r.PostForm.Get("thread_ts"),
			Text: r.PostForm.Get("text"), Blocks: r.PostForm.Get("blocks"), Metadata: r.PostForm.Get("metadata")}
		if m.Blocks != "" && !json.Valid([]byte(m.Blocks)) {
			f.reply(w, map[string]any{"ok": false, "error": "invalid_blocks"})
			return
		}
		if m.Metadata != "" {
			var meta struct {
				EventType    string         `json:"event_type"`
				EventPayload map[string]any `json:"event_payload"`
			}
			if json.Unmarshal([]byte(m.Metadata), &meta) != nil || meta.EventType == "" || meta.EventPayload == nil {
				f.reply(w, map[string]any{"ok": false, "error": "invalid_metadata_format"})
				return
			}
		}
		f.mu.Lock()
		f.ts++
		m.TS = fmt.Sprintf("1700000000.%06d", f.ts)
		if method == "chat.update" {
			m.TS = r.PostForm.Get("ts")
		}
		f.add(m)
		f.mu.Unlock()
		f.reply(w, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "message_ts": m.TS})
	case "conversations.history":
		channel := r.PostForm.Get("channel")
		limit, _ := strconv.Atoi(r.PostForm.Get("limit"))
		withMeta := r.PostForm.Get("include_all_metadata") == "1"
		var out []map[string]any
		f.mu.Lock()
		for i := len(f.msgs) - 1; i >= 0 && (limit == 0 || len(out) < limit); i-- {
			m := f.msgs[i]
			if m.Method != "chat.postMessage" || m.Channel != channel {
				continue
			}
			msg := map[string]any{"type": "message", "user": e2eSlackBot, "bot_id": "B1", "text": m.Text, "ts": m.TS}
			if withMeta && m.Metadata != "" {
				msg["metadata"] = json.RawMessage(m.Metadata)
			}
			out = append(out, msg)
		}
		f.mu.Unlock()
		f.reply(w, map[string]any{"ok": true, "messages": out, "has_more": false})
	default:
		f.reply(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (f *fakeSlackWeb) response(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
		ResponseType string          `json:"response_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.add(slackMsg{Method: "response_url", Path: r.URL.Path, Text: body.Text, Blocks: string(body.Blocks), ResponseType: body.ResponseType})
	f.mu.Unlock()
	f.reply(w, map[string]any{"ok": true})
}

// add records a message; f.mu must be held.
func (f *fakeSlackWeb) add(m slackMsg) {
	f.msgs = append(f.msgs, m)
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeSlackWeb) sent(match func(slackMsg) bool) []slackMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slackMsg
	for _, m := range f.msgs {
		if match(m) {
			out = append(out, m)
		}
	}
	return out
}

// wait waits for n messages that match.
func (f *fakeSlackWeb) wait(t *testing.T, n int, match func(slackMsg) bool) []slackMsg {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		if got := f.sent(match); len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("Slack got %d of the %d messages awaited after 30 s: %+v", len(f.sent(match)), n, f.sent(func(slackMsg) bool { return true }))
		}
	}
}

// signedSlack returns the headers of a request signed as Slack signs
// (v0 HMAC-SHA256 of "v0:timestamp:body").
func signedSlack(body []byte, extra ...string) http.Header {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(e2eSlackSecret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

// slackEvent sends a mention as an Events API callback.
func slackEvent(r *serveRun, eventID, channel, user, ts, text string, extra ...string) int {
	r.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"type": "event_callback", "team_id": "T1", "event_id": eventID,
		"authorizations": []map[string]any{{"user_id": e2eSlackBot, "is_bot": true}},
		"event":          map[string]any{"type": "app_mention", "user": user, "channel": channel, "ts": ts, "text": "<@" + e2eSlackBot + "> " + text},
	})
	code, _ := r.post("/slack/events", "application/json", body, signedSlack(body, extra...))
	return code
}

// slackCommand sends "/explain text" and returns the acknowledgement.
func slackCommand(r *serveRun, f *fakeSlackWeb, text, channel, user, trigger string) (int, string) {
	r.t.Helper()
	form := url.Values{"team_id": {"T1"}, "channel_id": {channel}, "user_id": {user}, "command": {"/explain"}, "text": {text},
		"response_url": {f.srv.URL + "/response/" + trigger}, "trigger_id": {trigger}, "api_app_id": {"A1"}}
	body := []byte(form.Encode())
	return r.post("/slack/commands", "application/x-www-form-urlencoded", body, signedSlack(body))
}

// slackClick sends a click on a button.
func slackClick(r *serveRun, f *fakeSlackWeb, user, channel, messageTS, actionID, value, trigger string) int {
	r.t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "trigger_id": trigger, "api_app_id": "A1",
		"container":    map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": channel},
		"response_url": f.srv.URL + "/response/" + trigger,
		"actions":      []map[string]any{{"action_id": actionID, "block_id": "feedback", "type": "button", "value": value, "action_ts": "1700000900." + trigger}},
	})
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	code, _ := r.post("/slack/interactivity", "application/x-www-form-urlencoded", body, signedSlack(body))
	return code
}

// Discord.

const (
	e2eDiscordToken = "e2e-discord-bot-token"
	e2eDiscordApp   = "900000000000000001"
	e2eDiscordBot   = "900000000000000002"
)

// discordCall is one REST call the fake Discord accepted.
type discordCall struct {
	Method, Path string
	Body         []byte
}

type fakeDiscordREST struct {
	t   *testing.T
	srv *httptest.Server
	key ed25519.PrivateKey // signs interactions

	mu       sync.Mutex
	calls    []discordCall
	messages map[string][]map[string]any // channel -> messages, oldest first
	nonces   map[string]string           // nonce -> message id
	nextID   int
	readies  int
	changed  chan struct{}
}

func newFakeDiscordREST(t *testing.T) *fakeDiscordREST {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDiscordREST{t: t, key: key, messages: map[string][]map[string]any{}, nonces: map[string]string{}, nextID: 1000, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway", f.gatewayURL)
	mux.HandleFunc("GET /gateway/bot", f.bot(f.gatewayURL))
	mux.HandleFunc("GET /gw/", f.gateway)
	mux.HandleFunc("POST /channels/{id}/messages", f.bot(f.createMessage))
	mux.HandleFunc("GET /channels/{id}/messages", f.bot(f.listMessages))
	mux.HandleFunc("PATCH /webhooks/{app}/{token}/messages/@original", f.webhook)
	mux.HandleFunc("POST /webhooks/{app}/{token}", f.webhook)
	mux.HandleFunc("POST /interactions/{id}/{token}/callback", f.webhook)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDiscordREST) publicKey() string {
	return hex.EncodeToString(f.key.Public().(ed25519.PublicKey))
}

func (f *fakeDiscordREST) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeDiscordREST) bot(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+e2eDiscordToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"401: Unauthorized","code":0}`)
			return
		}
		next(w, r)
	}
}

func (f *fakeDiscordREST) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeDiscordREST) gatewayURL(w http.ResponseWriter, r *http.Request) {
	f.json(w, 200, map[string]any{"url": "ws://" + f.srv.Listener.Addr().String() + "/gw", "shards": 1,
		"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}})
}

// gateway is the gateway: HELLO, IDENTIFY with the bot token, READY, and
// heartbeats acknowledged until the bot goes.
func (f *fakeDiscordREST) gateway(w http.ResponseWriter, r *http.Request) {
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	var mu sync.Mutex
	send := func(v any) error {
		mu.Lock()
		defer mu.Unlock()
		return c.WriteJSON(v)
	}
	send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 41250}})
	for {
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := c.ReadJSON(&p); err != nil {
			return
		}
		switch p.Op {
		case 1:
			send(map[string]any{"op": 11})
		case 2:
			var id struct {
				Token string `json:"token"`
			}
			json.Unmarshal(p.D, &id)
			if strings.TrimPrefix(id.Token, "Bot ") != e2eDiscordToken {
				c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
				return
			}
			send(map[string]any{"op": 0, "t": "READY", "s": 1, "d": map[string]any{
				"v": 10, "session_id": "s1", "resume_gateway_url": "ws://" + f.srv.Listener.Addr().String() + "/gw",
				"user":   map[string]any{"id": e2eDiscordBot, "username": "explainer", "discriminator": "0", "bot": true},
				"guilds": []any{}, "application": map[string]any{"id": e2eDiscordApp, "flags": 0},
			}})
			f.mu.Lock()
			f.readies++
			f.notify()
			f.mu.Unlock()
		}
	}
}

// units counts as Discord does, in UTF-16 code units.
func units(s string) int { return len(utf16.Encode([]rune(s))) }

// checkDiscordMessage enforces Discord's limits on a message body.
func checkDiscordMessage(body []byte) error {
	var m struct {
		Content string `json:"content"`
		Nonce   string `json:"nonce"`
		Embeds  []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			Fields      []struct{ Name, Value string }
			Footer      *struct{ Text string }
		} `json:"embeds"`
		Components []struct {
			Components []struct {
				CustomID string `json:"custom_id"`
				Label    string `json:"label"`
			} `json:"components"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		return fmt.Errorf("empty message")
	}
	if units(m.Content) > 2000 || len(m.Nonce) > 25 || len(m.Embeds) > 10 {
		return fmt.Errorf("content %d, nonce %d, embeds %d", units(m.Content), len(m.Nonce), len(m.Embeds))
	}
	for _, e := range m.Embeds {
		total := units(e.Title) + units(e.Description)
		if units(e.Title) > 256 || units(e.Description) > 4096 || len(e.Fields) > 25 {
			return fmt.Errorf("embed title %d, description %d, fields %d", units(e.Title), units(e.Description), len(e.Fields))
		}
		for _, fd := range e.Fields {
			if units(fd.Name) > 256 || units(fd.Value) > 1024 || fd.Value == "" {
				return fmt.Errorf("field %q of %d", fd.Name, units(fd.Value))
			}
			total += units(fd.Name) + units(fd.Value)
		}
		if e.Footer != nil {
			total += units(e.Footer.Text)
		}
		if total > 6000 {
			return fmt.Errorf("embed of %d characters", total)
		}
	}
	for _, row := range m.Components {
		for _, b := range row.Components {
			if len(b.CustomID) > 100 || units(b.Label) > 80 {
				return fmt.Errorf("button %q", b.CustomID)
			}
		}
	}
	return nil
}

func (f *fakeDiscordREST) createMessage(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := checkDiscordMessage(body); err != nil {
		f.t.Errorf("channel message breaks Discord's rules: %v\n%s", err, body)
		f.json(w, 400, map[string]any{"code": 50035, "message": "Invalid Form Body"})
		return
	}
	var m map[string]any
	json.Unmarshal(body, &m)
	channel := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	nonce, _ := m["nonce"].(string)
	if enforce, _ := m["enforce_nonce"].(bool); enforce && nonce != "" {
		if id, ok := f.nonces[nonce]; ok { // the same message again: Discord returns the first
			f.json(w, 200, map[string]any{"id": id, "channel_id": channel})
			return
		}
	}
	f.nextID++
	id := strconv.Itoa(f.nextID)
	if nonce != "" {
		f.nonces[nonce] = id
	}
	msg := map[string]any{"id": id, "channel_id": channel, "type": 0, "content": m["content"], "embeds": m["embeds"],
		"author": map[string]any{"id": e2eDiscordBot, "username": "explainer", "bot": true}, "timestamp": time.Now().UTC().Format(time.RFC3339)}
	if msg["embeds"] == nil {
		msg["embeds"] = []any{}
	}
	f.messages[channel] = append(f.messages[channel], msg)
	f.calls = append(f.calls, discordCall{r.Method, r.URL.Path, body})
	f.notify()
	f.json(w, 200, msg)
}

func (f *fakeDiscordREST) listMessages(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	f.mu.Lock()
	msgs := f.messages[r.PathValue("id")]
	out := []map[string]any{}
	for i := len(msgs) - 1; i >= 0 && len(out) < limit; i-- { // newest first
		out = append(out, msgs[i])
	}
	f.mu.Unlock()
	f.json(w, 200, out)
}

// webhook takes interaction responses, edits and follow-ups.
func (f *fakeDiscordREST) webhook(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.URL.Path, "/webhooks/") && r.PathValue("app") != e2eDiscordApp {
		f.json(w, 404, map[string]any{"code": 10015, "message": "Unknown Webhook"})
		return
	}
	if r.Method == http.MethodPatch || strings.HasPrefix(r.URL.Path, "/webhooks/") {
		if err := checkDiscordMessage(body); err != nil {
			f.t.Errorf("webhook message breaks Discord's rules: %v\n%s", err, body)
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, discordCall{r.Method, r.URL.Path, body})
	f.notify()
	f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/interactions/") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f.json(w, 200, map[string]any{"id": "990000000000000001", "channel_id": "7001", "content": ""})
}

// waitCalls waits for n accepted calls that match.
func (f *fakeDiscordREST) waitCalls(t *testing.T, n int, match func(discordCall) bool) []discordCall {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		f.mu.Lock()
		var got []discordCall
		for _, c := range f.calls {
			if match(c) {
				got = append(got, c)
			}
		}
		changed := f.changed
		f.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("Discord got %d of the %d calls awaited after 30 s", len(got), n)
		}
	}
}

func (f *fakeDiscordREST) channelPosts(channel string) []discordCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []discordCall
	for _, c := range f.calls {
		if c.Method == http.MethodPost && c.Path == "/channels/"+channel+"/messages" {
			out = append(out, c)
		}
	}
	return out
}

// interact posts a signed interaction to serve and returns the response.
func (f *fakeDiscordREST) interact(r *serveRun, body string) (int, string) {
	r.t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := http.Header{}
	h.Set("X-Signature-Timestamp", ts)
	h.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(f.key, []byte(ts+body))))
	return r.post("/discord/interactions", "application/json", []byte(body), h)
}

// interaction is an interaction's JSON from a member with permissions in
// channel 7001 of guild 8001.
func interaction(id string, typ int, permissions int64, data string, extra string) string {
	return `{"id":"` + id + `","application_id":"` + e2eDiscordApp + `","type":` + strconv.Itoa(typ) + `,"token":"tok-` + id +
		`","version":1,"channel_id":"7001","guild_id":"8001","member":{"user":{"id":"6001","username":"ann"},"permissions":"` +
		strconv.FormatInt(permissions, 10) + `"},"data":` + data + extra + `}`
}
