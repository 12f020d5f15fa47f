package slack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/explainerbot/explainer/bot"
)

const (
	busyText  = "I'm answering a lot of questions right now; please ask again in a minute."
	sorryText = "Sorry, something went wrong while I was answering that. Please try again."
)

// acceptEvent takes an Events API callback. Events that are not questions
// for the bot are dropped here; questions are answered in the background.
// It returns false only when too many questions are waiting.
func (a *Adapter) acceptEvent(env envelope) bool {
	var ev messageEvent
	if err := json.Unmarshal(env.Event, &ev); err != nil {
		a.log.Warn("slack: unreadable event", "event_id", env.EventID, "err", err)
		return true
	}
	botUser := a.botUserID()
	if botUser == "" {
		botUser = env.botUser()
	}
	q, to, ok := route(ev, botUser, a.inThread)
	if !ok {
		return true
	}
	return a.dispatch(ev.Type, func(ctx context.Context) {
		// Once per delivery (retries share the event id), and once per
		// message: a mention in a thread arrives as app_mention and as
		// message, and an edit that adds a mention arrives again.
		if !a.firstSeen(ctx, "slack:event", env.EventID) || !a.firstSeen(ctx, "slack:message", ev.Channel+"/"+ev.TS) {
			return
		}
		a.answerInChannel(ctx, q, to, renderOptions{})
	})
}

// answerInChannel answers a question and posts the answer where to says.
// With a StreamAsker, a fluent answer shows as it is written, and the
// final answer replaces it (stream.go).
func (a *Adapter) answerInChannel(ctx context.Context, q bot.Question, to target, o renderOptions) {
	start := time.Now()
	var ans bot.Answer
	var err error
	growingTS := "" // the message showing a growing answer, if one was posted
	if s, ok := a.asker.(StreamAsker); ok {
		g := a.grow(ctx, to.channel, to.thread)
		ans, err = s.AskStream(ctx, q, g.partial)
		growingTS = g.stop()
	} else {
		ans, err = a.asker.Ask(ctx, q)
	}
	if err != nil {
		a.log.Error("slack: answering failed", "channel", q.Channel, "err", err)
		if growingTS != "" {
			a.finishGrowing(ctx, to.channel, to.thread, growingTS, []Message{textMessage(sorryText)})
			return
		}
		a.postMessages(ctx, to.channel, to.thread, []Message{textMessage(sorryText)})
		return
	}
	if to.quiet && !ans.Answered && growingTS == "" {
		a.log.Debug("slack: not answering a thread reply that is not a question", "channel", q.Channel, "reason", ans.Reason)
		return
	}
	// The bot is part of the thread from now: a reply may come as soon as
	// the answer shows.
	a.joinThread(to.channel, to.thread)
	if growingTS != "" {
		if err := a.finishGrowing(ctx, to.channel, to.thread, growingTS, renderAnswer(ans, o)); err != nil {
			a.log.Error("slack: posting an answer failed", "channel", to.channel, "err", redact(err.Error()))
			return
		}
		a.log.Debug("slack: answered as it was written", "channel", to.channel, "fluent", ans.Fluent, "entries", ans.Entries, "took", time.Since(start))
		return
	}
	if _, err := a.postMessages(ctx, to.channel, to.thread, renderAnswer(ans, o)); err != nil {
		a.log.Error("slack: posting an answer failed", "channel", to.channel, "err", redact(err.Error()))
		return
	}
	a.log.Debug("slack: answered", "channel", to.channel, "answered", ans.Answered, "entries", ans.Entries, "took", time.Since(start))
}

