package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
)

func TestMentionGetsOneThreadedReplyEvenWhenRetried(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ev := callback("Ev01", mention("C1", "UANA", "1700000001.000100", "", "<@UBOT> did DeepSeek really use fewer GPUs?"))
	if got := h.event(ev, nil); got != http.StatusOK {
		t.Fatalf("status %d, want 200", got)
	}
	p := h.slack.next(t)
	if p.Method != "chat.postMessage" || p.Channel != "C1" || p.ThreadTS != "1700000001.000100" {
		t.Errorf("reply %+v, want chat.postMessage in C1 threaded under 1700000001.000100", p)
	}
	if !strings.Contains(p.Blocks, "Answer to: did DeepSeek really use fewer GPUs?") {
		t.Errorf("reply does not carry the answer (mention stripped): %s", p.Blocks)
	}
	if got := h.asker.questions(); len(got) != 1 || got[0].Platform != bot.PlatformSlack || got[0].User != "UANA" || got[0].Thread != "1700000001.000100" || got[0].Direct {
		t.Errorf("asked %+v", got)
	}
	// Slack retries: same event id, X-Slack-Retry-Num.
	for i, reason := range []string{"http_timeout", "http_error"} {
		if got := h.event(ev, map[string]string{"X-Slack-Retry-Num": string(rune('1' + i)), "X-Slack-Retry-Reason": reason}); got != http.StatusOK {
			t.Fatalf("retry status %d, want 200", got)
		}
	}
	h.idle()
	if n := len(h.slack.sent("chat.postMessage")); n != 1 {
		t.Errorf("%d replies after retries, want 1", n)
	}
	// The same message also arrives as a message event (the bot is in the
	// thread now): still one reply.
	h.event(callback("Ev02", message("C1", "channel", "UANA", "1700000001.000100", "", "<@UBOT> did DeepSeek really use fewer GPUs?")), nil)
	h.idle()
	if n := len(h.slack.sent("chat.postMessage")); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}

func TestThreadFollowUpsWithoutMention(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.event(callback("Ev10", mention("C1", "UANA", "1700000010.000100", "", "<@UBOT> what is the H800?")), nil)
	h.slack.next(t)

	// A reply in that thread, no mention: answered in the thread.
	h.event(callback("Ev11", message("C1", "channel", "UBEN", "1700000011.000100", "1700000010.000100", "and the A100?")), nil)
	p := h.slack.next(t)
	if p.ThreadTS != "1700000010.000100" || !strings.Contains(p.Blocks, "Answer to: and the A100?") {
		t.Errorf("follow-up reply %+v", p)
	}

	cases := []struct {
		name string
		ev   map[string]any
	}{
		{"thread the bot is not part of", message("C1", "channel", "UBEN", "1700000012.000100", "1700000099.000100", "what about CUDA?")},
		{"top-level message without mention", message("C1", "channel", "UBEN", "1700000013.000100", "", "what about CUDA?")},
		{"chat in the bot's thread that is not a question", message("C1", "channel", "UBEN", "1700000014.000100", "1700000010.000100", "thanks, super clear")},
		{"reply addressed to someone else", message("C1", "channel", "UBEN", "1700000015.000100", "1700000010.000100", "<@UANA> what do you think?")},
		{"the bot's own reply", message("C1", "channel", testBotUser, "1700000016.000100", "1700000010.000100", "Answer to: x")},
		{"another bot", map[string]any{"type": "message", "subtype": "bot_message", "bot_id": "BOTHER", "text": "what?", "ts": "1700000017.000100", "thread_ts": "1700000010.000100", "channel": "C1", "channel_type": "channel"}},
		{"an edit", map[string]any{"type": "message", "subtype": "message_changed", "channel": "C1", "channel_type": "channel", "ts": "1700000018.000100", "message": map[string]any{"type": "message", "user": "UBEN", "text": "what is CUDA?", "ts": "1700000011.000100", "thread_ts": "1700000010.000100"}}},
		{"a join", map[string]any{"type": "message", "subtype": "channel_join", "user": "UBEN", "text": "<@UBEN> has joined the channel", "ts": "1700000019.000100", "channel": "C1", "channel_type": "channel"}},
		{"a bot mentioning the bot", map[string]any{"type": "app_mention", "bot_id": "BOTHER", "user": "UOTHERBOT", "text": "<@UBOT> hi", "ts": "1700000020.000100", "channel": "C1"}},
	}
	for i, c := range cases {
		if got := h.event(callback("Ev2"+string(rune('a'+i)), c.ev), nil); got != http.StatusOK {
			t.Errorf("%s: status %d", c.name, got)
		}
	}
	h.idle()
	if n := len(h.slack.sent("")); n != 2 {
		for _, p := range h.slack.sent("")[2:] {
			t.Errorf("unexpected reply in %s/%s: %s", p.Channel, p.ThreadTS, p.Blocks)
		}
	}
	// "thanks" was asked (and declined quietly); nothing else reached the engine.
	if got := h.asker.questions(); len(got) != 3 || got[2].Text != "thanks, super clear" {
		t.Errorf("asked %+v", got)
	}
}

