package discord

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeDiscord is a local Discord: the REST API the adapter calls and the
// gateway websocket it connects to, speaking Discord's wire protocol and
// enforcing the rules the adapter must keep (message limits, one response
// per interaction, bot authorization, rate limits when told to).
type fakeDiscord struct {
	t     testing.TB
	srv   *httptest.Server
	token string // the bot token, without "Bot "
	appID string
	botID string
	// heartbeatMS is the interval HELLO asks for.
	heartbeatMS int
	// silent: accept websocket connections and never say HELLO.
	silent bool
	dialed int // websocket connections accepted

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change below
	calls   []restCall    // accepted REST calls
	refused []restCall    // calls answered 429 or 4xx
	limits  map[string]*rateLimit
	acked   map[string]bool   // interaction tokens answered
	posted  map[string]string // id -> channel of every message created

	// Gateway.
	conn       *gwConn
	seq        int64
	events     []gwPayload // dispatched in this session, for RESUME to replay
	session    string
	sessions   int
	identifies []identify
	resumes    []resume
	readies    []string // READY or RESUMED, in order
	heartbeats int
}

type restCall struct {
	Method, Path, Auth string
	Body               []byte
	Status             int
}

type rateLimit struct {
	remaining  int
	retryAfter float64
}

type identify struct {
	Token    string          `json:"token"`
	Intents  int             `json:"intents"`
	Compress bool            `json:"compress"`
	Props    json.RawMessage `json:"properties"`
}

type resume struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	Seq       int64  `json:"seq"`
}

func newFakeDiscord(t testing.TB) *fakeDiscord {
	f := &fakeDiscord{
		t: t, token: "test-bot-token", appID: "900000000000000001", botID: "900000000000000002",
		heartbeatMS: 500,
		changed:     make(chan struct{}),
		limits:      make(map[string]*rateLimit),
		acked:       make(map[string]bool),
		posted:      make(map[string]string),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway", f.gatewayURL)
	mux.HandleFunc("GET /gateway/bot", f.bot(f.gatewayURL))
	mux.HandleFunc("POST /interactions/{id}/{token}/callback", f.interactionCallback)
	mux.HandleFunc("PATCH /webhooks/{app}/{token}/messages/@original", f.webhookEdit)
	mux.HandleFunc("POST /webhooks/{app}/{token}", f.webhookExecute)
	mux.HandleFunc("POST /channels/{id}/messages", f.bot(f.channelMessage))
	mux.HandleFunc("GET /channels/{id}/messages", f.bot(f.channelHistory))
	mux.HandleFunc("PATCH /channels/{id}/messages/{msg}", f.bot(f.channelMessageEdit))
	mux.HandleFunc("PUT /applications/{app}/commands", f.bot(f.commands))
	mux.HandleFunc("PUT /applications/{app}/guilds/{guild}/commands", f.bot(f.commands))
	mux.HandleFunc("GET /gw/", f.gateway)
	f.srv = httptest.NewServer(f.limited(mux))
	t.Cleanup(f.close)
	return f
}

func (f *fakeDiscord) close() {
	f.mu.Lock()
	if f.conn != nil {
		f.conn.c.Close()
	}
	f.mu.Unlock()
	f.srv.Close()
}

// notify wakes waiters; f.mu must be held.
func (f *fakeDiscord) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// waitFor waits until at least n accepted calls match, and returns them.
func (f *fakeDiscord) waitFor(n int, match func(restCall) bool) []restCall {
	f.t.Helper()
	return waitUntil(f, func() ([]restCall, bool) {
		var got []restCall
		for _, c := range f.calls {
			if match(c) {
				got = append(got, c)
			}
		}
		return got, len(got) >= n
	})
}

// waitUntil waits, up to a generous bound, until cond holds under f.mu.
func waitUntil[T any](f *fakeDiscord, cond func() (T, bool)) T {
	f.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		v, ok := cond()
		ch := f.changed
		f.mu.Unlock()
		if ok {
			return v
		}
		select {
		case <-ch:
		case <-deadline.C:
			f.mu.Lock()
			f.t.Errorf("fake Discord: condition not met in time; %d calls accepted, %d refused", len(f.calls), len(f.refused))
			f.mu.Unlock()
			f.t.FailNow()
		}
	}
}

