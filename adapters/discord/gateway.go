package discord

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/explainerbot/explainer/bot"
)

// Intents are the gateway events the bot asks for: guilds (required for
// guild events), guild messages and direct messages (for mentions and
// DMs). Not Message Content, a privileged intent: Discord still delivers
// the content of messages that mention the bot, and of DMs.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages

// Reconnect backoff after a failed connection attempt.
const (
	minBackoff = time.Second
	maxBackoff = time.Minute
)

// gateway runs the bot's gateway session. discordgo's own reconnect loop
// is off (it cannot be stopped once started); run reconnects instead,
// resuming the session when Discord allows.
type gateway struct {
	a *Adapter
	s *discordgo.Session

	disconnected chan struct{}

	mu   sync.Mutex
	conn net.Conn // the connection last dialed, to cut a stuck handshake
}

// openTimeout bounds connecting: dial, HELLO, IDENTIFY or RESUME, READY.
const openTimeout = 30 * time.Second

func newGateway(a *Adapter, s *discordgo.Session) *gateway {
	g := &gateway{a: a, s: s, disconnected: make(chan struct{}, 1)}
	s.Dialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
			if err == nil {
				g.mu.Lock()
				g.conn = c
				g.mu.Unlock()
			}
			return c, err
		},
	}
	s.Identify.Intents = Intents
	s.Identify.Compress = false
	s.Compress = false
	s.AddHandler(g.onReady)
	s.AddHandler(g.onResumed)
	s.AddHandler(g.onDisconnect)
	s.AddHandler(g.onInteraction)
	s.AddHandler(g.onMessage)
	return g
}

// run keeps the session connected until ctx ends.
func (g *gateway) run(ctx context.Context) error {
	log := g.a.log
	backoff := minBackoff
	for {
		err := g.open(ctx)
		if ctx.Err() != nil {
			g.close()
			return nil
		}
		switch {
		case err == nil, errors.Is(err, discordgo.ErrWSAlreadyOpen):
			// Open returns once Discord has said READY (or RESUMED).
			g.a.connected.Store(true)
			backoff = minBackoff
			select {
			case <-ctx.Done():
				g.close()
				return nil
			case <-g.disconnected:
				log.Warn("discord: gateway disconnected; reconnecting")
				continue
			}
		case fatal(err):
			g.close()
			return fmt.Errorf("discord gateway: %w", err)
		}
		log.Warn("discord: gateway connection failed", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			g.close()
			return nil
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// open connects the session. discordgo's Open takes no context and waits
// for HELLO and READY without a deadline; when ctx ends or Discord stays
// silent, the connection being opened is cut, which ends Open.
func (g *gateway) open(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- g.s.Open() }()
	t := time.NewTimer(openTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		g.cut()
		return errors.Join(ctx.Err(), <-done)
	case <-t.C:
		g.cut()
		return fmt.Errorf("no READY within %v: %w", openTimeout, <-done)
	}
}

// cut closes the connection last dialed.
func (g *gateway) cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		g.conn.Close()
	}
}

func (g *gateway) close() {
	g.a.connected.Store(false)
	if err := g.s.Close(); err != nil {
		g.a.log.Debug("discord: close gateway", "err", err)
	}
}

// fatal reports whether err means Discord will not accept the session
// however often it is retried.
func fatal(err error) bool {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case 4004, // authentication failed
			4010, // invalid shard
			4011, // sharding required
			4012, // invalid API version
			4013, // invalid intents
			4014: // disallowed intents
			return true
		}
	}
	var re *discordgo.RESTError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == 401
}

func (g *gateway) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	g.a.log.Info("discord: gateway ready", "guilds", len(r.Guilds))
}

func (g *gateway) onResumed(_ *discordgo.Session, _ *discordgo.Resumed) {
	g.a.log.Info("discord: gateway resumed")
}

func (g *gateway) onDisconnect(_ *discordgo.Session, _ *discordgo.Disconnect) {
	g.a.connected.Store(false)
	select {
	case g.disconnected <- struct{}{}:
	default:
	}
}

