package discord

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/explainerbot/explainer/bot"
)

// mention is a MESSAGE_CREATE payload from a user in a guild channel.
func (h *harness) mention(text string, mentionsBot bool) map[string]any {
	m := map[string]any{
		"id": h.id(), "channel_id": testChannel, "guild_id": testGuild, "type": 0,
		"author":    map[string]any{"id": testUser, "username": "ann", "discriminator": "0"},
		"content":   text,
		"timestamp": time.Now().UTC().Format(time.RFC3339),
		"mentions":  []any{},
	}
	if mentionsBot {
		m["mentions"] = []any{map[string]any{"id": h.fake.botID, "username": "explainer", "bot": true}}
	}
	return m
}

func callbackPath(i map[string]any) string {
	return "/interactions/" + i["id"].(string) + "/" + i["token"].(string) + "/callback"
}

func TestGatewaySession(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	if h.a.Ready() == nil {
		t.Error("Ready before the gateway connected")
	}
	stop := h.run()
	if got := h.fake.connected(1); got != "READY" {
		t.Fatalf("first connection ended in %s, want READY", got)
	}
	// IDENTIFY asked for exactly the intents needed: no Message Content.
	h.fake.mu.Lock()
	id := h.fake.identifies[0]
	h.fake.mu.Unlock()
	if id.Intents != int(Intents) || id.Intents&int(discordgo.IntentsMessageContent) != 0 {
		t.Errorf("intents %b, want %b", id.Intents, Intents)
	}
	if id.Token != "Bot "+h.fake.token {
		t.Error("IDENTIFY does not carry the bot token")
	}
	// Heartbeats are sent and acknowledged.
	waitUntil(h.fake, func() (int, bool) { return h.fake.heartbeats, h.fake.heartbeats >= 2 })
	if err := h.a.Ready(); err != nil {
		t.Errorf("Ready after READY: %v", err)
	}

	// /ask over the gateway: the answer goes back by REST.
	ask := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
	h.fake.dispatch("INTERACTION_CREATE", ask)
	cb := h.fake.waitFor(1, is("POST", callbackPath(ask)))[0]
	var resp wireCallback
	json.Unmarshal(cb.Body, &resp)
	if m := resp.message(t); resp.Type != 4 || len(m.Embeds) == 0 || !strings.Contains(m.Embeds[0].Description, "H800") {
		t.Errorf("gateway /ask answered %s", cb.Body)
	}
	if cb.Auth != "" {
		t.Error("the interaction callback carries the bot token; it needs none")
	}

	// Autocomplete over the gateway.
	ac := h.autocomplete(cmdAsk, optQuestion, "export contr")
	h.fake.dispatch("INTERACTION_CREATE", ac)
	cb = h.fake.waitFor(1, is("POST", callbackPath(ac)))[0]
	if !strings.Contains(string(cb.Body), `"type":8`) || !strings.Contains(strings.ToLower(string(cb.Body)), "export") {
		t.Errorf("autocomplete answered %s", cb.Body)
	}

	// Messages: one that does not mention the bot, one by a bot, one that
	// mentions the bot. Only the last is answered.
	h.fake.dispatch("MESSAGE_CREATE", h.mention("what is CUDA?", false))
	other := h.mention("<@"+h.fake.botID+"> what is CUDA?", true)
	other["author"] = map[string]any{"id": "500000000000000001", "username": "otherbot", "bot": true}
	h.fake.dispatch("MESSAGE_CREATE", other)
	msg := h.mention("<@"+h.fake.botID+"> what is CUDA?", true)
	h.fake.dispatch("MESSAGE_CREATE", msg)
	sent := h.fake.waitFor(1, is("POST", "/channels/"+testChannel+"/messages"))[0]
	var reply struct {
		wireMessage
		Ref struct {
			MessageID string `json:"message_id"`
		} `json:"message_reference"`
		Allowed struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	json.Unmarshal(sent.Body, &reply)
	if reply.Ref.MessageID != msg["id"] {
		t.Errorf("reply refers to message %q, want %q", reply.Ref.MessageID, msg["id"])
	}
	if len(reply.Embeds) == 0 || reply.Embeds[0].Title != "what is CUDA?" || !strings.Contains(reply.Embeds[0].Description, "CUDA") {
		t.Errorf("mention answered %s", sent.Body)
	}
	if sent.Auth != "Bot "+h.fake.token {
		t.Error("channel message sent without the bot token")
	}
	if reply.Allowed.Parse == nil || len(reply.Allowed.Parse) != 0 {
		t.Errorf("reply may ping people: %s", sent.Body)
	}

	// A direct message needs no mention.
	dm := h.mention("what is the H800?", false)
	delete(dm, "guild_id")
	dm["channel_id"] = "710000000000000001"
	h.fake.dispatch("MESSAGE_CREATE", dm)
	sent = h.fake.waitFor(1, is("POST", "/channels/710000000000000001/messages"))[0]
	if !strings.Contains(string(sent.Body), "H800") {
		t.Errorf("DM answered %s", sent.Body)
	}

	stop()
	if h.a.Ready() == nil {
		t.Error("Ready after the session closed")
	}
	calls, refused := h.fake.snapshot()
	if n := count(calls, is("POST", "/channels/")); n != 2 {
		t.Errorf("%d channel messages, want 2 (the mention and the DM)", n)
	}
	if len(refused) != 0 {
		t.Errorf("Discord refused calls: %+v", refused)
	}
}

func count(calls []restCall, match func(restCall) bool) int {
	n := 0
	for _, c := range calls {
		if match(c) {
			n++
		}
	}
	return n
}

func TestGatewayReconnects(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	stop := h.run()
	h.fake.connected(1)

	// Discord asks for a reconnect (op 7): the session is resumed.
	h.fake.reconnect()
	if got := h.fake.connected(2); got != "RESUMED" {
		t.Fatalf("after op 7: %s, want RESUMED", got)
	}
	h.fake.mu.Lock()
	rs := h.fake.resumes[0]
	h.fake.mu.Unlock()
	if rs.SessionID != "session-1" {
		t.Errorf("RESUME of session %q", rs.SessionID)
	}
	msg := h.mention("<@!"+h.fake.botID+"> what is the H800?", true)
	h.fake.dispatch("MESSAGE_CREATE", msg)
	h.fake.waitFor(1, is("POST", "/channels/"))

	// The socket drops without a close frame: resumed again.
	h.fake.drop()
	if got := h.fake.connected(3); got != "RESUMED" {
		t.Fatalf("after a dropped socket: %s, want RESUMED", got)
	}
	ask := h.slash(cmdAsk, strOpt(optQuestion, "What is CUDA?"))
	h.fake.dispatch("INTERACTION_CREATE", ask)
	h.fake.waitFor(1, is("POST", callbackPath(ask)))
	stop()

	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	if len(h.fake.identifies) != 1 {
		t.Errorf("%d IDENTIFYs, want 1 (the rest resumed)", len(h.fake.identifies))
	}
}

func TestGatewayRefusedForGood(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true, config: func(c *Config) { c.BotToken = "a-token-Discord-does-not-know" }})
	done := make(chan error, 1)
	go func() { done <- h.a.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "4004") {
			t.Errorf("Run returned %v, want the authentication failure", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run keeps retrying a token Discord refuses")
	}
}

