package slack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/explainerbot/explainer/bot"
)

const (
	testBotToken = "xoxb-1111-2222-testbottoken"
	testAppToken = "xapp-1-A111-3333-testapptoken"
	testSecret   = "8f742231b10e8888abcd99yyyzzz85a5"
	testBotUser  = "UBOT"
	testTeam     = "T0001"
)

// post is one message the fake Slack received: through the Web API
// (chat.postMessage, chat.postEphemeral) or a response URL.
type post struct {
	Method          string
	Channel         string
	User            string
	ThreadTS        string
	TS              string // the timestamp the fake gave it
	Text            string
	Blocks          string // Block Kit JSON
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	Path            string
	Metadata        string // message metadata JSON, as posted
}

// fakeSlack speaks Slack's Web API (form-encoded methods, JSON replies,
// 429 with Retry-After), response URLs, and Socket Mode (apps.connections.open,
// then a websocket with hello, envelopes, acks, pings and disconnects).
type fakeSlack struct {
	t   *testing.T
	srv *httptest.Server

	// postHook, when set, may answer a chat.* call itself (return true),
	// for example with a 429.
	postHook func(w http.ResponseWriter, method string, n int) bool

	mu     sync.Mutex
	posts  []post
	calls  map[string]int
	nextTS int
	posted chan post

	conns chan *fakeConn
	opens int
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, calls: map[string]int{}, posted: make(chan post, 10_000), conns: make(chan *fakeConn, 16), nextTS: 100}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth.test", f.authTest)
	mux.HandleFunc("POST /api/chat.postMessage", f.chat("chat.postMessage"))
	mux.HandleFunc("POST /api/chat.postEphemeral", f.chat("chat.postEphemeral"))
	mux.HandleFunc("POST /api/chat.update", f.chatUpdate)
	mux.HandleFunc("POST /api/conversations.history", f.history)
	mux.HandleFunc("POST /api/apps.connections.open", f.connectionsOpen)
	mux.HandleFunc("GET /socket", f.socket)
	mux.HandleFunc("POST /response/{id}", f.responseURL)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) setPostHook(hook func(w http.ResponseWriter, method string, n int) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.postHook = hook
}

func (f *fakeSlack) apiURL() string                  { return f.srv.URL + "/api/" }
func (f *fakeSlack) responseURLFor(id string) string { return f.srv.URL + "/response/" + id }

func (f *fakeSlack) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// sent returns the messages received so far with the given method ("" for all).
func (f *fakeSlack) sent(method string) []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []post
	for _, p := range f.posts {
		if method == "" || p.Method == method {
			out = append(out, p)
		}
	}
	return out
}

// next waits for the next message received.
func (f *fakeSlack) next(t *testing.T) post {
	t.Helper()
	select {
	case p := <-f.posted:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a message to Slack")
		return post{}
	}
}

// unescapedJSON re-encodes JSON without \u003c-style escapes, so tests
// can look for "<@U1>" in it.
func unescapedJSON(s string) json.RawMessage {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return json.RawMessage(s)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return json.RawMessage(bytes.TrimSpace(b.Bytes()))
}

