package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
)

// dayDigest is a digest as the composer makes it, fixed here so that the
// golden files change only when the rendering does.
func dayDigest(summary string) digest.Digest {
	return digest.Digest{
		Date: digest.Date{Year: 2025, Month: time.January, Day: 27}, Day: "2025-01-27",
		Title: "Daily brief for Monday 27 January 2025", Topic: "the DeepSeek shock to Nvidia & the *chip* debate",
		Summary: summary,
		Headline: digest.Headline{Entry: "overview", Title: "What is the DeepSeek and Nvidia story about?",
			Lead:    "In short: DeepSeek released V3 and R1, Nvidia shares fell almost 17% (about $600 billion), and a debate followed.",
			Sources: []string{"article, paragraph 1", "article, paragraph 2"}},
		Points: []digest.KeyPoint{
			{Point: bot.Point{Text: "It came right after DeepSeek launched its V3 and R1 AI models.", By: "the article", Standing: bot.StandingFact}, Entry: "selloff", Source: "article, paragraph 1"},
			{Point: bot.Point{Text: "DeepSeek says it had access to about 10,000 of Nvidia's older A100 GPUs.", By: "DeepSeek", Standing: bot.StandingDisputed}, Entry: "deepseek-gpus", Source: "article, paragraph 7"},
			{Point: bot.Point{Text: "Gary Marcus argued that constraints force Chinese firms to innovate.", By: "Gary Marcus", Standing: bot.StandingOpinion}, Entry: "export-controls", Source: "article, paragraph 3"},
		},
		Question: digest.QuestionOfDay{Text: "Who brought up the Jevons paradox?", Entry: "jevons"},
		AskMore:  "Want to know more? Ask me anything about the story: mention me, send me a direct message or use my slash command.",
		Rotation: digest.Rotation{Day: 12, Days: 14},
	}
}

