package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/llm/llmtest"
	"github.com/explainerbot/explainer/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// digestKB has one day of rotation: its digest is the same on every date
// but for the date itself.
const digestKB = "testdata/digestkb"

// platformsEnv is serve with Slack over HTTP and Discord over the gateway
// and HTTP interactions, both faked, a database and the small KB.
func platformsEnv(t *testing.T, db string, sl *fakeSlackWeb, dc *fakeDiscordREST, extra ...string) map[string]string {
	env := map[string]string{
		"EXPLAINER_DB": db, "EXPLAINER_KB": digestKB, "EXPLAINER_TZ": "UTC",
		"SLACK_BOT_TOKEN": e2eSlackToken, "SLACK_SIGNING_SECRET": e2eSlackSecret, "SLACK_API_URL": sl.apiURL(),
		"DISCORD_BOT_TOKEN": e2eDiscordToken, "DISCORD_PUBLIC_KEY": dc.publicKey(), "DISCORD_APP_ID": e2eDiscordApp, "DISCORD_API_URL": dc.srv.URL,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// subscribeDueNow subscribes channels, as of yesterday, at the minute
// that has just gone by in UTC: their digest is due when serve starts.
func subscribeDueNow(t *testing.T, db string, subs ...store.Subscription) {
	t.Helper()
	yesterday := time.Now().Add(-24 * time.Hour)
	st, err := store.Open(context.Background(), db, store.Options{Now: func() time.Time { return yesterday }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC().Add(-time.Minute).Format("15:04")
	for _, s := range subs {
		s.At, s.Zone, s.CreatedBy = at, "UTC", "test"
		if _, err := st.Subscribe(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// golden compares got, with the day's date and its reference replaced by
// placeholders, with testdata/name.
func golden(t *testing.T, name string, got []byte, day digest.Date, ref string) {
	t.Helper()
	got = bytes.ReplaceAll(got, []byte(day.Long()), []byte("{{DATE}}"))
	got = bytes.ReplaceAll(got, []byte(day.String()), []byte("{{DAY}}"))
	if ref != "" {
		got = bytes.ReplaceAll(got, []byte(ref), []byte("{{REF}}"))
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update if the change is intended):\n%s", name, path, got)
	}
}

func indentJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var refPattern = regexp.MustCompile(`ref ([0-9a-f]{16})`)

// TestServePostsDigestsOnce: serve with fake Slack and Discord and a
// subscription on each due now posts one digest to each (Block Kit and an
// embed, as in the golden files); serve restarted right after posts none.
func TestServePostsDigestsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve twice: skipped with -short")
	}
	sl, dc := newFakeSlackWeb(t), newFakeDiscordREST(t)
	db := filepath.Join(t.TempDir(), "explainer.db")
	const slackChannel, discordChannel = "C0DIGEST", "700000000000000001"
	subscribeDueNow(t, db,
		store.Subscription{Platform: bot.PlatformSlack, Channel: slackChannel},
		store.Subscription{Platform: bot.PlatformDiscord, Channel: discordChannel})
	env := platformsEnv(t, db, sl, dc)

	start := time.Now()
	r := startServeRun(t, env)
	posted := r.log.wait(t, 2, "digest posted", nil)
	took := time.Since(start)
	slackPosts := sl.wait(t, 1, func(m slackMsg) bool { return m.Channel == slackChannel })
	discordPosts := dc.channelPosts(discordChannel)
	if len(slackPosts) != 1 || len(discordPosts) != 1 {
		t.Fatalf("%d Slack and %d Discord digests, want one each", len(slackPosts), len(discordPosts))
	}
	t.Logf("serve start to both digests posted: %v (%d log lines)", took.Round(time.Millisecond), len(posted))
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// Slack: Block Kit with the key in the message metadata.
	sp := slackPosts[0]
	var meta struct {
		EventType    string `json:"event_type"`
		EventPayload struct {
			Key string `json:"key"`
		} `json:"event_payload"`
	}
	if err := json.Unmarshal([]byte(sp.Metadata), &meta); err != nil || meta.EventType != "explainer_digest" {
		t.Fatalf("Slack digest metadata %q: %v", sp.Metadata, err)
	}
	day, err := digest.ParseDate(meta.EventPayload.Key[strings.LastIndexByte(meta.EventPayload.Key, ':')+1:])
	if err != nil || meta.EventPayload.Key != digest.Key(bot.PlatformSlack, slackChannel, day) {
		t.Fatalf("Slack digest key %q", meta.EventPayload.Key)
	}
	var blocks any
	json.Unmarshal([]byte(sp.Blocks), &blocks)
	golden(t, "serve_digest_slack.golden.json", indentJSON(t, map[string]any{"text": sp.Text, "blocks": blocks, "metadata": json.RawMessage(sp.Metadata)}), day, "")

	// Discord: an embed, the key's reference in its footer and nonce.
	var body map[string]any
	json.Unmarshal(discordPosts[0].Body, &body)
	m := refPattern.FindStringSubmatch(string(discordPosts[0].Body))
	if m == nil || body["nonce"] != m[1] || body["enforce_nonce"] != true {
		t.Fatalf("Discord digest without its reference as footer and nonce: %s", discordPosts[0].Body)
	}
	golden(t, "serve_digest_discord.golden.json", indentJSON(t, body), day, m[1])

	// Restarted at once: the digests are done, nothing is posted again.
	r = startServeRun(t, env)
	r.log.wait(t, 1, "digest sweep done", nil)
	for _, kind := range []string{bot.PlatformSlack, bot.PlatformDiscord} {
		r.log.wait(t, 1, "digest event", func(l map[string]any) bool { return l["kind"] == digest.EventDone && l["platform"] == kind })
	}
	r.stop()
	if n, d := len(sl.sent(func(m slackMsg) bool { return m.Channel == slackChannel })), len(dc.channelPosts(discordChannel)); n != 1 || d != 1 {
		t.Errorf("after a restart: %d Slack and %d Discord digests, want still one each", n, d)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, k := range []store.DigestKey{{Platform: "slack", Channel: slackChannel, Day: day.String()}, {Platform: "discord", Channel: discordChannel, Day: day.String()}} {
		if rec, err := st.Digest(context.Background(), k); err != nil || rec.State != store.StateSent || rec.Attempts != 1 {
			t.Errorf("%s: %+v %v, want sent at the first attempt", k, rec, err)
		}
	}
}

// queryDB runs a query on the database file, as a curator with sqlite3
// would.
func queryDB(t *testing.T, db, query string, args ...any) [][]any {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	return out
}

// TestServeRemembers: feedback, the question log and Slack's event ids
// go to the store, and survive a restart.
func TestServeRemembers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve twice: skipped with -short")
	}
	sl, dc := newFakeSlackWeb(t), newFakeDiscordREST(t)
	db := filepath.Join(t.TempDir(), "explainer.db")
	env := platformsEnv(t, db, sl, dc)
	r := startServeRun(t, env)

	// /readyz asks the store.
	res, err := http.Get(r.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct{ Checks map[string]string }
	json.NewDecoder(res.Body).Decode(&ready)
	res.Body.Close()
	if ready.Checks["store"] != "ok" {
		t.Errorf("/readyz checks %v, want the store ok", ready.Checks)
	}

	// A question from the API and one from Slack.
	const question = "did deepseek really use fewer gpus"
	if code, body := r.post("/api/ask", "application/json", []byte(`{"question": "`+question+`?"}`), nil); code != 200 || !strings.Contains(body, `"answered":true`) {
		t.Fatalf("POST /api/ask: %d %s", code, body)
	}
	if code := slackEvent(r, "EvE2E1", "C1", "UANA", "1700000500.000100", question+"?"); code != 200 {
		t.Fatalf("Slack event: %d", code)
	}
	answer := sl.wait(t, 1, func(m slackMsg) bool { return m.Thread == "1700000500.000100" })[0]

	// 👍 on the Slack answer; 👎 on a Discord one, whose buttons show.
	vote := buttonValueOf(t, answer.Blocks, "vote:up")
	if code := slackClick(r, sl, "UBEN", "C1", answer.TS, "vote:up", vote, "71"); code != 200 {
		t.Fatalf("click: %d", code)
	}
	sl.wait(t, 1, func(m slackMsg) bool { return m.Method == "chat.postEphemeral" && strings.Contains(m.Text, "Thanks") })
	_, body := dc.interact(r, interaction("5001", 2, 0, `{"id":"97","name":"ask","type":1,"options":[{"name":"question","type":3,"value":"`+question+`?"}]}`, ""))
	if !strings.Contains(body, `"custom_id":"fb:y:gpus"`) || !strings.Contains(body, `"custom_id":"fb:n:gpus"`) {
		t.Fatalf("Discord answer without 👍/👎 buttons: %s", body)
	}
	dc.interact(r, interaction("5003", 2, 0, `{"id":"97","name":"explain","type":1,"options":[{"name":"topic","type":3,"value":"Liang Wenfeng"}]}`, ""))
	_, body = dc.interact(r, interaction("5002", 3, 0, `{"custom_id":"fb:n:gpus","component_type":2}`,
		`,"message":{"id":"5555","channel_id":"7001","embeds":[{"title":"`+question+`?"}]}`))
	if !strings.Contains(body, "not helpful") {
		t.Errorf("Discord 👎: %s", body)
	}
	r.stop()

	rows := queryDB(t, db, `SELECT platform, channel, user, question, entries, helpful FROM feedback ORDER BY id`)
	want := [][]any{
		{"slack", "C1", "", question + "?", `["gpus"]`, int64(1)},
		{"discord", "7001", "", question + "?", `["gpus"]`, int64(0)},
	}
	if len(rows) != len(want) {
		t.Fatalf("feedback rows %v, want %v", rows, want)
	}
	for i := range want {
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("feedback row %d column %d = %v, want %v", i, j, rows[i][j], want[i][j])
			}
		}
	}
	qs := queryDB(t, db, `SELECT platform, user, answered, entries, question FROM questions ORDER BY id`)
	platforms := map[string]bool{}
	for _, q := range qs {
		if q[4] == "Liang Wenfeng" {
			if q[0] != "discord" || q[2] != int64(0) {
				t.Errorf("/explain of a topic the KB lacks logged as %v, want declined on discord", q)
			}
			platforms["explain"] = true
			continue
		}
		platforms[q[0].(string)] = true
		if q[1] != "" || q[2] != int64(1) || q[3] != `["gpus"]` {
			t.Errorf("question log row %v: want no user id, answered from gpus", q)
		}
	}
	if !platforms["api"] || !platforms["slack"] || !platforms["discord"] || !platforms["explain"] || len(qs) != 4 {
		t.Errorf("question log %v, want the API's, Slack's and Discord's question and Discord's /explain", qs)
	}

	// Slack delivers the event again after a restart: it is not answered
	// twice.
	r = startServeRun(t, env)
	if code := slackEvent(r, "EvE2E1", "C1", "UANA", "1700000500.000100", question+"?", "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout"); code != 200 {
		t.Fatalf("retried event: %d", code)
	}
	r.stop() // lets anything accepted finish first
	if n := len(sl.sent(func(m slackMsg) bool { return m.Thread == "1700000500.000100" && m.Method == "chat.postMessage" })); n != 1 {
		t.Errorf("%d answers to the event delivered before and after a restart, want 1", n)
	}
}

// buttonValueOf finds the value of the button with actionID in Block Kit.
func buttonValueOf(t *testing.T, blocks, actionID string) string {
	t.Helper()
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
		Accessory *struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"accessory"`
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
		if b.Accessory != nil && b.Accessory.ActionID == actionID {
			return b.Accessory.Value
		}
	}
	t.Fatalf("no button %q in %s", actionID, blocks)
	return ""
}

// TestServeDigestCommands: the Slack and Discord digest commands through
// serve, with who may use them.
func TestServeDigestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve: skipped with -short")
	}
	sl, dc := newFakeSlackWeb(t), newFakeDiscordREST(t)
	db := filepath.Join(t.TempDir(), "explainer.db")
	r := startServeRun(t, platformsEnv(t, db, sl, dc, "SLACK_ADMIN_USERS", "UADMIN", "EXPLAINER_TZ", "Europe/Berlin"))
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	reply := func(trigger string) slackMsg {
		t.Helper()
		m := sl.wait(t, 1, func(m slackMsg) bool { return m.Path == "/response/"+trigger })[0]
		if m.ResponseType != "ephemeral" {
			t.Errorf("reply to %s is %q, want ephemeral", trigger, m.ResponseType)
		}
		return m
	}
	// Slack: only the admin may subscribe.
	slackCommand(r, sl, "digest subscribe 07:15", "C0SUB", "UANA", "s1")
	if m := reply("s1"); !strings.Contains(m.Text, "Only the digest admins") {
		t.Errorf("non-admin subscribe: %q", m.Text)
	}
	if _, err := st.Subscription(ctx, "slack", "C0SUB"); err == nil {
		t.Fatal("a non-admin subscribed the channel")
	}
	slackCommand(r, sl, "digest subscribe 25:99", "C0SUB", "UADMIN", "s2")
	if m := reply("s2"); !strings.Contains(m.Text, `time "25:99": want HH:MM`) {
		t.Errorf("bad time: %q", m.Text)
	}
	slackCommand(r, sl, "digest subscribe 07:15", "C0SUB", "UADMIN", "s3")
	if m := reply("s3"); !strings.Contains(m.Text, "every day at *07:15* (Europe/Berlin)") {
		t.Errorf("subscribe: %q", m.Text)
	}
	if sub, err := st.Subscription(ctx, "slack", "C0SUB"); err != nil || sub.At != "07:15" || sub.Zone != "Europe/Berlin" || sub.CreatedBy != "UADMIN" {
		t.Errorf("subscription %+v %v", sub, err)
	}
	slackCommand(r, sl, "digest list", "C0SUB", "UANA", "s4")
	if m := reply("s4"); !strings.Contains(m.Text, "<#C0SUB> at 07:15 Europe/Berlin, next ") {
		t.Errorf("list: %q", m.Text)
	}
	slackCommand(r, sl, "digest now", "C0SUB", "UANA", "s5")
	if m := reply("s5"); !strings.Contains(m.Blocks, "Daily brief for") || !strings.Contains(m.Blocks, "Did DeepSeek really use fewer GPUs?") {
		t.Errorf("now: %s", m.Blocks)
	}
	slackCommand(r, sl, "digest unsubscribe", "C0SUB", "UANA", "s6")
	if m := reply("s6"); !strings.Contains(m.Text, "Only the digest admins") {
		t.Errorf("non-admin unsubscribe: %q", m.Text)
	}
	slackCommand(r, sl, "digest unsubscribe", "C0SUB", "UADMIN", "s7")
	if m := reply("s7"); !strings.Contains(m.Text, "no longer gets the daily digest") {
		t.Errorf("unsubscribe: %q", m.Text)
	}
	if _, err := st.Subscription(ctx, "slack", "C0SUB"); err == nil {
		t.Error("still subscribed")
	}

	// Discord: Manage Channels is needed to subscribe; time zones are
	// suggested.
	const manage, send = 1 << 4, 1 << 11
	sub := func(id string, perms int64, options string) (int, string) {
		return dc.interact(r, interaction(id, 2, perms, `{"id":"98","name":"digest","type":1,"options":[{"name":"subscribe","type":1,"options":[`+options+`]}]}`, ""))
	}
	if _, body := sub("6001", send, `{"name":"time","type":3,"value":"08:30"}`); !strings.Contains(body, "You need the Manage Channels permission") || !strings.Contains(body, `"flags":64`) {
		t.Errorf("subscribe without Manage Channels: %s", body)
	}
	if _, err := st.Subscription(ctx, "discord", "7001"); err == nil {
		t.Fatal("a member without Manage Channels subscribed the channel")
	}
	if _, body := sub("6002", manage, `{"name":"timezone","type":3,"value":"Mars/Base"}`); !strings.Contains(body, `time zone \"Mars/Base\" is unknown`) {
		t.Errorf("bad zone: %s", body)
	}
	_, body := sub("6003", manage, `{"name":"time","type":3,"value":"08:30"},{"name":"timezone","type":3,"value":"tokyo"}`)
	if !strings.Contains(body, "every day at **08:30** (Asia/Tokyo)") || !strings.Contains(body, `\u003ct:`) || !strings.Contains(body, `"flags":64`) {
		t.Errorf("subscribe: %s", body)
	}
	if s, err := st.Subscription(ctx, "discord", "7001"); err != nil || s.At != "08:30" || s.Zone != "Asia/Tokyo" {
		t.Errorf("subscription %+v %v", s, err)
	}
	_, body = dc.interact(r, interaction("6004", 4, manage, `{"id":"98","name":"digest","type":1,"options":[{"name":"subscribe","type":1,"options":[{"name":"timezone","type":3,"value":"new y","focused":true}]}]}`, ""))
	if !strings.Contains(body, `"type":8`) || !strings.Contains(body, `"value":"America/New_York"`) {
		t.Errorf("time zone autocomplete: %s", body)
	}
	_, body = dc.interact(r, interaction("6005", 2, send, `{"id":"98","name":"digest","type":1,"options":[{"name":"now","type":1}]}`, ""))
	if body != `{"type":5}` {
		t.Errorf("now: %s, want a deferred response", body)
	}
	edit := dc.waitCalls(t, 1, func(c discordCall) bool { return c.Method == http.MethodPatch && strings.Contains(c.Path, "tok-6005") })[0]
	if !strings.Contains(string(edit.Body), "Daily brief for") || !strings.Contains(string(edit.Body), `"custom_id":"ask:Did DeepSeek really use fewer GPUs?"`) {
		t.Errorf("now: %s", edit.Body)
	}
	if _, body := dc.interact(r, interaction("6006", 2, send, `{"id":"98","name":"digest","type":1,"options":[{"name":"unsubscribe","type":1}]}`, "")); !strings.Contains(body, "Manage Channels") {
		t.Errorf("unsubscribe without Manage Channels: %s", body)
	}
	if _, body := dc.interact(r, interaction("6007", 2, manage, `{"id":"98","name":"digest","type":1,"options":[{"name":"unsubscribe","type":1}]}`, "")); !strings.Contains(body, "no longer gets the daily brief") {
		t.Errorf("unsubscribe: %s", body)
	}
	if _, err := st.Subscription(ctx, "discord", "7001"); err == nil {
		t.Error("still subscribed")
	}
	r.stop()
}

// summarizer is a model that summarises the points it is given: a
// faithful sentence on the point about A100s, citing it by its id, and
// optionally an invented one.
func summarizer(invent string) llmtest.Handler {
	return func(w http.ResponseWriter, r *http.Request, req llmtest.Request, n int) {
		var brief struct {
			Question string
			Points   []struct{ ID, Text string }
		}
		json.Unmarshal([]byte(req.Messages[len(req.Messages)-1].Content), &brief)
		text := ""
		for _, p := range brief.Points {
			if strings.Contains(p.Text, "A100") {
				text = "DeepSeek says it had about 10,000 older Nvidia A100 GPUs [" + p.ID + "]. "
			}
		}
		llmtest.WriteJSON(w, req.Model, text+invent, "stop")
	}
}

// With the LLM on, the digest gets a short summary on top when the
// grounding guard passes it, and goes out without one when it does not.
// Only the digest's points reach the model: vetting the questions of the
// day does not.
func TestServeDigestSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve: skipped with -short")
	}
	for _, tt := range []struct {
		name, invent string
		summary      bool
	}{
		{"grounded", "", true},
		{"invented", "Nvidia will sell 50,000 H100s to DeepSeek next year [p1].", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			model := llmtest.New(t, summarizer(tt.invent))
			sl, dc := newFakeSlackWeb(t), newFakeDiscordREST(t)
			db := filepath.Join(t.TempDir(), "explainer.db")
			subscribeDueNow(t, db, store.Subscription{Platform: bot.PlatformSlack, Channel: "C0SUM"})
			r := startServeRun(t, platformsEnv(t, db, sl, dc, "LLM_BASE_URL", model.URL(), "LLM_MODEL", "test-model"))
			post := sl.wait(t, 1, func(m slackMsg) bool { return m.Channel == "C0SUM" })[0]
			r.stop()
			const faithful = "DeepSeek says it had about 10,000 older Nvidia A100 GPUs [p"
			if got := strings.Contains(post.Blocks, faithful); got != tt.summary {
				t.Errorf("summary shown %v, want %v:\n%s", got, tt.summary, post.Blocks)
			}
			if strings.Contains(post.Blocks, "50,000") {
				t.Error("the invented sentence was posted")
			}
			if !strings.Contains(post.Blocks, "Question of the day") {
				t.Errorf("the digest is not whole:\n%s", post.Blocks)
			}
			if n := model.Calls(); n != 1 || !strings.Contains(model.Request(t, 0).Req.Messages[1].Content, digestQuestion) {
				t.Errorf("%d model calls, want one, for the digest", n)
			}
		})
	}
}
