package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/digest"
	"github.com/explainerbot/explainer/store"
)

// dayDigest is a digest as the composer makes it, fixed here so that the
// golden files change only when the rendering does.
func dayDigest(summary string) digest.Digest {
	return digest.Digest{
		Date: digest.Date{Year: 2025, Month: time.January, Day: 27}, Day: "2025-01-27",
		Title: "Daily brief for Monday 27 January 2025", Topic: "the DeepSeek shock to Nvidia & the chip debate",
		Summary: summary,
		Headline: digest.Headline{Entry: "overview", Title: "What is the DeepSeek and Nvidia story about?",
			Lead:    "In short: DeepSeek released V3 and R1, Nvidia shares fell almost 17% <about $600 billion>, and a debate followed.",
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

func TestRenderDigestGolden(t *testing.T) {
	cases := []struct {
		name string
		d    digest.Digest
	}{
		{"digest", dayDigest("")},
		{"digest_summary", dayDigest("Nvidia fell after DeepSeek's launch [p1]; DeepSeek says it used about 10,000 A100s, a disputed figure [p2].")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := renderDigest(c.d)
			checkLimits(t, []Message{m})
			got := marshalMessages(t, []Message{m})
			path := filepath.Join("testdata", c.name+".golden.json")
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
				t.Errorf("%s differs from %s (run go test -update if the change is intended):\n%s", c.name, path, got)
			}
			blocks := string(got)
			for _, want := range []string{"Daily brief for Monday 27 January 2025", ":warning: *disputed*", "_— DeepSeek_", "Question of the day", `"action_id": "ask:0"`, "&lt;about $600 billion&gt;", "day 12 of 14"} {
				if !strings.Contains(blocks, want) {
					t.Errorf("digest lacks %q", want)
				}
			}
		})
	}
}

func TestDigestPosterPostsAndFindsItsPost(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	p := h.a.Poster()
	ctx := context.Background()
	key := digest.Key("slack", "C1", digest.Date{Year: 2025, Month: time.January, Day: 27})
	if posted, err := p.Posted(ctx, "C1", key); err != nil || posted {
		t.Fatalf("before posting: Posted = %v, %v", posted, err)
	}
	if err := p.Post(ctx, "C1", dayDigest(""), key); err != nil {
		t.Fatal(err)
	}
	got := h.slack.next(t)
	if got.Method != "chat.postMessage" || got.Channel != "C1" || got.ThreadTS != "" || got.Text != "Daily brief for Monday 27 January 2025" {
		t.Errorf("posted %+v", got)
	}
	want, _ := json.Marshal(slackapi.SlackMetadata{EventType: "explainer_digest", EventPayload: map[string]any{"key": key}})
	if got.Metadata != string(want) {
		t.Errorf("metadata %s, want %s", got.Metadata, want)
	}
	// Other messages come after it; it is still found.
	h.a.Poster().PostText(ctx, "C1", "something else", "another-key")
	if posted, err := p.Posted(ctx, "C1", key); err != nil || !posted {
		t.Errorf("after posting: Posted = %v, %v", posted, err)
	}
	if posted, _ := p.Posted(ctx, "C1", digest.Key("slack", "C1", digest.Date{Year: 2025, Month: time.January, Day: 28})); posted {
		t.Error("the next day's key is found")
	}
	if posted, _ := p.Posted(ctx, "C2", key); posted {
		t.Error("found in another channel")
	}
}

func TestDigestPosterPlainText(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if err := h.a.Poster().PostText(context.Background(), "CCUR", "Since 2025-01-20: 3 declined\n  3× who is <Liang Wenfeng>?\n", "explainer-curator:slack:CCUR:2025-01-27"); err != nil {
		t.Fatal(err)
	}
	got := h.slack.next(t)
	if got.Text != "```\nSince 2025-01-20: 3 declined\n  3× who is &lt;Liang Wenfeng&gt;?\n```" || got.Blocks != "" {
		t.Errorf("posted text %q blocks %q, want the text escaped in a code block", got.Text, got.Blocks)
	}
	if posted, err := h.a.Poster().Posted(context.Background(), "CCUR", "explainer-curator:slack:CCUR:2025-01-27"); !posted || err != nil {
		t.Errorf("Posted = %v, %v", posted, err)
	}
}

func TestDigestPosterErrors(t *testing.T) {
	tests := []struct {
		name      string
		channel   string
		reply     func(w http.ResponseWriter)
		permanent bool
		after     time.Duration
	}{
		{"not in channel", "CNOTIN", nil, true, 0},
		{"channel gone", "C1", slackError("channel_not_found"), true, 0},
		{"archived", "C1", slackError("is_archived"), true, 0},
		{"bot deactivated", "C1", slackError("account_inactive"), true, 0},
		{"token refused", "C1", slackError("invalid_auth"), true, 0},
		{"rate limited", "C1", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		}, false, 30 * time.Second},
		{"server error", "C1", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }, false, 0},
		{"fatal error", "C1", slackError("fatal_error"), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			if tt.reply != nil {
				h.slack.setPostHook(func(w http.ResponseWriter, method string, n int) bool {
					tt.reply(w)
					return true
				})
			}
			for _, call := range []func() error{
				func() error { return h.a.Poster().Post(context.Background(), tt.channel, dayDigest(""), "k") },
				func() error { _, err := h.a.Poster().Posted(context.Background(), tt.channel, "k"); return err },
			} {
				err := call()
				if err == nil || digest.IsPermanent(err) != tt.permanent {
					t.Fatalf("err = %v, want permanent %v", err, tt.permanent)
				}
				var ra *digest.RetryAfterError
				if tt.after > 0 && (!errors.As(err, &ra) || ra.After != tt.after) {
					t.Errorf("err = %v, want retry after %s", err, tt.after)
				}
				if strings.Contains(err.Error(), testBotToken) {
					t.Errorf("the error shows the token: %v", err)
				}
			}
			// One call each: the scheduler retries, not the poster.
			if n := h.slack.count("chat.postMessage"); n != 1 {
				t.Errorf("chat.postMessage called %d times", n)
			}
		})
	}
}

