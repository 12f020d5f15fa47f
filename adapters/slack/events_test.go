package slack

import (
	"testing"

	"github.com/explainerbot/explainer/bot"
)

func TestPlainText(t *testing.T) {
	cases := []struct {
		in, botUser, want string
	}{
		{"<@UBOT> did DeepSeek really use fewer GPUs?", "UBOT", "did DeepSeek really use fewer GPUs?"},
		{"<@UBOT>: what is CUDA?", "UBOT", "what is CUDA?"},
		{"hey <@UBOT>, what is CUDA?", "UBOT", "hey what is CUDA?"},
		{"<@UBOT|explainer> why? <@UBOT>", "UBOT", "why?"},
		{"<@UBOTX> why?", "UBOT", "why?"},
		{"<@UBOT", "UBOT", "<@UBOT"},
		{"what did <@U123|ana> say about <#C999|markets>?", "UBOT", "what did @ana say about #markets?"},
		{"is <https://example.com/a|this article> right?", "UBOT", "is this article right?"},
		{"see <https://example.com/a>", "UBOT", "see https://example.com/a"},
		{"<!here> why did Nvidia fall?", "UBOT", "why did Nvidia fall?"},
		{"is 10 &lt; 20 &amp;&amp; 30 &gt; 5?", "UBOT", "is 10 < 20 && 30 > 5?"},
		{"  lots \n of\tspace  ", "", "lots of space"},
		{"<@UOTHER> what?", "UBOT", "what?"},
		{"", "UBOT", ""},
	}
	for _, c := range cases {
		if got := plainText(c.in, c.botUser); got != c.want {
			t.Errorf("plainText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRoute(t *testing.T) {
	known := func(channel, thread string) bool { return channel == "C1" && thread == "100.1" }
	cases := []struct {
		name    string
		ev      messageEvent
		botUser string
		ok      bool
		q       bot.Question
		to      target
	}{
		{"mention at the top level", messageEvent{Type: "app_mention", User: "U1", Text: "<@UBOT> what is CUDA?", TS: "200.1", Channel: "C1"}, "UBOT",
			true, bot.Question{Text: "what is CUDA?", User: "U1", Platform: "slack", Channel: "C1", Thread: "200.1"}, target{channel: "C1", thread: "200.1"}},
		{"mention in a thread", messageEvent{Type: "app_mention", User: "U1", Text: "<@UBOT> why?", TS: "201.1", ThreadTS: "150.1", Channel: "C2"}, "UBOT",
			true, bot.Question{Text: "why?", User: "U1", Platform: "slack", Channel: "C2", Thread: "150.1"}, target{channel: "C2", thread: "150.1"}},
		{"mention before the bot's id is known", messageEvent{Type: "app_mention", User: "U1", Text: "<@UBOT> why?", TS: "202.1", Channel: "C2"}, "",
			true, bot.Question{Text: "why?", User: "U1", Platform: "slack", Channel: "C2", Thread: "202.1"}, target{channel: "C2", thread: "202.1"}},
		{"direct message", messageEvent{Type: "message", User: "U1", Text: "what is CUDA", TS: "203.1", Channel: "D1", ChannelType: "im"}, "UBOT",
			true, bot.Question{Text: "what is CUDA", User: "U1", Platform: "slack", Channel: "D1", Direct: true}, target{channel: "D1"}},
		{"direct message in a thread", messageEvent{Type: "message", User: "U1", Text: "and?", TS: "204.1", ThreadTS: "203.1", Channel: "D1", ChannelType: "im"}, "UBOT",
			true, bot.Question{Text: "and?", User: "U1", Platform: "slack", Channel: "D1", Thread: "203.1", Direct: true}, target{channel: "D1", thread: "203.1"}},
		{"reply in the bot's thread", messageEvent{Type: "message", User: "U2", Text: "what about AMD?", TS: "205.1", ThreadTS: "100.1", Channel: "C1", ChannelType: "channel"}, "UBOT",
			true, bot.Question{Text: "what about AMD?", User: "U2", Platform: "slack", Channel: "C1", Thread: "100.1"}, target{channel: "C1", thread: "100.1"}},
		{"chatter in the bot's thread", messageEvent{Type: "message", User: "U2", Text: "nice one", TS: "206.1", ThreadTS: "100.1", Channel: "C1", ChannelType: "channel"}, "UBOT",
			true, bot.Question{Text: "nice one", User: "U2", Platform: "slack", Channel: "C1", Thread: "100.1"}, target{channel: "C1", thread: "100.1", quiet: true}},
		{"broadcast reply in the bot's thread", messageEvent{Type: "message", Subtype: "thread_broadcast", User: "U2", Text: "why?", TS: "207.1", ThreadTS: "100.1", Channel: "C1", ChannelType: "channel"}, "UBOT",
			true, bot.Question{Text: "why?", User: "U2", Platform: "slack", Channel: "C1", Thread: "100.1"}, target{channel: "C1", thread: "100.1"}},
		{"reply in another thread", messageEvent{Type: "message", User: "U2", Text: "why?", TS: "208.1", ThreadTS: "99.1", Channel: "C1", ChannelType: "channel"}, "UBOT", false, bot.Question{}, target{}},
		{"thread parent", messageEvent{Type: "message", User: "U2", Text: "why?", TS: "100.1", ThreadTS: "100.1", Channel: "C1", ChannelType: "channel"}, "UBOT", false, bot.Question{}, target{}},
		{"message mentioning the bot (app_mention has it)", messageEvent{Type: "message", User: "U2", Text: "<@UBOT> why?", TS: "209.1", ThreadTS: "100.1", Channel: "C1", ChannelType: "channel"}, "UBOT", false, bot.Question{}, target{}},
		{"the bot itself", messageEvent{Type: "message", User: "UBOT", Text: "answer", TS: "210.1", ThreadTS: "100.1", Channel: "C1", ChannelType: "channel"}, "UBOT", false, bot.Question{}, target{}},
		{"a bot", messageEvent{Type: "message", BotID: "B9", User: "U9", Text: "why?", TS: "211.1", Channel: "D1", ChannelType: "im"}, "UBOT", false, bot.Question{}, target{}},
		{"no user", messageEvent{Type: "message", Text: "why?", TS: "212.1", Channel: "D1", ChannelType: "im"}, "UBOT", false, bot.Question{}, target{}},
		{"an edit", messageEvent{Type: "message", Subtype: "message_changed", TS: "213.1", Channel: "D1", ChannelType: "im"}, "UBOT", false, bot.Question{}, target{}},
		{"a deletion", messageEvent{Type: "message", Subtype: "message_deleted", User: "U1", TS: "214.1", Channel: "D1", ChannelType: "im"}, "UBOT", false, bot.Question{}, target{}},
		{"another event", messageEvent{Type: "reaction_added", User: "U1", Channel: "C1"}, "UBOT", false, bot.Question{}, target{}},
	}
	for _, c := range cases {
		q, to, ok := route(c.ev, c.botUser, known)
		if ok != c.ok || q != c.q || to != c.to {
			t.Errorf("%s: route = %+v %+v %v, want %+v %+v %v", c.name, q, to, ok, c.q, c.to, c.ok)
		}
	}
}

func TestLooksLikeQuestion(t *testing.T) {
	cases := map[string]bool{
		"why did Nvidia fall":  true,
		"What's CUDA":          true,
		"H800?":                true,
		"explain Jevons":       true,
		"thanks!":              false,
		"great, that's useful": false,
		"":                     false,
	}
	for text, want := range cases {
		if got := looksLikeQuestion(text); got != want {
			t.Errorf("looksLikeQuestion(%q) = %v", text, got)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		`Post "https://slack.com/api/chat.postMessage?token=xoxb-1-2-abc": EOF`: `Post "https://slack.com/api/chat.postMessage?token=REDACTED": EOF`,
		"dial wss://wss.slack.com/link/?ticket=abc-123&app_id=A1":               "dial wss://wss.slack.com/link/?ticket=REDACTED&app_id=A1",
		"bad token xapp-1-A1-2-xyz":                                             "bad token xapp-REDACTED",
		"nothing secret":                                                        "nothing secret",
	}
	for in, want := range cases {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