func TestDirectMessageAnswered(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.event(callback("Ev30", message("D42", "im", "UANA", "1700000030.000100", "", "What is Jevons paradox?")), nil)
	p := h.slack.next(t)
	if p.Channel != "D42" || p.ThreadTS != "" || !strings.Contains(p.Blocks, "Answer to: What is Jevons paradox?") {
		t.Errorf("DM reply %+v", p)
	}
	// Declines are answered in DMs: the person asked the bot.
	h.event(callback("Ev31", message("D42", "im", "UANA", "1700000031.000100", "", "thanks")), nil)
	if p := h.slack.next(t); !strings.Contains(p.Blocks, "I don't know that.") {
		t.Errorf("DM decline %+v", p)
	}
	if got := h.asker.questions(); len(got) != 2 || !got[0].Direct {
		t.Errorf("asked %+v, want a direct question", got)
	}
}

func TestSlashCommandIsPrivateAndShareable(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	status, body := h.command(slashForm("did DeepSeek use fewer GPUs?", "C7", "UANA", h.slack.responseURLFor("r1"), "trig1"))
	if status != http.StatusOK || body != "" {
		t.Fatalf("ack %d %q, want an empty 200", status, body)
	}
	p := h.slack.next(t)
	if p.Method != "response_url" || p.Path != "/response/r1" || p.ResponseType != "ephemeral" || p.ReplaceOriginal {
		t.Fatalf("answer %+v, want an ephemeral message through the response URL", p)
	}
	if !strings.Contains(p.Blocks, "Answer to: did DeepSeek use fewer GPUs?") || !strings.Contains(p.Blocks, "Share in channel") {
		t.Fatalf("private answer %s", p.Blocks)
	}
	value := buttonValue(t, p.Blocks, actionShare)

	// Share in channel: posted for everyone, the private copy removed.
	if got := h.click(blockAction("UANA", "C7", "1700000040.000100", "", true, actionShare, value, h.slack.responseURLFor("r2"), "trig2")); got != http.StatusOK {
		t.Fatalf("click status %d", got)
	}
	shared := h.slack.next(t)
	if shared.Method != "chat.postMessage" || shared.Channel != "C7" || shared.ThreadTS != "" {
		t.Fatalf("shared %+v, want a public message in C7", shared)
	}
	if !strings.Contains(shared.Blocks, "Answer to: did DeepSeek use fewer GPUs?") || !strings.Contains(shared.Blocks, "<@UANA> shared an answer") || strings.Contains(shared.Blocks, "Share in channel") {
		t.Errorf("shared message %s", shared.Blocks)
	}
	if del := h.slack.next(t); del.Path != "/response/r2" || !del.DeleteOriginal {
		t.Errorf("after sharing %+v, want delete_original through the response URL", del)
	}
	h.idle()
	if n := len(h.asker.questions()); n != 1 {
		t.Errorf("asked %d times, want 1 (the shared answer is the same one)", n)
	}
	// Replies to the shared answer are follow-ups in a thread the bot is in.
	h.event(callback("Ev41", message("C7", "channel", "UBEN", "1700000041.000100", shared.TS, "why?")), nil)
	if p := h.slack.next(t); p.ThreadTS != shared.TS {
		t.Errorf("reply under shared answer %+v", p)
	}
}

func TestShareFallsBackToResponseURLOutsideChannel(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	value := fitValue("what is CUDA?", func(q string) any { return shareValue{K: "forgotten", Q: q} })
	h.click(blockAction("UANA", "CNOTIN", "1700000050.000100", "", true, actionShare, value, h.slack.responseURLFor("r3"), "trig3"))
	p := h.slack.next(t)
	if p.Method != "response_url" || p.ResponseType != "in_channel" || !strings.Contains(p.Blocks, "Answer to: what is CUDA?") {
		t.Errorf("shared through %+v, want in_channel through the response URL", p)
	}
	if del := h.slack.next(t); !del.DeleteOriginal {
		t.Errorf("then %+v, want delete_original", del)
	}
}