func TestTwoHundredInteractionsAtOnceOverTheGateway(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	stop := h.run()
	h.fake.connected(1)
	const n = 200
	var sent []map[string]any
	for k := range n {
		q := []string{headlineQuestion, "What is the H800?", "What is CUDA?"}[k%3]
		i := h.slash(cmdAsk, strOpt(optQuestion, q))
		sent = append(sent, i)
		h.fake.dispatch("INTERACTION_CREATE", i)
	}
	callbacks := h.fake.waitFor(n, is("POST", "/interactions/"))
	deferred := 0
	for _, c := range callbacks {
		if strings.Contains(string(c.Body), `"type":5`) {
			deferred++
		}
	}
	h.fake.waitFor(deferred, is("PATCH", "/webhooks/"))
	stop()
	calls, refused := h.fake.snapshot()
	for _, i := range sent {
		var types []string
		for _, c := range calls {
			if is("POST", callbackPath(i))(c) {
				var cb wireCallback
				json.Unmarshal(c.Body, &cb)
				types = append(types, strconv.Itoa(cb.Type))
			}
		}
		edits := count(calls, is("PATCH", "/webhooks/"+h.fake.appID+"/"+i["token"].(string)+"/"))
		switch {
		case len(types) == 1 && types[0] == "4" && edits == 0:
		case len(types) == 1 && types[0] == "5" && edits == 1:
		default:
			t.Errorf("interaction %s: responses of types %v, %d edits", i["id"], types, edits)
		}
	}
	if len(refused) != 0 {
		t.Errorf("%d refused calls", len(refused))
	}
	t.Logf("%d of %d answered at once, %d deferred then edited", n-deferred, n, deferred)
}

func TestDuplicateDispatchAnsweredOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	stop := h.run()
	h.fake.connected(1)
	i := h.slash(cmdAbout)
	h.fake.dispatch("INTERACTION_CREATE", i)
	h.fake.dispatch("INTERACTION_CREATE", i)
	m := h.mention("<@"+h.fake.botID+"> what is CUDA?", true)
	h.fake.dispatch("MESSAGE_CREATE", m)
	h.fake.dispatch("MESSAGE_CREATE", m)
	h.fake.waitFor(1, is("POST", callbackPath(i)))
	h.fake.waitFor(1, is("POST", "/channels/"))
	stop()
	calls, refused := h.fake.snapshot()
	if count(calls, is("POST", callbackPath(i))) != 1 || count(calls, is("POST", "/channels/")) != 1 || len(refused) != 0 {
		t.Errorf("duplicates answered: %d callbacks, %d messages, %d refused",
			count(calls, is("POST", callbackPath(i))), count(calls, is("POST", "/channels/")), len(refused))
	}
}