func marshalIndent(t testing.TB, v any) []byte {
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

func TestRenderDigestGolden(t *testing.T) {
	key := digest.Key("discord", testChannel, digest.Date{Year: 2025, Month: time.January, Day: 27})
	for _, c := range []struct {
		name string
		m    message
	}{
		{"digest", renderDigest(dayDigest(""), ref(key))},
		{"digest_summary", renderDigest(dayDigest("Nvidia fell after DeepSeek's launch [p1]; DeepSeek says it used about 10,000 A100s, a disputed figure [p2]."), ref(key))},
		{"digest_now", renderDigest(dayDigest(""), "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := marshalIndent(t, c.m)
			if err := checkMessage(got, true); err != nil {
				t.Fatalf("breaks Discord's rules: %v", err)
			}
			path := filepath.Join("testdata", c.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered %s differs from %s (go test -update to accept):\n%s", c.name, path, got)
			}
			s := string(got)
			for _, want := range []string{"Daily brief for Monday 27 January 2025", "⚠️ **disputed**", "DeepSeek · ⚠️", "Question of the day", `"custom_id": "ask:Who brought up the Jevons paradox?"`, `\\*chip\\*`, "day 12 of 14"} {
				if !strings.Contains(s, want) {
					t.Errorf("digest lacks %q", want)
				}
			}
			if strings.Contains(s, "fb:") {
				t.Error("a digest has feedback buttons")
			}
		})
	}
}

// However long the points, the digest fits one message and says how many
// points it left out.
func TestRenderDigestFitsDiscordsLimits(t *testing.T) {
	d := dayDigest(strings.Repeat("A long summary [p1]. ", 150))
	d.Headline.Lead = strings.Repeat("A long lead. ", 300)
	for i := range 5 {
		d.Points = append(d.Points, digest.KeyPoint{Point: bot.Point{Text: strings.Repeat("word ", 250) + string(rune('a'+i)), By: "someone", Standing: bot.StandingClaim}, Source: "article, paragraph 9"})
	}
	body := marshalIndent(t, renderDigest(d, "0123456789abcdef"))
	if err := checkMessage(body, true); err != nil {
		t.Fatalf("breaks Discord's rules: %v", err)
	}
	if !strings.Contains(string(body), "more points.") || !strings.Contains(string(body), "ref 0123456789abcdef") {
		t.Errorf("no count of the points left out, or no reference:\n%s", body)
	}
}

func TestDigestPosterPostsAndFindsItsPost(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	p := h.a.Poster()
	ctx := context.Background()
	key := digest.Key("discord", testChannel, digest.Date{Year: 2025, Month: time.January, Day: 27})
	if posted, err := p.Posted(ctx, testChannel, key); err != nil || posted {
		t.Fatalf("before posting: Posted = %v, %v", posted, err)
	}
	if err := p.Post(ctx, testChannel, dayDigest(""), key); err != nil {
		t.Fatal(err)
	}
	calls := h.fake.waitFor(1, is(http.MethodPost, "/channels/"+testChannel+"/messages"))
	var body struct {
		Nonce        string `json:"nonce"`
		EnforceNonce bool   `json:"enforce_nonce"`
		Embeds       []struct {
			Footer struct{ Text string } `json:"footer"`
		} `json:"embeds"`
		AllowedMentions struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	json.Unmarshal(calls[0].Body, &body)
	if body.Nonce != ref(key) || len(body.Nonce) > 25 || !body.EnforceNonce || body.Embeds[0].Footer.Text != "Daily brief · 2025-01-27 · ref "+ref(key) || body.AllowedMentions.Parse == nil {
		t.Errorf("posted %s", calls[0].Body)
	}
	if calls[0].Auth != "Bot "+h.fake.token {
		t.Errorf("posted with %q", calls[0].Auth)
	}
	p.PostText(ctx, testChannel, "something else", "another key")
	if posted, err := p.Posted(ctx, testChannel, key); err != nil || !posted {
		t.Errorf("after posting: Posted = %v, %v", posted, err)
	}
	if posted, _ := p.Posted(ctx, testChannel, digest.Key("discord", testChannel, digest.Date{Year: 2025, Month: time.January, Day: 28})); posted {
		t.Error("the next day's key is found")
	}
	if posted, _ := p.Posted(ctx, "700000000000000002", key); posted {
		t.Error("found in another channel")
	}
}

func TestDigestPosterText(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	ctx := context.Background()
	lines := []string{"Since 2025-01-20: 40 declined, 2 marked unhelpful", "@everyone look ```here```"}
	for i := range 100 {
		lines = append(lines, "  3× who is liang wenfeng number "+strings.Repeat("x", i%7)+"?")
	}
	if err := h.a.Poster().PostText(ctx, testChannel, strings.Join(lines, "\n"), "k"); err != nil {
		t.Fatal(err)
	}
	c := h.fake.waitFor(1, is(http.MethodPost, "/channels/"+testChannel+"/messages"))[0]
	var m struct {
		Content         string `json:"content"`
		AllowedMentions struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	json.Unmarshal(c.Body, &m)
	if units(m.Content) > maxContent || !strings.HasPrefix(m.Content, "```\nSince 2025-01-20") || !strings.HasSuffix(m.Content, "\n```\n-# ref "+ref("k")) ||
		!strings.Contains(m.Content, "… (the rest: explainer kb gaps)") || strings.Count(m.Content, "```") != 2 || m.AllowedMentions.Parse == nil {
		t.Errorf("posted %d characters:\n%s", units(m.Content), m.Content)
	}
	if posted, err := h.a.Poster().Posted(ctx, testChannel, "k"); !posted || err != nil {
		t.Errorf("Posted = %v, %v", posted, err)
	}
}

func TestDigestPosterErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		after     time.Duration
	}{
		{"unknown channel", 404, `{"message": "Unknown Channel", "code": 10003}`, true, 0},
		{"no access", 403, `{"message": "Missing Access", "code": 50001}`, true, 0},
		{"no permission", 403, `{"message": "Missing Permissions", "code": 50013}`, true, 0},
		{"rate limited", 429, `{"message": "You are being rate limited.", "retry_after": 30.5, "global": false}`, false, 30500 * time.Millisecond},
		{"server error", 500, `{"message": "Internal Server Error", "code": 0}`, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				mu.Lock()
				calls++
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if tt.status == 429 {
					w.Header().Set("Retry-After", "30.5")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			a, err := New(Config{BotToken: "bot-secret-token", AppID: "900000000000000001", APIURL: srv.URL, MaxRetries: 1}, Deps{Asker: engine(t)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			for _, call := range []func() error{
				func() error { return a.Poster().Post(ctx, testChannel, dayDigest(""), "k") },
				func() error { _, err := a.Poster().Posted(ctx, testChannel, "k"); return err },
			} {
				err := call()
				if err == nil || digest.IsPermanent(err) != tt.permanent {
					t.Fatalf("err = %v, want permanent %v", err, tt.permanent)
				}
				var ra *digest.RetryAfterError
				if tt.after > 0 && (!errors.As(err, &ra) || ra.After != tt.after) {
					t.Errorf("err = %v, want retry after %s", err, tt.after)
				}
				if strings.Contains(err.Error(), "bot-secret-token") {
					t.Errorf("the error shows the token: %v", err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.status != 429 && calls != 2 {
				t.Errorf("%d calls, want one each (the scheduler retries)", calls)
			}
		})
	}
}

// fakeDigests is the digest subscriptions, in memory.
type fakeDigests struct {
	mu   sync.Mutex
	subs map[string]digest.Subscribed
}

func (f *fakeDigests) Subscribe(_ context.Context, platform, channel, at, zone, by string) (digest.Subscribed, error) {
	if at == "" {
		at = "09:00"
	}
	if zone == "" {
		zone = "UTC"
	}
	at, zone, err := digest.CheckSchedule(at, digest.ResolveZone(zone))
	if err != nil {
		return digest.Subscribed{}, &digest.InputError{Err: err}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, had := f.subs[channel]
	next, _ := digest.NextTime(time.Now(), at, zone)
	s := digest.Subscribed{Platform: platform, Channel: channel, At: at, Zone: zone, Created: !had, Next: next}
	f.subs[channel] = s
	return s, nil
}

func (f *fakeDigests) Unsubscribe(_ context.Context, platform, channel string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[channel]; !ok {
		return digest.ErrNotSubscribed
	}
	delete(f.subs, channel)
	return nil
}

func (f *fakeDigests) Today(context.Context, string, string) (digest.Digest, error) {
	return dayDigest(""), nil
}

func (f *fakeDigests) has(channel string) (digest.Subscribed, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.subs[channel]
	return s, ok
}

func digestCmd(h *harness, permissions int64, sub string, opts ...map[string]any) map[string]any {
	if opts == nil {
		opts = []map[string]any{}
	}
	i := h.slash(cmdDigest, map[string]any{"name": sub, "type": 1, "options": opts})
	i["member"].(map[string]any)["permissions"] = strconv.FormatInt(permissions, 10)
	return i
}

func TestDigestSlashCommand(t *testing.T) {
	fd := &fakeDigests{subs: map[string]digest.Subscribed{}}
	h := newHarness(t, harnessOptions{http: true, digests: fd})
	const manage, send = discordgo.PermissionManageChannels, discordgo.PermissionSendMessages

	// Without Manage Channels: refused, privately.
	for _, sub := range []string{subSubscribe, subUnsubscribe} {
		m := h.interact(digestCmd(h, send, sub)).message(t)
		if !strings.Contains(m.Content, "You need the Manage Channels permission") || m.Flags != int(discordgo.MessageFlagsEphemeral) {
			t.Errorf("%s without the permission: %+v", sub, m)
		}
	}
	if _, ok := fd.has(testChannel); ok {
		t.Fatal("subscribed without the permission")
	}
	// Administrators may.
	m := h.interact(digestCmd(h, discordgo.PermissionAdministrator, subSubscribe, strOpt(optTime, "7:05"), strOpt(optTimezone, "berlin"))).message(t)
	if s, ok := fd.has(testChannel); !ok || s.At != "07:05" || s.Zone != "Europe/Berlin" {
		t.Fatalf("subscription %+v", s)
	}
	if !strings.Contains(m.Content, "every day at **07:05** (Europe/Berlin). The next one comes <t:") || m.Flags != int(discordgo.MessageFlagsEphemeral) {
		t.Errorf("subscribe reply %+v", m)
	}
	m = h.interact(digestCmd(h, manage, subSubscribe, strOpt(optTime, "26:00"))).message(t)
	if !strings.Contains(m.Content, `time "26:00": want HH:MM`) || !strings.Contains(m.Content, "/digest subscribe time:08:30 timezone:Europe/Berlin") {
		t.Errorf("bad time: %q", m.Content)
	}
	m = h.interact(digestCmd(h, manage, subSubscribe, strOpt(optTimezone, "Mars/Base"))).message(t)
	if !strings.Contains(m.Content, `time zone "Mars/Base" is unknown`) {
		t.Errorf("bad zone: %q", m.Content)
	}
	if s, _ := fd.has(testChannel); s.At != "07:05" {
		t.Errorf("a refused change changed the subscription: %+v", s)
	}

	// Time zones are suggested as they are typed.
	ac := h.interaction(4, map[string]any{"id": "970000000000000000", "name": cmdDigest, "type": 1, "options": []map[string]any{
		{"name": subSubscribe, "type": 1, "options": []map[string]any{{"name": optTimezone, "type": 3, "value": "new y", "focused": true}}}}})
	cb := h.interact(ac)
	if cb.Type != 8 || !strings.Contains(string(cb.Data), `"value":"America/New_York"`) {
		t.Errorf("autocomplete %d %s", cb.Type, cb.Data)
	}

	// Now: deferred, then the digest edited in.
	cb = h.interact(digestCmd(h, send, subNow))
	if cb.Type != 5 {
		t.Fatalf("now: response type %d, want deferred", cb.Type)
	}
	edit := h.fake.waitFor(1, is(http.MethodPatch, "/webhooks/"))[0]
	if !strings.Contains(string(edit.Body), "Daily brief for Monday 27 January 2025") || !strings.Contains(string(edit.Body), `"custom_id":"ask:Who brought up the Jevons paradox?"`) {
		t.Errorf("now: %s", edit.Body)
	}

	m = h.interact(digestCmd(h, manage, subUnsubscribe)).message(t)
	if !strings.Contains(m.Content, "no longer gets the daily brief") {
		t.Errorf("unsubscribe: %q", m.Content)
	}
	m = h.interact(digestCmd(h, manage, subUnsubscribe)).message(t)
	if !strings.Contains(m.Content, "nothing to stop") {
		t.Errorf("unsubscribe twice: %q", m.Content)
	}
}

func TestDigestSlashCommandWithoutDigests(t *testing.T) {
	h := newHarness(t, harnessOptions{http: true})
	m := h.interact(digestCmd(h, discordgo.PermissionManageChannels, subSubscribe)).message(t)
	if !strings.Contains(m.Content, "Daily digests are not set up") {
		t.Errorf("reply %q", m.Content)
	}
}

func TestDigestCommandIsRegistered(t *testing.T) {
	var cmd *discordgo.ApplicationCommand
	for _, c := range Commands() {
		if c.Name == cmdDigest {
			cmd = c
		}
	}
	if cmd == nil {
		t.Fatal("no /digest among the commands")
	}
	if cmd.DefaultMemberPermissions == nil || *cmd.DefaultMemberPermissions != discordgo.PermissionManageChannels {
		t.Errorf("default member permissions %v, want Manage Channels", cmd.DefaultMemberPermissions)
	}
	var names []string
	for _, o := range cmd.Options {
		names = append(names, o.Name)
		if o.Type != discordgo.ApplicationCommandOptionSubCommand {
			t.Errorf("option %s is not a subcommand", o.Name)
		}
	}
	if strings.Join(names, ",") != "subscribe,unsubscribe,now" {
		t.Errorf("subcommands %v", names)
	}
	zone := cmd.Options[0].Options[1]
	if zone.Name != optTimezone || !zone.Autocomplete || cmd.Options[0].Options[0].Name != optTime {
		t.Errorf("subscribe options %+v %+v", cmd.Options[0].Options[0], zone)
	}
}