func TestSlashHelp(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for i, text := range []string{"help", "", "  HELP "} {
		h.command(slashForm(text, "C7", "UANA", h.slack.responseURLFor("h"), "trigh"+string(rune('0'+i))))
		p := h.slack.next(t)
		for _, want := range []string{"I explain the DeepSeek shock to Nvidia.", "The article", "Why did Nvidia fall?", "/explain your question", "42 entries"} {
			if !strings.Contains(p.Blocks, want) {
				t.Errorf("help for %q lacks %q: %s", text, want, p.Blocks)
			}
		}
		if p.ResponseType != "ephemeral" {
			t.Errorf("help is %q, want ephemeral", p.ResponseType)
		}
	}
	if n := len(h.asker.questions()); n != 0 {
		t.Errorf("help asked the engine %d times", n)
	}
}

func TestFollowUpButtonAsksInTheSameThread(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.event(callback("Ev60", mention("C1", "UANA", "1700000060.000100", "", "<@UBOT> did DeepSeek use fewer GPUs?")), nil)
	answer := h.slack.next(t)
	value := buttonValue(t, answer.Blocks, "ask:0")
	if value != "What is the H800?" {
		t.Fatalf("first follow-up button asks %q", value)
	}
	h.click(blockAction("UBEN", "C1", answer.TS, "1700000060.000100", false, "ask:0", value, h.slack.responseURLFor("r6"), "trig6"))
	p := h.slack.next(t)
	if p.Method != "chat.postMessage" || p.ThreadTS != "1700000060.000100" || !strings.Contains(p.Blocks, "Answer to: What is the H800?") || !strings.Contains(p.Blocks, "<@UBEN> asked") {
		t.Errorf("follow-up answer %+v", p)
	}
	// In a private answer, a follow-up stays private.
	h.click(blockAction("UBEN", "C1", "1700000061.000100", "", true, "ask:1", "What is the A100?", h.slack.responseURLFor("r7"), "trig7"))
	if p := h.slack.next(t); p.Method != "response_url" || p.ResponseType != "ephemeral" || !strings.Contains(p.Blocks, "Answer to: What is the A100?") {
		t.Errorf("private follow-up %+v", p)
	}
}

func TestThumbsUpIsRecordedAndAcknowledgedPrivately(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.event(callback("Ev70", mention("C1", "UANA", "1700000070.000100", "", "<@UBOT> what is CUDA?")), nil)
	answer := h.slack.next(t)
	up := buttonValue(t, answer.Blocks, actionVoteUp)
	h.click(blockAction("UBEN", "C1", answer.TS, "1700000070.000100", false, actionVoteUp, up, h.slack.responseURLFor("r8"), "trig8"))
	ack := h.slack.next(t)
	if ack.Method != "chat.postEphemeral" || ack.User != "UBEN" || ack.Channel != "C1" || ack.ThreadTS != "1700000070.000100" || !strings.Contains(ack.Text, "Thanks") {
		t.Errorf("acknowledgement %+v, want an ephemeral thanks to UBEN in the thread", ack)
	}
	got := h.fb.all()
	if len(got) != 1 {
		t.Fatalf("recorded %d verdicts, want 1", len(got))
	}
	f := got[0]
	if !f.Helpful || f.Platform != "slack" || f.Channel != "C1" || f.User != "UBEN" || f.Question != "what is CUDA?" || len(f.Entries) != 1 || f.Entries[0] != "e1" || f.At.IsZero() {
		t.Errorf("recorded %+v", f)
	}
	// A second click on the same answer is not counted again.
	h.click(blockAction("UBEN", "C1", answer.TS, "1700000070.000100", false, actionVoteDown, buttonValue(t, answer.Blocks, actionVoteDown), h.slack.responseURLFor("r9"), "trig9"))
	if ack := h.slack.next(t); !strings.Contains(ack.Text, "already") {
		t.Errorf("second vote acknowledged with %q", ack.Text)
	}
	if n := len(h.fb.all()); n != 1 {
		t.Errorf("recorded %d verdicts after a second click, want 1", n)
	}
}