// me is the bot's user id, from READY. discordgo records it before it
// dispatches any later event, so every message handler sees it.
func (g *gateway) me() string {
	st := g.s.State
	st.RLock()
	defer st.RUnlock()
	if st.Ready.User == nil {
		return ""
	}
	return st.Ready.User.ID
}

// onInteraction answers an interaction that came over the gateway: the
// first response goes by REST within Discord's three seconds.
func (g *gateway) onInteraction(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	received := time.Now()
	i := ic.Interaction
	if i == nil || !g.a.seen.add("i:"+i.ID) {
		return
	}
	g.a.work.start(func() {
		defer func() { g.a.recovered(recover(), "gateway interaction", debug.Stack()) }()
		ctx, cancel := laterContext()
		defer cancel()
		rep := g.a.handle(ctx, i, received)
		first, cancelFirst := context.WithDeadline(ctx, received.Add(interactionWindow))
		err := g.a.rest.respond(first, i, rep.first)
		cancelFirst()
		if err != nil {
			g.a.log.Error("discord: interaction response", "interaction", i.ID, "err", err)
			return
		}
		if rep.later != nil {
			rep.later(ctx)
		}
	})
}

// onMessage answers a message that mentions the bot, or a direct message,
// with a reply to it.
func (g *gateway) onMessage(_ *discordgo.Session, m *discordgo.MessageCreate) {
	me := g.me()
	if m.Message == nil || m.Author == nil || m.Author.Bot || me == "" || m.Author.ID == me {
		return
	}
	direct := m.GuildID == ""
	if !direct && !mentions(m.Mentions, me) {
		return
	}
	if !g.a.seen.add("m:" + m.ID) {
		return
	}
	g.a.work.start(func() {
		defer func() { g.a.recovered(recover(), "mention", debug.Stack()) }()
		ctx, cancel := context.WithTimeout(context.Background(), g.a.cfg.AnswerTimeout)
		defer cancel()
		text := stripMention(m.Content, me)
		q := bot.Question{Text: text, User: m.Author.ID, Platform: bot.PlatformDiscord, Channel: m.ChannelID, Direct: direct}
		var ans bot.Answer
		var err error
		growingID := "" // a reply showing the answer as it grew (stream.go)
		if s, ok := g.a.deps.Asker.(StreamAsker); ok {
			ans, growingID, err = g.askGrowing(ctx, s, m, q)
		} else {
			ans, err = g.a.deps.Asker.Ask(ctx, q)
		}
		msgs := []message{{Content: msgFailed}}
		if err != nil {
			g.a.log.Error("discord: answer mention", "err", err)
		} else {
			msgs = renderAnswer(text, ans, renderOptions{feedback: g.a.deps.Feedback != nil})
		}
		if growingID != "" {
			g.finishGrowing(ctx, m.ChannelID, growingID, msgs)
			return
		}
		for n, msg := range msgs {
			msg.AllowedMentions = noPings()
			if n == 0 {
				no := false
				msg.MessageReference = &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, FailIfNotExists: &no}
				msg.AllowedMentions.RepliedUser = true
			}
			if err := g.a.rest.send(ctx, m.ChannelID, msg); err != nil {
				g.a.log.Error("discord: reply to mention", "err", err)
				return
			}
		}
	})
}

func mentions(users []*discordgo.User, id string) bool {
	for _, u := range users {
		if u != nil && u.ID == id {
			return true
		}
	}
	return false
}

var mentionRE = regexp.MustCompile(`<@!?(\d+)>`)

// stripMention removes mentions of the bot from a message's text, and the
// punctuation that addressed it ("@bot, what is CUDA?").
func stripMention(content, botID string) string {
	out := mentionRE.ReplaceAllStringFunc(content, func(m string) string {
		if mentionRE.FindStringSubmatch(m)[1] == botID {
			return " "
		}
		return m
	})
	out = strings.Join(strings.Fields(out), " ")
	return strings.TrimLeft(out, ",:;-— ")
}