func slackError(code string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { writeJSON200(w, map[string]any{"ok": false, "error": code}) }
}

// The digest's question button asks its question in a thread under the
// digest, like any follow-up button.
func TestDigestQuestionButtonAnswersInThread(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if err := h.a.Poster().Post(context.Background(), "C1", dayDigest(""), "k1"); err != nil {
		t.Fatal(err)
	}
	d := h.slack.next(t)
	value := accessoryValue(t, d.Blocks, digestQuestionBlock)
	if value != "Who brought up the Jevons paradox?" {
		t.Fatalf("the question button asks %q", value)
	}
	h.click(blockAction("UANA", "C1", d.TS, "", false, "ask:0", value, h.slack.responseURLFor("rq"), "trigq"))
	p := h.slack.next(t)
	if p.ThreadTS != d.TS || !strings.Contains(p.Blocks, "Answer to: Who brought up the Jevons paradox?") || !strings.Contains(p.Blocks, "<@UANA> asked") {
		t.Errorf("answer %+v, want it in the digest's thread", p)
	}
}

// slash runs one slash command and returns the private reply.
func slash(t *testing.T, h *harness, text, user, trigger string) post {
	t.Helper()
	if status, body := h.command(slashForm(text, "C7", user, h.slack.responseURLFor(trigger), trigger)); status != http.StatusOK || body != "" {
		t.Fatalf("%q: ack %d %q", text, status, body)
	}
	p := h.slack.next(t)
	if p.Method != "response_url" || p.ResponseType != "ephemeral" {
		t.Fatalf("%q: reply %+v, want an ephemeral one", text, p)
	}
	return p
}

func newChannels(t *testing.T) (*digest.Channels, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "explainer.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &digest.Channels{Store: st, Digests: fixedDigest{}, Zone: "Europe/Berlin"}, st
}

type fixedDigest struct{}

func (fixedDigest) Compose(context.Context, digest.Date) (digest.Digest, error) {
	return dayDigest(""), nil
}