func TestFeedbackStoreFailureIsToldToTheVoter(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.fb.mu.Lock()
	h.fb.fail = true
	h.fb.mu.Unlock()
	value := fitValue("q", func(q string) any { return voteValue{Q: q, E: []string{"e1"}} })
	h.click(blockAction("UBEN", "C1", "1700000071.000100", "", false, actionVoteDown, value, h.slack.responseURLFor("r10"), "trigA"))
	if ack := h.slack.next(t); !strings.Contains(ack.Text, "couldn't record") {
		t.Errorf("acknowledged %q", ack.Text)
	}
	if !strings.Contains(h.logs.String(), "recording feedback failed") {
		t.Error("the failure is not logged")
	}
}

func TestRequestsAreVerified(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	body, _ := json.Marshal(callback("Ev80", mention("C1", "UANA", "1700000080.000100", "", "<@UBOT> what is CUDA?")))
	form := []byte(slashForm("what is CUDA?", "C1", "UANA", h.slack.responseURLFor("r"), "trigV").Encode())
	click, _ := json.Marshal(blockAction("UANA", "C1", "1", "", false, "ask:0", "what is CUDA?", h.slack.responseURLFor("r"), "trigW"))
	clickForm := []byte(url.Values{"payload": {string(click)}}.Encode())
	endpoints := map[string][]byte{"/slack/events": body, "/slack/commands": form, "/slack/interactivity": clickForm}

	now := time.Now()
	cases := []struct {
		name   string
		change func(r *http.Request)
	}{
		{"no signature", func(r *http.Request) { r.Header.Del("X-Slack-Signature") }},
		{"no timestamp", func(r *http.Request) { r.Header.Del("X-Slack-Request-Timestamp") }},
		{"forged signature", func(r *http.Request) {
			_, sig := sign("not-the-secret", now, body)
			r.Header.Set("X-Slack-Signature", sig)
		}},
		{"signature not hex", func(r *http.Request) { r.Header.Set("X-Slack-Signature", "v0=zz") }},
		{"wrong version", func(r *http.Request) {
			r.Header.Set("X-Slack-Signature", "v1="+strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
		}},
		{"stale: signed 6 minutes ago", nil},
		{"from the future: 6 minutes ahead", nil},
		{"timestamp changed after signing", func(r *http.Request) {
			r.Header.Set("X-Slack-Request-Timestamp", r.Header.Get("X-Slack-Request-Timestamp")+"1")
		}},
	}
	for path, payload := range endpoints {
		for _, c := range cases {
			at := now
			switch {
			case strings.HasPrefix(c.name, "stale"):
				at = now.Add(-6 * time.Minute)
			case strings.HasPrefix(c.name, "from the future"):
				at = now.Add(6 * time.Minute)
			}
			req := signedRequest(t, h.srv.URL+path, "application/x-www-form-urlencoded", payload, at)
			if c.change != nil {
				c.change(req)
			}
			if got := h.do(req); got != http.StatusUnauthorized {
				t.Errorf("%s %s: status %d, want 401", path, c.name, got)
			}
		}
		// A body changed after signing.
		req := signedRequest(t, h.srv.URL+path, "application/json", payload, now)
		req.Body = http.NoBody
		req.ContentLength = 0
		if got := h.do(req); got != http.StatusUnauthorized {
			t.Errorf("%s tampered body: status %d, want 401", path, got)
		}
	}
	h.idle()
	if posts := h.slack.sent(""); len(posts) != 0 || len(h.asker.questions()) != 0 {
		t.Errorf("refused requests led to %d posts and %d questions", len(posts), len(h.asker.questions()))
	}
	if n := h.slack.count("chat.postMessage") + h.slack.count("response_url"); n != 0 {
		t.Errorf("%d calls to Slack", n)
	}
}

func TestURLVerificationAndLimits(t *testing.T) {
	h := newHarness(t, harnessOpts{cfg: func(c *Config) { c.MaxBody = 4096 }})
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	req := signedRequest(t, h.srv.URL+"/slack/events", "application/json", body, time.Now())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 512)
	n, _ := res.Body.Read(buf)
	got.Write(buf[:n])
	res.Body.Close()
	if res.StatusCode != 200 || got.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("challenge: %d %q", res.StatusCode, got.String())
	}

	big := []byte(`{"type":"event_callback","event":{"type":"app_mention","text":"` + strings.Repeat("a", 5000) + `"}}`)
	if got := h.do(signedRequest(t, h.srv.URL+"/slack/events", "application/json", big, time.Now())); got != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d, want 413", got)
	}
	if got := h.do(signedRequest(t, h.srv.URL+"/slack/events", "application/json", []byte(`{not json`), time.Now())); got != http.StatusBadRequest {
		t.Errorf("bad JSON: status %d, want 400", got)
	}
	if got := h.do(signedRequest(t, h.srv.URL+"/slack/interactivity", "application/x-www-form-urlencoded", []byte("payload=%7Bnot"), time.Now())); got != http.StatusBadRequest {
		t.Errorf("bad interaction payload: status %d, want 400", got)
	}
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL+"/slack/events", nil)
	if got := h.do(req); got != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", got)
	}
}