// acceptCommand takes a slash command: help, or a question answered only
// to the person who asked, with a button to share the answer.
func (a *Adapter) acceptCommand(cmd slackapi.SlashCommand) bool {
	return a.dispatch("command", func(ctx context.Context) {
		if !a.firstSeen(ctx, "slack:command", cmd.TriggerID) {
			return
		}
		text := plainText(cmd.Text, a.botUserID())
		if args, ok := digestArgs(text); ok {
			a.digestCommand(ctx, cmd, args)
			return
		}
		if text == "" || strings.EqualFold(text, "help") || text == "?" {
			a.respond(ctx, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, "", renderHelp(a.asker.About(), a.cfg.Command, a.botUserID()))
			return
		}
		q := bot.Question{Text: text, User: cmd.UserID, Platform: bot.PlatformSlack, Channel: cmd.ChannelID, Direct: isDM(cmd.ChannelID)}
		a.answerPrivately(ctx, q, cmd.ResponseURL, "")
	})
}

// answerPrivately answers a question ephemerally, with a button to share
// the answer in the channel.
func (a *Adapter) answerPrivately(ctx context.Context, q bot.Question, responseURL, thread string) {
	ans, err := a.asker.Ask(ctx, q)
	if err != nil {
		a.log.Error("slack: answering failed", "channel", q.Channel, "err", err)
		a.respond(ctx, responseURL, q.Channel, q.User, thread, []Message{textMessage(sorryText)})
		return
	}
	key := rand.Text()
	a.answers.Add(key, ans)
	a.respond(ctx, responseURL, q.Channel, q.User, thread, renderAnswer(ans, renderOptions{share: key}))
}

// acceptInteraction takes a button click.
func (a *Adapter) acceptInteraction(cb slackapi.InteractionCallback) bool {
	if cb.Type != slackapi.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 || cb.ActionCallback.BlockActions[0] == nil {
		return true
	}
	act := *cb.ActionCallback.BlockActions[0]
	kind, _, _ := strings.Cut(act.ActionID, ":")
	if kind != actionAsk && kind != "vote" && kind != actionShare {
		return true
	}
	if cb.Channel.ID == "" {
		cb.Channel.ID = cb.Container.ChannelID
	}
	return a.dispatch(kind, func(ctx context.Context) {
		if !a.firstSeen(ctx, "slack:action", cb.User.ID+"/"+act.ActionTs+"/"+cb.TriggerID) {
			return
		}
		switch kind {
		case actionAsk:
			a.askFollowup(ctx, cb, act.Value)
		case "vote":
			a.vote(ctx, cb, act.ActionID == actionVoteUp, act.Value)
		case actionShare:
			a.share(ctx, cb, act.Value)
		}
	})
}

// askFollowup asks a question from a button, in the same place: the same
// thread, the same direct message, or privately again.
func (a *Adapter) askFollowup(ctx context.Context, cb slackapi.InteractionCallback, question string) {
	// The value is the question as the bot wrote it, not Slack markup.
	text := strings.TrimSpace(truncateRunes(question, bot.MaxQuestionRunes))
	channel := cb.Channel.ID
	q := bot.Question{Text: text, User: cb.User.ID, Platform: bot.PlatformSlack, Channel: channel, Direct: isDM(channel)}
	if cb.Container.IsEphemeral {
		a.answerPrivately(ctx, q, cb.ResponseURL, cb.Container.ThreadTs)
		return
	}
	thread := cb.Container.ThreadTs
	if thread == "" && !isDM(channel) {
		thread = cb.Container.MessageTs
	}
	q.Thread = thread
	a.answerInChannel(ctx, q, target{channel: channel, thread: thread}, renderOptions{askedBy: cb.User.ID})
}