func TestDigestSlashCommands(t *testing.T) {
	ch, st := newChannels(t)
	h := newHarness(t, harnessOpts{digests: ch})
	ctx := context.Background()

	p := slash(t, h, "digest subscribe", "UANA", "t1")
	sub, err := st.Subscription(ctx, "slack", "C7")
	if err != nil || sub.At != "09:00" || sub.Zone != "Europe/Berlin" || sub.CreatedBy != "UANA" {
		t.Fatalf("subscription %+v %v, want 09:00 Europe/Berlin by UANA", sub, err)
	}
	if !strings.Contains(p.Text, "every day at *09:00* (Europe/Berlin). The next one comes *") {
		t.Errorf("subscribe reply %q", p.Text)
	}

	p = slash(t, h, "digest subscribe new york 7:30", "UANA", "t2")
	if sub, _ := st.Subscription(ctx, "slack", "C7"); sub.At != "07:30" || sub.Zone != "America/New_York" || !strings.Contains(p.Text, "Changed:") {
		t.Errorf("resubscribe: %+v, reply %q", sub, p.Text)
	}

	for text, want := range map[string]string{
		"digest subscribe 25:00":      `time "25:00": want HH:MM`,
		"digest subscribe Mars/Base":  `time zone "Mars/Base" is unknown`,
		"digest subscribe 9:00 10:00": "two times given",
	} {
		p := slash(t, h, text, "UANA", "t-"+strings.NewReplacer(" ", "-", "/", "-", ":", "-").Replace(text))
		if !strings.Contains(p.Text, ":warning: "+want) || !strings.Contains(p.Text, "/explain digest subscribe 08:30 Europe/Berlin") {
			t.Errorf("%q: reply %q, want the problem named and an example", text, p.Text)
		}
	}
	if sub, _ := st.Subscription(ctx, "slack", "C7"); sub.At != "07:30" {
		t.Errorf("a refused change changed the subscription: %+v", sub)
	}

	p = slash(t, h, "digest list", "UBEN", "t3")
	if !strings.Contains(p.Text, "<#C7> at 07:30 America/New_York, next ") {
		t.Errorf("list %q", p.Text)
	}

	p = slash(t, h, "digest now", "UBEN", "t4")
	if !strings.Contains(p.Blocks, "Daily brief for Monday 27 January 2025") || !strings.Contains(p.Blocks, `"action_id":"ask:0"`) {
		t.Errorf("digest now: %s", p.Blocks)
	}

	p = slash(t, h, "digest unsubscribe", "UANA", "t5")
	if _, err := st.Subscription(ctx, "slack", "C7"); err == nil || !strings.Contains(p.Text, "no longer gets the daily digest") {
		t.Errorf("unsubscribe: %v, reply %q", err, p.Text)
	}
	if p := slash(t, h, "digest unsubscribe", "UANA", "t6"); !strings.Contains(p.Text, "nothing to stop") {
		t.Errorf("unsubscribe twice: %q", p.Text)
	}
	if p := slash(t, h, "digest list", "UANA", "t7"); !strings.Contains(p.Text, "No channel gets the daily digest yet") {
		t.Errorf("empty list: %q", p.Text)
	}
	if p := slash(t, h, "digest", "UANA", "t8"); !strings.Contains(p.Text, "/explain digest subscribe [HH:MM] [Time/Zone]") {
		t.Errorf("digest help: %q", p.Text)
	}
	h.idle()
	if n := len(h.asker.questions()); n != 0 {
		t.Errorf("digest commands asked the engine %d questions", n)
	}
}

func TestDigestCommandsNeedAnAdminWhenListed(t *testing.T) {
	ch, st := newChannels(t)
	h := newHarness(t, harnessOpts{digests: ch, cfg: func(c *Config) { c.AdminUsers = []string{"UADMIN", "UBOSS"} }})
	ctx := context.Background()
	for _, text := range []string{"digest subscribe 08:00", "digest unsubscribe"} {
		p := slash(t, h, text, "UANA", "n-"+text[7:10])
		if !strings.Contains(p.Text, "Only the digest admins can subscribe or unsubscribe a channel here: ask <@UADMIN> or <@UBOSS>.") {
			t.Errorf("%q by a non-admin: %q", text, p.Text)
		}
	}
	if subs, _ := st.Subscriptions(ctx); len(subs) != 0 {
		t.Fatalf("a non-admin subscribed: %+v", subs)
	}
	slash(t, h, "digest subscribe 08:00", "UBOSS", "a1")
	if _, err := st.Subscription(ctx, "slack", "C7"); err != nil {
		t.Errorf("an admin could not subscribe: %v", err)
	}
	// Anyone may see the list and today's digest.
	if p := slash(t, h, "digest list", "UANA", "a2"); !strings.Contains(p.Text, "<#C7> at 08:00") {
		t.Errorf("list for a non-admin: %q", p.Text)
	}
}

func TestDigestCommandsWithoutDigests(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if p := slash(t, h, "digest subscribe", "UANA", "o1"); p.Text != "Daily digests are not set up on this server." {
		t.Errorf("reply %q", p.Text)
	}
	// A question that starts with the word is a question.
	slash(t, h, "digest this story for me", "UANA", "o2")
	if q := h.asker.questions(); len(q) != 1 || q[0].Text != "digest this story for me" {
		t.Errorf("asked %+v", q)
	}
}

// accessoryValue finds the value of the button beside the section blockID.
func accessoryValue(t *testing.T, blocks, blockID string) string {
	t.Helper()
	var bs []struct {
		BlockID   string `json:"block_id"`
		Accessory struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"accessory"`
	}
	if err := json.Unmarshal([]byte(blocks), &bs); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	for _, b := range bs {
		if b.BlockID == blockID && b.Accessory.ActionID == "ask:0" {
			return b.Accessory.Value
		}
	}
	t.Fatalf("no ask:0 button beside block %q in %s", blockID, blocks)
	return ""
}