func writeJSON200(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) authTest(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls["auth.test"]++
	f.mu.Unlock()
	if r.PostFormValue("token") != testBotToken {
		writeJSON200(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	writeJSON200(w, map[string]any{"ok": true, "url": "https://test.slack.com/", "team": "Test", "user": "explainer", "team_id": testTeam, "user_id": testBotUser, "bot_id": "BBOT"})
}

func (f *fakeSlack) chat(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.calls[method]++
		n := f.calls[method]
		hook := f.postHook
		f.mu.Unlock()
		if r.PostForm.Get("token") != testBotToken {
			writeJSON200(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		if hook != nil && hook(w, method, n) {
			return
		}
		channel := r.PostForm.Get("channel")
		if channel == "CNOTIN" && method == "chat.postMessage" {
			writeJSON200(w, map[string]any{"ok": false, "error": "not_in_channel"})
			return
		}
		var blocks json.RawMessage
		if b := r.PostForm.Get("blocks"); b != "" {
			if !json.Valid([]byte(b)) {
				writeJSON200(w, map[string]any{"ok": false, "error": "invalid_blocks"})
				return
			}
			blocks = unescapedJSON(b)
		}
		if m := r.PostForm.Get("metadata"); m != "" {
			var meta struct {
				EventType    string         `json:"event_type"`
				EventPayload map[string]any `json:"event_payload"`
			}
			if err := json.Unmarshal([]byte(m), &meta); err != nil || meta.EventType == "" || meta.EventPayload == nil {
				writeJSON200(w, map[string]any{"ok": false, "error": "invalid_metadata_format"})
				return
			}
		}
		f.mu.Lock()
		f.nextTS++
		ts := fmt.Sprintf("1700000000.%06d", f.nextTS)
		p := post{Method: method, Channel: channel, User: r.PostForm.Get("user"), ThreadTS: r.PostForm.Get("thread_ts"), TS: ts, Text: r.PostForm.Get("text"), Blocks: string(blocks), Metadata: r.PostForm.Get("metadata")}
		f.posts = append(f.posts, p)
		f.mu.Unlock()
		f.posted <- p
		if method == "chat.postEphemeral" {
			writeJSON200(w, map[string]any{"ok": true, "message_ts": ts})
			return
		}
		writeJSON200(w, map[string]any{"ok": true, "channel": channel, "ts": ts, "message": map[string]any{"text": p.Text, "ts": ts}})
	}
}

func (f *fakeSlack) responseURL(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls["response_url"]++
	p := post{Method: "response_url", Path: r.URL.Path, Text: m.Text, ResponseType: m.ResponseType, ReplaceOriginal: m.ReplaceOriginal, DeleteOriginal: m.DeleteOriginal}
	if len(m.Blocks) > 0 && string(m.Blocks) != "null" {
		p.Blocks = string(unescapedJSON(string(m.Blocks)))
	}
	f.posts = append(f.posts, p)
	f.mu.Unlock()
	f.posted <- p
	writeJSON200(w, map[string]any{"ok": true})
}

func (f *fakeSlack) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testAppToken {
		writeJSON200(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	f.mu.Lock()
	f.opens++
	n := f.opens
	f.mu.Unlock()
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/socket?ticket=secret-ticket-" + strconv.Itoa(n)
	writeJSON200(w, map[string]any{"ok": true, "url": u})
}

// fakeConn is one Socket Mode connection as Slack's side sees it.
type fakeConn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	acks   chan socketAck
	pongs  chan string
	closed chan struct{}
}

type socketAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

// upgrader accepts the Origin slack-go dials with, as Slack does.
var upgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://api.slack.com" }}

func (f *fakeSlack) socket(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Query().Get("ticket"), "secret-ticket-") {
		http.Error(w, "bad ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &fakeConn{ws: ws, acks: make(chan socketAck, 1000), pongs: make(chan string, 1000), closed: make(chan struct{})}
	ws.SetPongHandler(func(data string) error {
		select {
		case c.pongs <- data:
		default:
		}
		return nil
	})
	c.send(map[string]any{"type": "hello", "num_connections": 1, "debug_info": map[string]any{"host": "fake-applink", "approximate_connection_time": 18060}, "connection_info": map[string]any{"app_id": "A111"}})
	go func() { // Slack pings the client every few seconds; the fake, often.
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-c.closed:
				return
			case <-t.C:
				c.wmu.Lock()
				err := ws.WriteControl(websocket.PingMessage, []byte("ping-"+strconv.Itoa(i)), time.Now().Add(time.Second))
				c.wmu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	f.conns <- c
	defer close(c.closed)
	defer ws.Close()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var ack socketAck
		if err := json.Unmarshal(data, &ack); err != nil || ack.EnvelopeID == "" {
			f.t.Errorf("socket mode: client sent something that is not an ack: %s", data)
			continue
		}
		c.acks <- ack
	}
}

// conn waits for the next Socket Mode connection.
func (f *fakeSlack) conn(t *testing.T) *fakeConn {
	t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a socket mode connection")
		return nil
	}
}

func (c *fakeConn) send(v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.WriteJSON(v)
}

func (c *fakeConn) envelope(kind, id string, retry int, payload any) {
	c.send(map[string]any{"type": kind, "envelope_id": id, "payload": payload, "accepts_response_payload": kind != "events_api", "retry_attempt": retry, "retry_reason": map[bool]string{true: "timeout"}[retry > 0]})
}

func (c *fakeConn) disconnect() {
	c.send(map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "fake-applink"}})
}

// ack waits for the client to acknowledge an envelope.
func (c *fakeConn) ack(t *testing.T, id string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case a := <-c.acks:
			if a.EnvelopeID == id {
				return
			}
			t.Errorf("ack for %s while waiting for %s", a.EnvelopeID, id)
		case <-timeout:
			t.Fatalf("envelope %s was not acknowledged", id)
		}
	}
}

// Events API payloads, as Slack sends them.

func callback(eventID string, event map[string]any) map[string]any {
	return map[string]any{
		"token": "legacy-verification-token", "team_id": testTeam, "api_app_id": "A111",
		"type": "event_callback", "event_id": eventID, "event_time": 1700000000,
		"authorizations": []map[string]any{{"enterprise_id": nil, "team_id": testTeam, "user_id": testBotUser, "is_bot": true}},
		"event":          event,
	}
}