func (f *fakeDiscord) snapshot() (calls, refused []restCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]restCall(nil), f.calls...), append([]restCall(nil), f.refused...)
}

// rateLimit makes the next n calls to routes starting with "METHOD /path"
// answer 429 with retry_after seconds.
func (f *fakeDiscord) rateLimit(route string, n int, retryAfter float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits[route] = &rateLimit{remaining: n, retryAfter: retryAfter}
}

func is(method, prefix string) func(restCall) bool {
	return func(c restCall) bool { return c.Method == method && strings.HasPrefix(c.Path, prefix) }
}

// limited answers 429 to rate limited routes, as Discord does: JSON body
// with retry_after in seconds, and the bucket headers.
func (f *fakeDiscord) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		var rl *rateLimit
		for route, l := range f.limits {
			method, prefix, _ := strings.Cut(route, " ")
			if r.Method == method && strings.HasPrefix(r.URL.Path, prefix) && l.remaining > 0 {
				l.remaining--
				rl = l
				break
			}
		}
		if rl != nil {
			body, _ := io.ReadAll(r.Body)
			f.refused = append(f.refused, restCall{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body, Status: 429})
			f.notify()
		}
		f.mu.Unlock()
		if rl == nil {
			next.ServeHTTP(w, r)
			return
		}
		secs := fmt.Sprintf("%.3f", rl.retryAfter)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", secs)
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset-After", secs)
		w.Header().Set("X-RateLimit-Bucket", "fake-bucket")
		w.Header().Set("X-RateLimit-Scope", "user")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"message":"You are being rate limited.","retry_after":%s,"global":false}`, secs)
	})
}

// bot requires the bot's token.
func (f *fakeDiscord) bot(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+f.token {
			f.refuse(w, r, nil, http.StatusUnauthorized, `{"message":"401: Unauthorized","code":0}`)
			return
		}
		next(w, r)
	}
}

func (f *fakeDiscord) refuse(w http.ResponseWriter, r *http.Request, body []byte, status int, msg string) {
	f.mu.Lock()
	f.refused = append(f.refused, restCall{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body, Status: status})
	f.notify()
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

// accept records a call and answers it.
func (f *fakeDiscord) accept(w http.ResponseWriter, r *http.Request, body []byte, status int, reply any) {
	f.mu.Lock()
	f.calls = append(f.calls, restCall{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body, Status: status})
	f.notify()
	f.mu.Unlock()
	if reply == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(reply)
}

func (f *fakeDiscord) gatewayURL(w http.ResponseWriter, r *http.Request) {
	url := "ws://" + f.srv.Listener.Addr().String() + "/gw"
	f.accept(w, r, nil, http.StatusOK, map[string]any{
		"url": url, "shards": 1,
		"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
	})
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return b
}

func (f *fakeDiscord) interactionCallback(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	var cb struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		f.refuse(w, r, body, 400, `{"code":50109,"message":"The request body contains invalid JSON."}`)
		return
	}
	switch cb.Type {
	case 1, 5, 6:
	case 4, 7:
		if err := checkMessage(cb.Data, true); err != nil {
			f.t.Errorf("interaction response breaks Discord's rules: %v\n%s", err, body)
			f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
			return
		}
	case 8:
		if err := checkChoices(cb.Data); err != nil {
			f.t.Errorf("autocomplete response breaks Discord's rules: %v", err)
			f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
			return
		}
	default:
		f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
		return
	}
	token := r.PathValue("token")
	f.mu.Lock()
	dup := f.acked[token]
	f.acked[token] = true
	f.mu.Unlock()
	if dup {
		f.refuse(w, r, body, 400, `{"code":40060,"message":"Interaction has already been acknowledged."}`)
		return
	}
	f.accept(w, r, body, http.StatusNoContent, nil)
}

// message is the reply to a message created in channel, with a new id.
func (f *fakeDiscord) message(channel string) map[string]any {
	f.mu.Lock()
	id := fmt.Sprintf("99%016d", len(f.posted)+1)
	f.posted[id] = channel
	f.mu.Unlock()
	return map[string]any{"id": id, "channel_id": channel, "type": 0, "content": "", "timestamp": time.Now().UTC().Format(time.RFC3339)}
}

func (f *fakeDiscord) webhookEdit(w http.ResponseWriter, r *http.Request) {
	f.webhook(w, r, false)
}

func (f *fakeDiscord) webhookExecute(w http.ResponseWriter, r *http.Request) {
	f.webhook(w, r, true)
}

func (f *fakeDiscord) webhook(w http.ResponseWriter, r *http.Request, create bool) {
	body := readBody(r)
	if r.PathValue("app") != f.appID {
		f.refuse(w, r, body, 404, `{"code":10015,"message":"Unknown Webhook"}`)
		return
	}
	f.mu.Lock()
	acked := f.acked[r.PathValue("token")]
	f.mu.Unlock()
	if !acked {
		f.refuse(w, r, body, 404, `{"code":10015,"message":"Unknown Webhook"}`)
		return
	}
	if err := checkMessage(body, create); err != nil {
		f.t.Errorf("webhook message breaks Discord's rules: %v\n%s", err, body)
		f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
		return
	}
	f.accept(w, r, body, http.StatusOK, f.message("webhook"))
}

func (f *fakeDiscord) channelMessage(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	json.Unmarshal(body, &nonce)
	if len(nonce.Nonce) > 25 {
		f.t.Errorf("nonce %q is over 25 characters", nonce.Nonce)
		f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
		return
	}
	if err := checkMessage(body, true); err != nil {
		f.t.Errorf("channel message breaks Discord's rules: %v\n%s", err, body)
		f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
		return
	}
	f.accept(w, r, body, http.StatusOK, f.message(r.PathValue("id")))
}

// channelHistory lists a channel's latest messages, newest first: those
// posted to it through the fake.
func (f *fakeDiscord) channelHistory(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 1 && n <= 100 {
		limit = n
	}
	path := "/channels/" + r.PathValue("id") + "/messages"
	f.mu.Lock()
	msgs := []map[string]any{}
	for i := len(f.calls) - 1; i >= 0 && len(msgs) < limit; i-- {
		c := f.calls[i]
		if c.Method != http.MethodPost || c.Path != path {
			continue
		}
		var m map[string]any
		json.Unmarshal(c.Body, &m)
		delete(m, "nonce") // Discord does not list nonces
		delete(m, "enforce_nonce")
		m["id"], m["channel_id"], m["type"] = fmt.Sprintf("98%016d", i), r.PathValue("id"), 0
		m["author"] = map[string]any{"id": f.botID, "username": "explainer", "bot": true}
		msgs = append(msgs, m)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(msgs)
}

func (f *fakeDiscord) commands(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	var cmds []map[string]any
	if err := json.Unmarshal(body, &cmds); err != nil {
		f.refuse(w, r, body, 400, `{"code":50035,"message":"Invalid Form Body"}`)
		return
	}
	for i, c := range cmds {
		c["id"] = fmt.Sprintf("97000000000000000%d", i)
		c["application_id"] = r.PathValue("app")
		c["version"] = "1"
		if g := r.PathValue("guild"); g != "" {
			c["guild_id"] = g
		}
	}
	f.accept(w, r, body, http.StatusOK, cmds)
}

// Gateway.

type gwConn struct {
	mu sync.Mutex
	c  *websocket.Conn
}

func (g *gwConn) send(v any) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.c.WriteJSON(v)
}

type gwPayload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

// privileged are the intents an unverified bot is refused without
// enabling them: guild members, presences, message content.
const privileged = 1<<1 | 1<<8 | 1<<15

func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("encoding") != "json" {
		http.Error(w, "encoding=json expected", http.StatusBadRequest)
		return
	}
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	gc := &gwConn{c: c}
	defer c.Close()
	f.mu.Lock()
	f.dialed++
	f.notify()
	silent := f.silent
	f.mu.Unlock()
	if silent {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}
	gc.send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": f.heartbeatMS}})

	closeWith := func(code int, text string) {
		gc.mu.Lock()
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		gc.mu.Unlock()
	}
	// Handshake: IDENTIFY, or RESUME of the last session.
	for done := false; !done; {
		var first gwPayload
		if err := c.ReadJSON(&first); err != nil {
			return
		}
		f.mu.Lock()
		switch first.Op {
		case 1:
			gc.send(map[string]any{"op": 11})
		case 2:
			var id identify
			json.Unmarshal(first.D, &id)
			f.identifies = append(f.identifies, id)
			f.notify()
			if strings.TrimPrefix(id.Token, "Bot ") != f.token {
				f.mu.Unlock()
				closeWith(4004, "Authentication failed.")
				return
			}
			if id.Intents&privileged != 0 {
				f.mu.Unlock()
				closeWith(4014, "Disallowed intent(s).")
				return
			}
			f.sessions++
			f.session = fmt.Sprintf("session-%d", f.sessions)
			f.seq = 1
			f.events = nil
			gc.send(map[string]any{"op": 0, "t": "READY", "s": f.seq, "d": map[string]any{
				"v": 10, "session_id": f.session, "resume_gateway_url": "ws://" + f.srv.Listener.Addr().String() + "/gw",
				"user":        map[string]any{"id": f.botID, "username": "explainer", "discriminator": "0", "bot": true},
				"guilds":      []any{map[string]any{"id": "800000000000000001", "unavailable": true}},
				"application": map[string]any{"id": f.appID, "flags": 0},
			}})
			f.readies = append(f.readies, "READY")
			done = true
		case 6:
			var rs resume
			json.Unmarshal(first.D, &rs)
			f.resumes = append(f.resumes, rs)
			f.notify()
			if rs.SessionID != f.session || rs.Seq > f.seq || strings.TrimPrefix(rs.Token, "Bot ") != f.token {
				// Not resumable: Invalid Session (d=false), then IDENTIFY.
				gc.send(map[string]any{"op": 9, "d": false})
				break
			}
			// Replay what the bot missed, then RESUMED.
			for _, e := range f.events {
				if *e.S > rs.Seq {
					gc.send(e)
				}
			}
			f.seq++
			gc.send(map[string]any{"op": 0, "t": "RESUMED", "s": f.seq, "d": map[string]any{}})
			f.readies = append(f.readies, "RESUMED")
			done = true
		default:
			f.mu.Unlock()
			closeWith(4003, "Not authenticated.")
			return
		}
		if done {
			f.conn = gc
			f.notify()
		}
		f.mu.Unlock()
	}

	for {
		var p gwPayload
		if err := c.ReadJSON(&p); err != nil {
			f.mu.Lock()
			if f.conn == gc {
				f.conn = nil
				f.notify()
			}
			f.mu.Unlock()
			return
		}
		if p.Op == 1 {
			f.mu.Lock()
			f.heartbeats++
			f.notify()
			f.mu.Unlock()
			gc.send(map[string]any{"op": 11})
		}
	}
}

// connected waits for the n-th READY or RESUMED.
func (f *fakeDiscord) connected(n int) string {
	f.t.Helper()
	return waitUntil(f, func() (string, bool) {
		if len(f.readies) >= n && f.conn != nil {
			return f.readies[n-1], true
		}
		return "", false
	})
}

// dispatch sends an event to the bot: at once when it is connected, else
// when it resumes, as Discord does.
func (f *fakeDiscord) dispatch(event string, d any) {
	f.t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	s := f.seq
	e := gwPayload{Op: 0, T: event, S: &s, D: data}
	f.events = append(f.events, e)
	if f.conn != nil {
		f.conn.send(e) // on failure, the bot resumes and gets it then
	}
}

// reconnect asks the bot to reconnect (op 7), as Discord does before it
// moves a session.
func (f *fakeDiscord) reconnect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.send(map[string]any{"op": 7, "d": nil})
	}
}

// drop cuts the connection without a close frame.
func (f *fakeDiscord) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.c.NetConn().Close()
	}
}

// Discord's rules for messages, checked on the wire JSON.

type wireMessage struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Fields      []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
		Footer *struct {
			Text string `json:"text"`
		} `json:"footer"`
		Author *struct {
			Name string `json:"name"`
		} `json:"author"`
	} `json:"embeds"`
	Components []struct {
		Type       int `json:"type"`
		Components []struct {
			Type     int    `json:"type"`
			Style    int    `json:"style"`
			Label    string `json:"label"`
			CustomID string `json:"custom_id"`
			Emoji    *struct {
				Name string `json:"name"`
			} `json:"emoji"`
		} `json:"components"`
	} `json:"components"`
	Flags int `json:"flags"`
}

// checkMessage reports the first of Discord's message rules data breaks.
// A new message must show something; an edit may change anything.
func checkMessage(data []byte, create bool) error {
	var m wireMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("not a message: %w", err)
	}
	if units(m.Content) > 2000 {
		return fmt.Errorf("content is %d characters, over 2000", units(m.Content))
	}
	if create && m.Content == "" && len(m.Embeds) == 0 {
		return fmt.Errorf("empty message")
	}
	if len(m.Embeds) > 10 {
		return fmt.Errorf("%d embeds, over 10", len(m.Embeds))
	}
	total := 0
	for i, e := range m.Embeds {
		if units(e.Title) > 256 {
			return fmt.Errorf("embed %d: title over 256", i)
		}
		if units(e.Description) > 4096 {
			return fmt.Errorf("embed %d: description is %d, over 4096", i, units(e.Description))
		}
		if len(e.Fields) > 25 {
			return fmt.Errorf("embed %d: %d fields, over 25", i, len(e.Fields))
		}
		total += units(e.Title) + units(e.Description)
		for _, fl := range e.Fields {
			if fl.Name == "" || fl.Value == "" || units(fl.Name) > 256 || units(fl.Value) > 1024 {
				return fmt.Errorf("embed %d: field %q: name 1-256, value 1-1024", i, fl.Name)
			}
			total += units(fl.Name) + units(fl.Value)
		}
		if e.Footer != nil {
			if units(e.Footer.Text) > 2048 {
				return fmt.Errorf("embed %d: footer over 2048", i)
			}
			total += units(e.Footer.Text)
		}
		if e.Author != nil {
			total += units(e.Author.Name)
		}
	}
	if total > 6000 {
		return fmt.Errorf("embeds total %d characters, over 6000", total)
	}
	if len(m.Components) > 5 {
		return fmt.Errorf("%d action rows, over 5", len(m.Components))
	}
	ids := make(map[string]bool)
	for _, row := range m.Components {
		if row.Type != 1 || len(row.Components) == 0 || len(row.Components) > 5 {
			return fmt.Errorf("an action row holds 1-5 components")
		}
		for _, b := range row.Components {
			if b.Type != 2 {
				return fmt.Errorf("component type %d, want button", b.Type)
			}
			if b.Label == "" && b.Emoji == nil {
				return fmt.Errorf("button needs a label or an emoji")
			}
			if units(b.Label) > 80 {
				return fmt.Errorf("button label %q over 80", b.Label)
			}
			if b.CustomID == "" || len(b.CustomID) > 100 {
				return fmt.Errorf("button custom_id %q: 1-100 characters", b.CustomID)
			}
			if ids[b.CustomID] {
				return fmt.Errorf("custom_id %q used twice", b.CustomID)
			}
			ids[b.CustomID] = true
		}
	}
	return nil
}

func checkChoices(data []byte) error {
	var d struct {
		Choices []struct {
			Name  string `json:"name"`
			Value any    `json:"value"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	if d.Choices == nil {
		return fmt.Errorf("choices missing")
	}
	if len(d.Choices) > 25 {
		return fmt.Errorf("%d choices, over 25", len(d.Choices))
	}
	for _, c := range d.Choices {
		v, ok := c.Value.(string)
		if !ok || c.Name == "" || units(c.Name) > 100 || units(v) > 100 {
			return fmt.Errorf("choice %q: name and value 1-100 characters", c.Name)
		}
	}
	return nil
}