func TestRateLimitedResponsesStillArrive(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	stop := h.run()
	h.fake.connected(1)

	// The interaction response is refused once with retry_after, then
	// accepted; so is the mention reply.
	h.fake.rateLimit("POST /interactions/", 1, 0.2)
	h.fake.rateLimit("POST /channels/", 1, 0.1)
	ask := h.slash(cmdAsk, strOpt(optQuestion, headlineQuestion))
	start := time.Now()
	h.fake.dispatch("INTERACTION_CREATE", ask)
	cb := h.fake.waitFor(1, is("POST", callbackPath(ask)))[0]
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("answered after %v, before retry_after (200ms) had passed", took)
	}
	if !strings.Contains(string(cb.Body), "A100") {
		t.Errorf("the retried response lost the answer: %s", cb.Body)
	}
	h.fake.dispatch("MESSAGE_CREATE", h.mention("<@"+h.fake.botID+"> what is CUDA?", true))
	h.fake.waitFor(1, is("POST", "/channels/"))
	stop()
	_, refused := h.fake.snapshot()
	if len(refused) != 2 {
		t.Errorf("%d refused calls, want the two 429s", len(refused))
	}
}

func TestRateLimitRetriesAreBounded(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true, config: func(c *Config) { c.MaxRetries = 2 }})
	stop := h.run()
	h.fake.connected(1)
	// Always limited: the reply is given up after 1 + 2 attempts.
	h.fake.rateLimit("POST /channels/", 1000, 0.01)
	// A retry_after past the 3-second window: not waited for at all.
	h.fake.rateLimit("POST /interactions/", 1, 5)
	h.fake.dispatch("MESSAGE_CREATE", h.mention("<@"+h.fake.botID+"> what is CUDA?", true))
	ask := h.slash(cmdAbout)
	start := time.Now()
	h.fake.dispatch("INTERACTION_CREATE", ask)
	waitUntil(h.fake, func() (int, bool) { return len(h.fake.refused), len(h.fake.refused) >= 4 })
	stop()
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("took %v: a retry_after past the deadline was waited for", took)
	}
	calls, refused := h.fake.snapshot()
	if n := count(refused, is("POST", "/channels/")); n != 3 {
		t.Errorf("%d attempts at the reply, want 3", n)
	}
	if n := count(refused, is("POST", "/interactions/")); n != 1 {
		t.Errorf("%d attempts at the interaction response, want 1", n)
	}
	if len(calls) != count(calls, is("GET", "/gateway")) {
		t.Errorf("rate limited calls got through: %+v", calls)
	}
	if !strings.Contains(h.logs.String(), "still rate limited") {
		t.Error("giving up is not logged")
	}
}

func TestGatewayPanicIsRecovered(t *testing.T) {
	eng := engine(t)
	asker := fakeAsker{Asker: eng, ask: func(_ context.Context, q bot.Question) (bot.Answer, error) {
		if strings.Contains(q.Text, "boom") {
			panic("engine bug")
		}
		return eng.Ask(context.Background(), q)
	}}
	h := newHarness(t, harnessOptions{gateway: true, asker: asker})
	stop := h.run()
	h.fake.connected(1)
	h.fake.dispatch("MESSAGE_CREATE", h.mention("<@"+h.fake.botID+"> boom", true))
	boom := h.slash(cmdAsk, strOpt(optQuestion, "boom"))
	h.fake.dispatch("INTERACTION_CREATE", boom)
	cb := h.fake.waitFor(1, is("POST", callbackPath(boom)))[0]
	if !strings.Contains(string(cb.Body), "went wrong") {
		t.Errorf("a panicking answer got %s", cb.Body)
	}
	// Still serving.
	h.fake.dispatch("MESSAGE_CREATE", h.mention("<@"+h.fake.botID+"> what is CUDA?", true))
	h.fake.waitFor(1, is("POST", "/channels/"))
	stop()
	if !strings.Contains(h.logs.String(), "panic") {
		t.Error("the panics were not logged")
	}
}

func TestStripMention(t *testing.T) {
	const me = "42"
	tests := []struct{ in, want string }{
		{"<@42> what is CUDA?", "what is CUDA?"},
		{"<@!42>, what is CUDA?", "what is CUDA?"},
		{"hey <@42>   what   is CUDA?", "hey what is CUDA?"},
		{"what is CUDA? <@42>", "what is CUDA?"},
		{"<@7> asked <@42>: what is CUDA?", "<@7> asked : what is CUDA?"},
		{"<@42>", ""},
	}
	for _, tt := range tests {
		if got := stripMention(tt.in, me); got != tt.want {
			t.Errorf("stripMention(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRunEndsWhileDiscordIsSilent(t *testing.T) {
	h := newHarness(t, harnessOptions{gateway: true})
	h.fake.mu.Lock()
	h.fake.silent = true
	h.fake.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.a.Run(ctx) }()
	// Connected, waiting for a HELLO that never comes.
	waitUntil(h.fake, func() (int, bool) { return h.fake.dialed, h.fake.dialed >= 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