func mention(channel, user, ts, thread, text string) map[string]any {
	ev := map[string]any{"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts, "client_msg_id": "c-" + ts}
	if thread != "" {
		ev["thread_ts"] = thread
	}
	return ev
}

func message(channel, channelType, user, ts, thread, text string) map[string]any {
	ev := map[string]any{"type": "message", "user": user, "text": text, "ts": ts, "channel": channel, "channel_type": channelType, "event_ts": ts}
	if thread != "" {
		ev["thread_ts"] = thread
	}
	return ev
}

func slashForm(text, channel, user, responseURL, trigger string) url.Values {
	return url.Values{
		"token": {"legacy"}, "team_id": {testTeam}, "team_domain": {"test"}, "channel_id": {channel},
		"channel_name": {"general"}, "user_id": {user}, "user_name": {"ana"}, "command": {"/explain"},
		"text": {text}, "api_app_id": {"A111"}, "response_url": {responseURL}, "trigger_id": {trigger},
	}
}

// blockAction is a block_actions payload for a click on a button.
func blockAction(user, channel, messageTS, threadTS string, ephemeral bool, actionID, value, responseURL, trigger string) map[string]any {
	container := map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel, "is_ephemeral": ephemeral}
	if threadTS != "" {
		container["thread_ts"] = threadTS
	}
	return map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": "ana", "team_id": testTeam},
		"api_app_id": "A111", "token": "legacy", "container": container, "trigger_id": trigger,
		"team": map[string]any{"id": testTeam, "domain": "test"}, "channel": map[string]any{"id": channel, "name": "general"},
		"response_url": responseURL,
		"actions": []map[string]any{{
			"action_id": actionID, "block_id": "feedback", "type": "button", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "x", "emoji": true}, "action_ts": "1700000100.000" + trigger[len(trigger)-1:],
		}},
	}
}

// sign signs a request body as Slack does (v0 HMAC-SHA256 of
// "v0:timestamp:body").
func sign(secret string, at time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", timestamp, body)
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func signedRequest(t testing.TB, target, contentType string, body []byte, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts, sig := sign(testSecret, at, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	return req
}

// fakeAsker answers "Answer to: <question>", declines what contains
// "thanks" or "unknown", and panics on "boom".
type fakeAsker struct {
	mu    sync.Mutex
	asked []bot.Question
	block chan struct{} // when set, Ask waits for it
}

func (f *fakeAsker) Ask(ctx context.Context, q bot.Question) (bot.Answer, error) {
	f.mu.Lock()
	f.asked = append(f.asked, q)
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return bot.Answer{}, ctx.Err()
		}
	}
	switch {
	case strings.Contains(q.Text, "boom"):
		panic("asker exploded")
	case strings.Contains(q.Text, "fail"):
		return bot.Answer{}, fmt.Errorf("search: index closed")
	case strings.Contains(q.Text, "thanks") || strings.Contains(q.Text, "unknown"):
		return bot.Answer{Question: q.Text, Answered: false, Reason: bot.ReasonNotCovered, Lead: "I don't know that.", Followups: []string{"What is the H800?"}}, nil
	}
	return bot.Answer{
		Question: q.Text, Answered: true, Lead: "Answer to: " + q.Text,
		Points:    []bot.Point{{Text: "A point.", By: "the article", Standing: bot.StandingFact}, {Text: "A contested point.", By: "DeepSeek", Standing: bot.StandingDisputed}},
		Sources:   []bot.Source{{Entry: "e1", Title: "E1", Ref: "article, paragraph 2"}},
		Followups: []string{"What is the H800?", "What is the A100?"},
		Entries:   []string{"e1"}, Confidence: 1,
	}, nil
}

// hold makes Ask wait until the returned channel is closed.
func (f *fakeAsker) hold() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.block = make(chan struct{})
	return f.block
}

func (f *fakeAsker) About() bot.About {
	return bot.About{Name: "the DeepSeek shock to Nvidia", Summary: "Why Nvidia fell in January 2025.", Sources: []string{"The article"}, Featured: []string{"Why did Nvidia fall?"}, Entries: 42}
}

func (f *fakeAsker) questions() []bot.Question {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bot.Question(nil), f.asked...)
}

type fakeFeedback struct {
	mu   sync.Mutex
	got  []bot.Feedback
	fail bool
}

func (f *fakeFeedback) RecordFeedback(_ context.Context, fb bot.Feedback) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return fmt.Errorf("database is locked")
	}
	f.got = append(f.got, fb)
	return nil
}

