package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// runSocket holds the Socket Mode connection until ctx ends. slack-go
// reconnects when Slack asks it to or pings stop; this loop starts it
// again when it gives up on anything but refused tokens.
func (a *Adapter) runSocket(ctx context.Context) error {
	client := socketmode.New(a.api)
	consumeCtx, stopConsume := context.WithCancel(ctx)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		a.consume(consumeCtx, client)
	}()
	defer func() {
		stopConsume()
		<-consumed
		a.setSocket(false)
	}()
	wait := time.Second
	for {
		err := client.RunContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var se slackapi.SlackErrorResponse
		var sc slackapi.StatusCodeError
		// RunContext returns only when it cannot connect: a refused token
		// ends here, anything else is tried again.
		if errors.As(err, &se) && fatalAuth[se.Err] || errors.As(err, &sc) && sc.Code == 404 || fatalAuth[err.Error()] {
			return fmt.Errorf("slack: app token refused: %w", err)
		}
		a.setSocket(false)
		a.log.Warn("slack: socket mode stopped, reconnecting", "err", errText(err), "in", wait)
		if !sleep(ctx, wait) {
			return nil
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return redact(err.Error())
}

func (a *Adapter) setSocket(up bool) {
	a.mu.Lock()
	a.socketUp = up
	a.mu.Unlock()
}

// consume handles what the Socket Mode client delivers. Requests are
// acknowledged as soon as their work is queued, well within Slack's 3
// seconds; a request that cannot be queued is left unacknowledged so that
// Slack delivers it again.
func (a *Adapter) consume(ctx context.Context, client *socketmode.Client) {
	for {
		var evt socketmode.Event
		select {
		case <-ctx.Done():
			return
		case evt = <-client.Events:
		}
		switch evt.Type {
		case socketmode.EventTypeConnecting:
			a.setSocket(false)
		case socketmode.EventTypeConnected:
			a.setSocket(true)
			a.log.Info("slack: socket mode connected")
		case socketmode.EventTypeHello:
			a.setSocket(true)
		case socketmode.EventTypeConnectionError:
			a.setSocket(false)
			if e, ok := evt.Data.(*slackapi.ConnectionErrorEvent); ok {
				a.log.Warn("slack: socket mode connection failed", "attempt", e.Attempt, "backoff", e.Backoff, "err", errText(e.ErrorObj))
			}
		case socketmode.EventTypeInvalidAuth:
			a.log.Error("slack: socket mode refused the app token")
		case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
			a.log.Warn("slack: socket mode error", "type", string(evt.Type))
		case socketmode.EventTypeEventsAPI:
			if evt.Request != nil {
				a.socketEvent(client, *evt.Request)
			}
		case socketmode.EventTypeErrorBadMessage:
			// slack-go could not parse it (an event type it does not
			// know); read the envelope ourselves.
			if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
				var req socketmode.Request
				if json.Unmarshal(e.Message, &req) == nil && req.EnvelopeID != "" {
					if req.Type == socketmode.RequestTypeEventsAPI {
						a.socketEvent(client, req)
					} else {
						a.ack(client, req)
					}
				}
			}
		case socketmode.EventTypeSlashCommand:
			// Commands and clicks are not delivered again: when busy, the
			// acknowledgement tells the person.
			cmd, ok := evt.Data.(slackapi.SlashCommand)
			if ok && evt.Request != nil {
				if a.acceptCommand(cmd) {
					a.ack(client, *evt.Request)
				} else {
					a.ack(client, *evt.Request, map[string]string{"response_type": "ephemeral", "text": busyText})
				}
			}
		case socketmode.EventTypeInteractive:
			cb, ok := evt.Data.(slackapi.InteractionCallback)
			if ok && evt.Request != nil {
				a.acceptInteraction(cb)
				a.ack(client, *evt.Request)
			}
		}
	}
}

// socketEvent takes an events_api envelope.
func (a *Adapter) socketEvent(client *socketmode.Client, req socketmode.Request) {
	if req.RetryAttempt > 0 {
		a.log.Debug("slack: event delivered again", "retry", req.RetryAttempt, "reason", req.RetryReason)
	}
	env, err := parseEnvelope(req.Payload)
	if err != nil {
		a.log.Warn("slack: unreadable events_api envelope", "err", err)
		a.ack(client, req)
		return
	}
	if env.Type == "event_callback" && !a.acceptEvent(env) {
		return
	}
	a.ack(client, req)
}

// ack acknowledges an envelope, with a response payload when one is given.
func (a *Adapter) ack(client *socketmode.Client, req socketmode.Request, payload ...any) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var p any
	if len(payload) > 0 {
		p = payload[0]
	}
	if err := client.AckCtx(ctx, req.EnvelopeID, p); err != nil {
		a.log.Warn("slack: acknowledging failed", "type", req.Type, "err", err)
	}
}