func TestPanicInOneQuestionIsContained(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.event(callback("Ev90", mention("C1", "UANA", "1700000090.000100", "", "<@UBOT> boom")), nil)
	h.event(callback("Ev91", mention("C1", "UANA", "1700000091.000100", "", "<@UBOT> what is CUDA?")), nil)
	h.idle()
	posts := h.slack.sent("chat.postMessage")
	if len(posts) != 1 || !strings.Contains(posts[0].Blocks, "what is CUDA?") {
		t.Errorf("posts %+v, want the one answer", posts)
	}
	if !strings.Contains(h.logs.String(), "asker exploded") {
		t.Error("the panic is not logged")
	}
}

func TestEngineErrorGetsAnApology(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.event(callback("Ev95", mention("C1", "UANA", "1700000095.000100", "", "<@UBOT> fail please")), nil)
	if p := h.slack.next(t); !strings.Contains(p.Text, "something went wrong") || p.ThreadTS != "1700000095.000100" {
		t.Errorf("reply %+v", p)
	}
}

func TestBusyEventsAreRefusedUnseenSoSlackRetries(t *testing.T) {
	h := newHarness(t, harnessOpts{cfg: func(c *Config) { c.MaxPending = 1 }})
	release := h.asker.hold()
	first := callback("EvB1", mention("C1", "UANA", "1700000101.000100", "", "<@UBOT> one"))
	second := callback("EvB2", mention("C1", "UANA", "1700000102.000100", "", "<@UBOT> two"))
	if got := h.event(first, nil); got != http.StatusOK {
		t.Fatalf("first: %d", got)
	}
	if got := h.event(second, nil); got != http.StatusServiceUnavailable {
		t.Fatalf("second while busy: %d, want 503", got)
	}
	status, body := h.command(slashForm("three", "C1", "UANA", h.slack.responseURLFor("rb"), "trigB"))
	if status != http.StatusOK || !strings.Contains(body, "ephemeral") || !strings.Contains(body, "lot of questions") {
		t.Errorf("busy command answer %d %s", status, body)
	}
	close(release)
	h.idle()
	// Slack's retry of the refused event is answered.
	if got := h.event(second, map[string]string{"X-Slack-Retry-Num": "1"}); got != http.StatusOK {
		t.Fatalf("retry: %d", got)
	}
	h.idle()
	if n := len(h.slack.sent("chat.postMessage")); n != 2 {
		t.Errorf("%d replies, want 2", n)
	}
}

func TestMountWithoutSigningSecretServesNothing(t *testing.T) {
	a, err := New(Config{BotToken: testBotToken, AppToken: testAppToken}, Deps{Asker: &fakeAsker{}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	if _, pattern := mux.Handler(httpRequest("POST", "/slack/events")); pattern != "" {
		t.Errorf("registered %q without a signing secret", pattern)
	}
}

func httpRequest(method, path string) *http.Request {
	r, _ := http.NewRequest(method, "http://x"+path, nil)
	return r
}

func TestNewChecksConfig(t *testing.T) {
	cases := []struct {
		cfg  Config
		deps Deps
		want string
	}{
		{Config{AppToken: testAppToken}, Deps{Asker: &fakeAsker{}}, "bot token"},
		{Config{BotToken: testBotToken}, Deps{Asker: &fakeAsker{}}, "app token"},
		{Config{BotToken: testBotToken, SigningSecret: "s"}, Deps{}, "asker"},
	}
	for _, c := range cases {
		if _, err := New(c.cfg, c.deps); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %v, want an error about %s", c.cfg, err, c.want)
		}
	}
}

func TestRunFailsOnRefusedToken(t *testing.T) {
	f := newFakeSlack(t)
	a, err := New(Config{BotToken: "xoxb-wrong", SigningSecret: testSecret, APIURL: f.apiURL()}, Deps{Asker: &fakeAsker{}})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "xoxb-wrong") {
		t.Errorf("Run: %v, want invalid_auth without the token", err)
	}
	if a.Ready() == nil {
		t.Error("ready with a refused token")
	}
}