func (f *fakeFeedback) all() []bot.Feedback {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bot.Feedback(nil), f.got...)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is an adapter wired to a fake Slack, with its HTTP endpoints
// served.
type harness struct {
	t      *testing.T
	slack  *fakeSlack
	asker  *fakeAsker
	fb     *fakeFeedback
	a      *Adapter
	srv    *httptest.Server
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

type harnessOpts struct {
	socket  bool
	cfg     func(*Config)
	asker   Asker
	digests Digests
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t, slack: newFakeSlack(t), asker: &fakeAsker{}, fb: &fakeFeedback{}, logs: &syncBuffer{}}
	cfg := Config{BotToken: testBotToken, SigningSecret: testSecret, APIURL: h.slack.apiURL()}
	if o.socket {
		cfg.AppToken = testAppToken
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	var asker Asker = h.asker
	if o.asker != nil {
		asker = o.asker
	}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(h.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg, Deps{Asker: asker, Feedback: h.fb, Digests: o.digests, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	mux := http.NewServeMux()
	a.Mount(mux)
	h.srv = httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		h.stop()
		h.srv.Close()
		for _, secret := range []string{testBotToken, testAppToken, testSecret, "secret-ticket-"} {
			if strings.Contains(h.logs.String(), secret) {
				t.Errorf("logs contain a secret (%s):\n%s", secret[:8], h.logs.String())
			}
		}
	})
	return h
}

// stop cancels Run and checks it returns nil.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v, want nil when its context ends", err)
		}
	case <-time.After(15 * time.Second):
		h.t.Error("Run did not return after its context ended")
	}
}

// ready waits until the adapter reports ready. Ready is a status to poll
// (as a health check does), so this polls it.
func (h *harness) ready() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.a.Ready() != nil {
		if time.Now().After(deadline) {
			h.t.Fatalf("not ready: %v", h.a.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle waits until every accepted question has been handled.
func (h *harness) idle() {
	h.t.Helper()
	select {
	case <-h.a.jobs.idle():
	case <-time.After(20 * time.Second):
		h.t.Fatal("questions still being handled after 20s")
	}
}

// event posts a signed Events API callback and returns the status.
func (h *harness) event(payload any, header map[string]string) int {
	h.t.Helper()
	body, _ := json.Marshal(payload)
	req := signedRequest(h.t, h.srv.URL+"/slack/events", "application/json", body, time.Now())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return h.do(req)
}

func (h *harness) command(form url.Values) (int, string) {
	h.t.Helper()
	req := signedRequest(h.t, h.srv.URL+"/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), time.Now())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (h *harness) click(payload any) int {
	h.t.Helper()
	b, _ := json.Marshal(payload)
	body := url.Values{"payload": {string(b)}}.Encode()
	return h.do(signedRequest(h.t, h.srv.URL+"/slack/interactivity", "application/x-www-form-urlencoded", []byte(body), time.Now()))
}

func (h *harness) do(req *http.Request) int {
	h.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// buttonValue finds the value of the button with actionID in Block Kit JSON.
func buttonValue(t *testing.T, blocks, actionID string) string {
	t.Helper()
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(blocks), &bs); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value
			}
		}
	}
	t.Fatalf("no button %q in %s", actionID, blocks)
	return ""
}

// history is conversations.history: the channel's messages, newest
// first, with their metadata only when include_all_metadata is set.
func (f *fakeSlack) history(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("token") != testBotToken {
		writeJSON200(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	f.mu.Lock()
	f.calls["conversations.history"]++
	hook := f.postHook
	n := f.calls["conversations.history"]
	f.mu.Unlock()
	if hook != nil && hook(w, "conversations.history", n) {
		return
	}
	channel := r.PostFormValue("channel")
	if channel == "CNOTIN" {
		writeJSON200(w, map[string]any{"ok": false, "error": "not_in_channel"})
		return
	}
	limit, _ := strconv.Atoi(r.PostFormValue("limit"))
	if limit <= 0 || limit > 999 {
		limit = 100
	}
	withMeta := r.PostFormValue("include_all_metadata") == "1"
	var msgs []map[string]any
	for _, p := range f.sent("chat.postMessage") {
		if p.Channel != channel {
			continue
		}
		m := map[string]any{"type": "message", "user": testBotUser, "bot_id": "BBOT", "text": p.Text, "ts": p.TS}
		if withMeta && p.Metadata != "" {
			m["metadata"] = json.RawMessage(p.Metadata)
		}
		msgs = append([]map[string]any{m}, msgs...)
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	writeJSON200(w, map[string]any{"ok": true, "messages": msgs, "has_more": more})
}
