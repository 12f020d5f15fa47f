package slack

import (
	"strings"
	"testing"
	"time"
)

func TestSocketMode(t *testing.T) {
	h := newHarness(t, harnessOpts{socket: true, cfg: func(c *Config) { c.SigningSecret = "" }})
	c := h.slack.conn(t)
	h.ready()

	// Slack pings; the client answers each with a pong.
	select {
	case <-c.pongs:
	case <-time.After(10 * time.Second):
		t.Fatal("no pong for Slack's pings")
	}

	// A mention: acknowledged by envelope id, answered in a thread.
	ev := callback("EvS1", mention("C1", "UANA", "1700000201.000100", "", "<@UBOT> what is CUDA?"))
	c.envelope("events_api", "env-1", 0, ev)
	c.ack(t, "env-1")
	p := h.slack.next(t)
	if p.Method != "chat.postMessage" || p.ThreadTS != "1700000201.000100" || !strings.Contains(p.Blocks, "Answer to: what is CUDA?") {
		t.Errorf("reply %+v", p)
	}

	// Slack delivers it again (retry_attempt 1, a new envelope): acked, not answered again.
	c.envelope("events_api", "env-2", 1, ev)
	c.ack(t, "env-2")
	h.idle()
	if n := len(h.slack.sent("chat.postMessage")); n != 1 {
		t.Errorf("%d replies after a retry, want 1", n)
	}

	// The slash command: acked, answered privately through the response URL.
	c.envelope("slash_commands", "env-3", 0, map[string]any{
		"token": "legacy", "team_id": testTeam, "channel_id": "C1", "user_id": "UANA", "command": "/explain",
		"text": "what is the H800?", "response_url": h.slack.responseURLFor("s1"), "trigger_id": "trigS1", "api_app_id": "A111",
	})
	c.ack(t, "env-3")
	if p := h.slack.next(t); p.Method != "response_url" || p.ResponseType != "ephemeral" || !strings.Contains(p.Blocks, "Answer to: what is the H800?") {
		t.Errorf("command answer %+v", p)
	}

	// A 👍 click: acked, recorded.
	c.envelope("interactive", "env-4", 0, blockAction("UBEN", "C1", p.TS, "1700000201.000100", false, actionVoteUp, buttonValue(t, p.Blocks, actionVoteUp), h.slack.responseURLFor("s2"), "trigS2"))
	c.ack(t, "env-4")
	if ack := h.slack.next(t); ack.Method != "chat.postEphemeral" || ack.User != "UBEN" {
		t.Errorf("vote acknowledged with %+v", ack)
	}
	if got := h.fb.all(); len(got) != 1 || !got[0].Helpful || got[0].Question != "what is CUDA?" {
		t.Errorf("recorded %+v", got)
	}

	// An event type slack-go does not know is still acknowledged, so Slack
	// does not resend it.
	c.envelope("events_api", "env-5", 0, callback("EvS5", map[string]any{"type": "brand_new_event", "channel": "C1"}))
	c.ack(t, "env-5")

	// Slack asks the client to reconnect: it opens a new connection and
	// carries on.
	c.disconnect()
	c2 := h.slack.conn(t)
	h.ready()
	c2.envelope("events_api", "env-6", 0, callback("EvS6", message("D9", "im", "UANA", "1700000206.000100", "", "what is inference?")))
	c2.ack(t, "env-6")
	if p := h.slack.next(t); p.Channel != "D9" || !strings.Contains(p.Blocks, "Answer to: what is inference?") {
		t.Errorf("DM after reconnect %+v", p)
	}
	h.slack.mu.Lock()
	opens := h.slack.opens
	h.slack.mu.Unlock()
	if opens != 2 {
		t.Errorf("apps.connections.open called %d times, want 2", opens)
	}
	h.stop()
	if h.a.Ready() == nil {
		t.Error("still ready after Run returned")
	}
}

func TestSocketModeDropIsReconnected(t *testing.T) {
	h := newHarness(t, harnessOpts{socket: true, cfg: func(c *Config) { c.SigningSecret = "" }})
	c := h.slack.conn(t)
	h.ready()
	c.ws.Close() // the connection drops without a goodbye
	c2 := h.slack.conn(t)
	c2.envelope("events_api", "env-7", 0, callback("EvS7", mention("C1", "UANA", "1700000207.000100", "", "<@UBOT> what is CUDA?")))
	c2.ack(t, "env-7")
	if p := h.slack.next(t); p.ThreadTS != "1700000207.000100" {
		t.Errorf("reply after a drop %+v", p)
	}
}

func TestSocketModeRefusedAppToken(t *testing.T) {
	f := newFakeSlack(t)
	a, err := New(Config{BotToken: testBotToken, AppToken: "xapp-wrong", APIURL: f.apiURL()}, Deps{Asker: &fakeAsker{}})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "xapp-wrong") {
		t.Errorf("Run: %v, want invalid_auth without the token", err)
	}
}

func TestSocketAckPayloadIsEmpty(t *testing.T) {
	h := newHarness(t, harnessOpts{socket: true, cfg: func(c *Config) { c.SigningSecret = "" }})
	c := h.slack.conn(t)
	c.envelope("events_api", "env-8", 0, callback("EvS8", message("C1", "channel", "UANA", "1700000208.000100", "", "chatter")))
	select {
	case a := <-c.acks:
		if a.EnvelopeID != "env-8" || len(a.Payload) > 0 {
			t.Errorf("ack %s %s, want env-8 with no payload", a.EnvelopeID, a.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ack")
	}
}

func TestSocketModeBusy(t *testing.T) {
	h := newHarness(t, harnessOpts{socket: true, cfg: func(c *Config) { c.SigningSecret = ""; c.MaxPending = 1 }})
	c := h.slack.conn(t)
	release := h.asker.hold()
	c.envelope("events_api", "env-b1", 0, callback("EvSB1", mention("C1", "UANA", "1700000601.000100", "", "<@UBOT> one")))
	c.ack(t, "env-b1")
	// A second event while busy is left unacknowledged, so Slack resends it.
	c.envelope("events_api", "env-b2", 0, callback("EvSB2", mention("C1", "UANA", "1700000602.000100", "", "<@UBOT> two")))
	// A command while busy is acknowledged with a message to the person.
	c.envelope("slash_commands", "env-b3", 0, map[string]any{"channel_id": "C1", "user_id": "UANA", "command": "/explain", "text": "three", "response_url": h.slack.responseURLFor("b"), "trigger_id": "trigB3"})
	select {
	case a := <-c.acks:
		if a.EnvelopeID != "env-b3" || !strings.Contains(string(a.Payload), "lot of questions") {
			t.Errorf("ack %s %s, want env-b3 saying the bot is busy (and no ack for env-b2)", a.EnvelopeID, a.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command was not acknowledged")
	}
	close(release)
	h.idle()
	// Slack's retry of the refused event is answered.
	c.envelope("events_api", "env-b4", 1, callback("EvSB2", mention("C1", "UANA", "1700000602.000100", "", "<@UBOT> two")))
	c.ack(t, "env-b4")
	h.idle()
	if n := len(h.slack.sent("chat.postMessage")); n != 2 {
		t.Errorf("%d replies, want 2", n)
	}
}