// vote records a 👍 or 👎 and thanks the voter, privately.
func (a *Adapter) vote(ctx context.Context, cb slackapi.InteractionCallback, helpful bool, value string) {
	var v voteValue
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		a.log.Warn("slack: unreadable vote button", "err", err)
		return
	}
	msg := cb.Container.MessageTs
	if !a.firstSeen(ctx, "slack:vote", cb.Channel.ID+"/"+msg+"/"+cb.User.ID) {
		a.acknowledge(ctx, cb, "You've already rated this answer; thanks.")
		return
	}
	f := bot.Feedback{
		Platform: bot.PlatformSlack,
		Channel:  cb.Channel.ID,
		User:     cb.User.ID,
		Question: truncateRunes(v.Q, bot.MaxQuestionRunes),
		Entries:  v.E,
		Helpful:  helpful,
		At:       time.Now().UTC(),
	}
	if a.feedback != nil {
		if err := a.feedback.RecordFeedback(ctx, f); err != nil {
			a.log.Error("slack: recording feedback failed", "err", err)
			a.acknowledge(ctx, cb, "Sorry, I couldn't record that just now.")
			return
		}
	} else {
		a.log.Info("slack: feedback", "helpful", helpful, "entries", f.Entries)
	}
	if helpful {
		a.acknowledge(ctx, cb, "Thanks! Glad that helped. 👍")
	} else {
		a.acknowledge(ctx, cb, "Thanks for telling me. 👎 The people who curate my knowledge base review answers that missed.")
	}
}

// share posts an answer that was shown privately for the whole channel,
// and removes the private copy.
func (a *Adapter) share(ctx context.Context, cb slackapi.InteractionCallback, value string) {
	var v shareValue
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		a.log.Warn("slack: unreadable share button", "err", err)
		return
	}
	ans, ok := a.answers.Get(v.K)
	if !ok {
		// Forgotten (restart or many answers since): ask again.
		var err error
		ans, err = a.asker.Ask(ctx, bot.Question{Text: truncateRunes(v.Q, bot.MaxQuestionRunes), User: cb.User.ID, Platform: bot.PlatformSlack, Channel: cb.Channel.ID})
		if err != nil {
			a.log.Error("slack: answering failed", "channel", cb.Channel.ID, "err", err)
			a.acknowledge(ctx, cb, sorryText)
			return
		}
	}
	msgs := renderAnswer(ans, renderOptions{sharedBy: cb.User.ID})
	ts, err := a.postMessages(ctx, cb.Channel.ID, cb.Container.ThreadTs, msgs)
	if err != nil {
		// The bot may not be in the channel; the response URL can still
		// post there.
		a.log.Info("slack: sharing through chat.postMessage failed, using the response URL", "channel", cb.Channel.ID, "err", redact(err.Error()))
		if err := a.respondURL(ctx, cb.ResponseURL, "in_channel", false, msgs); err != nil {
			a.log.Error("slack: sharing an answer failed", "channel", cb.Channel.ID, "err", redact(err.Error()))
			a.acknowledge(ctx, cb, "Sorry, I couldn't post that here. Invite me to the channel and try again.")
			return
		}
	} else if cb.Container.ThreadTs == "" {
		a.joinThread(cb.Channel.ID, ts)
	}
	if cb.ResponseURL != "" {
		if err := a.deleteOriginal(ctx, cb.ResponseURL); err != nil {
			a.log.Warn("slack: removing the private answer failed", "err", redact(err.Error()))
		}
	}
}

// acknowledge tells the person who clicked, and only them.
func (a *Adapter) acknowledge(ctx context.Context, cb slackapi.InteractionCallback, text string) {
	msgs := []Message{textMessage(text)}
	if cb.Container.IsEphemeral {
		a.respond(ctx, cb.ResponseURL, cb.Channel.ID, cb.User.ID, cb.Container.ThreadTs, msgs)
		return
	}
	if err := a.postEphemeral(ctx, cb.Channel.ID, cb.User.ID, cb.Container.ThreadTs, msgs[0]); err != nil {
		a.log.Info("slack: chat.postEphemeral failed, using the response URL", "err", redact(err.Error()))
		if err := a.respondURL(ctx, cb.ResponseURL, "ephemeral", false, msgs); err != nil {
			a.log.Error("slack: acknowledging a click failed", "err", redact(err.Error()))
		}
	}
}
