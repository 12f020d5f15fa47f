package slack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/explainerbot/explainer/bot"
)

// envelope is the outer Events API payload, the same over HTTP and in a
// Socket Mode events_api envelope.
type envelope struct {
	Type           string          `json:"type"`
	Challenge      string          `json:"challenge"`
	TeamID         string          `json:"team_id"`
	EventID        string          `json:"event_id"`
	Event          json.RawMessage `json:"event"`
	Authorizations []struct {
		UserID string `json:"user_id"`
		IsBot  bool   `json:"is_bot"`
	} `json:"authorizations"`
}

// messageEvent holds the fields of app_mention and message events that
// the adapter reads.
type messageEvent struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	User        string `json:"user"`
	BotID       string `json:"bot_id"`
	AppID       string `json:"app_id"`
	Text        string `json:"text"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
}

func parseEnvelope(body []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return env, fmt.Errorf("events payload: %w", err)
	}
	if env.Type == "" {
		return env, fmt.Errorf("events payload: no type")
	}
	return env, nil
}

// botUser is the bot's own user id as the event names it, or "".
func (e envelope) botUser() string {
	for _, a := range e.Authorizations {
		if a.IsBot && a.UserID != "" {
			return a.UserID
		}
	}
	return ""
}

// target is where an answer goes and how.
type target struct {
	channel string
	thread  string // "" posts at the top level (direct messages)
	// quiet answers follow-ups that were not addressed to the bot: a
	// decline is posted only when the message reads like a question.
	quiet bool
}

// route decides whether a message event is a question for the bot and
// where its answer goes. known reports whether the bot is part of a thread.
func route(ev messageEvent, botUser string, known func(channel, thread string) bool) (bot.Question, target, bool) {
	if ev.BotID != "" || ev.User == "" || (botUser != "" && ev.User == botUser) {
		return bot.Question{}, target{}, false // the bot itself, or another bot
	}
	if ev.Subtype != "" && ev.Subtype != "thread_broadcast" {
		return bot.Question{}, target{}, false // edits, joins, deletions, files...
	}
	// The question, read only once the event is known to be one.
	question := func() bot.Question {
		text := ev.Text
		if ev.Type == "app_mention" && botUser == "" {
			// The bot's id is not known yet: the mention that opens an
			// app_mention is the bot's.
			text = leadingMention.ReplaceAllString(text, " ")
		}
		return bot.Question{Text: plainText(text, botUser), User: ev.User, Platform: bot.PlatformSlack, Channel: ev.Channel}
	}
	switch {
	case ev.Type == "app_mention":
		q := question()
		if isDM(ev.Channel) {
			q.Direct = true
			return q, target{channel: ev.Channel, thread: ev.ThreadTS}, true
		}
		thread := ev.ThreadTS
		if thread == "" {
			thread = ev.TS
		}
		q.Thread = thread
		return q, target{channel: ev.Channel, thread: thread}, true
	case ev.Type != "message":
		return bot.Question{}, target{}, false
	case ev.ChannelType == "im" || (ev.ChannelType == "" && isDM(ev.Channel)):
		q := question()
		q.Direct = true
		q.Thread = ev.ThreadTS
		return q, target{channel: ev.Channel, thread: ev.ThreadTS}, true
	}
	// A message in a channel: only replies in threads the bot is part of,
	// and not those that mention it (app_mention delivers those) or that
	// are addressed to someone else.
	if ev.ThreadTS == "" || ev.ThreadTS == ev.TS || !known(ev.Channel, ev.ThreadTS) {
		return bot.Question{}, target{}, false
	}
	mentionsBot, mentionsOther := mentions(ev.Text, botUser)
	if mentionsBot || mentionsOther {
		return bot.Question{}, target{}, false
	}
	q := question()
	q.Thread = ev.ThreadTS
	return q, target{channel: ev.Channel, thread: ev.ThreadTS, quiet: !looksLikeQuestion(q.Text)}, true
}

// isDM reports whether a channel id is a direct message conversation.
func isDM(channel string) bool { return strings.HasPrefix(channel, "D") }

var (
	markup    = regexp.MustCompile(`<([^<>]*)>`)
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// plainText turns Slack message markup into the text a person reads: the
// bot's mention removed, other mentions, channels and links by their
// labels, entities unescaped, spaces collapsed.
func plainText(text, botUser string) string {
	text = removeMention(text, botUser)
	text = markup.ReplaceAllStringFunc(text, func(m string) string {
		inner := m[1 : len(m)-1]
		ref, label, _ := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(ref, "@"):
			if ref[1:] == botUser {
				return " "
			}
			if label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return " "
		case strings.HasPrefix(ref, "#"):
			if label != "" {
				return "#" + label
			}
			return " "
		case strings.HasPrefix(ref, "!"):
			if label != "" {
				return label
			}
			return " " // @here, @channel, @everyone
		default:
			if label != "" {
				return label
			}
			return strings.TrimPrefix(ref, "mailto:")
		}
	})
	text = unescaper.Replace(text)
	text = strings.Join(strings.Fields(text), " ")
	return strings.TrimLeft(text, ",:;-–— ")
}

// removeMention removes the bot's mentions from text, with the comma or
// colon that follows one ("@explainer, why...").
func removeMention(text, botUser string) string {
	if botUser == "" {
		return text
	}
	open := "<@" + botUser
	var b strings.Builder
	for {
		i := strings.Index(text, open)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		end := strings.IndexByte(text[i:], '>')
		next := text[i+len(open):]
		if end < 0 || (next[0] != '>' && next[0] != '|') {
			b.WriteString(text[:i+len(open)])
			text = next
			continue
		}
		b.WriteString(text[:i])
		b.WriteString(" ")
		text = strings.TrimLeft(text[i+end+1:], " ")
		text = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(text, ","), ":"), ";")
	}
}

// leadingMention matches a user mention that opens a message.
var leadingMention = regexp.MustCompile(`^\s*<@[A-Z0-9]+(?:\|[^<>]*)?>`)

var userMention = regexp.MustCompile(`<@([A-Z0-9]+)(?:\|[^<>]*)?>`)

// mentions reports whether text mentions the bot, and whether it mentions
// anyone else.
func mentions(text, botUser string) (self, other bool) {
	for _, m := range userMention.FindAllStringSubmatch(text, -1) {
		if m[1] == botUser {
			self = true
		} else {
			other = true
		}
	}
	return self, other
}

var questionWords = map[string]bool{
	"what": true, "what's": true, "whats": true, "why": true, "how": true, "who": true, "whom": true,
	"whose": true, "when": true, "where": true, "which": true, "is": true, "are": true, "was": true,
	"were": true, "do": true, "does": true, "did": true, "can": true, "could": true, "will": true,
	"would": true, "should": true, "has": true, "have": true, "had": true, "explain": true,
	"tell": true, "define": true, "describe": true,
}

// looksLikeQuestion reports whether a message reads as a question rather
// than conversation ("thanks!", "agreed").
func looksLikeQuestion(text string) bool {
	if strings.Contains(text, "?") {
		return true
	}
	words := strings.Fields(strings.ToLower(text))
	return len(words) > 0 && questionWords[strings.Trim(words[0], ",.!:;")]
}
