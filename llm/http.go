package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Reasons a model call fails (Error.Reason); they label metrics.
const (
	ReasonTimeout     = "timeout"      // the deadline passed
	ReasonCanceled    = "canceled"     // the caller gave up
	ReasonRateLimited = "rate_limited" // 429
	ReasonServerError = "server_error" // 5xx
	ReasonClientError = "client_error" // another 4xx: a wrong key, model or URL
	ReasonNetwork     = "network"      // no connection, or it dropped
	ReasonMalformed   = "malformed"    // a reply that is not a chat completion
	ReasonTruncated   = "truncated"    // cut off before the model finished
)

// Error is a failed model call.
type Error struct {
	Reason     string        // one of the Reason constants
	Status     int           // the HTTP status, when there was one
	RetryAfter time.Duration // what the server asked for, if it did
	Err        error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("llm: %s (HTTP %d): %v", e.Reason, e.Status, e.Err)
	}
	return fmt.Sprintf("llm: %s: %v", e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// FailureReason names the failure for the bot's metrics.
func (e *Error) FailureReason() string { return e.Reason }

// classify turns what go-openai or the transport returned into an *Error.
func classify(ctx context.Context, err error, retryAfter time.Duration) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctx.Err() != nil {
		reason := ReasonCanceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = ReasonTimeout
		}
		return &Error{Reason: reason, Err: err}
	}
	status := 0
	var api *openai.APIError
	var req *openai.RequestError
	switch {
	case errors.As(err, &api):
		status = api.HTTPStatusCode
	case errors.As(err, &req):
		status = req.HTTPStatusCode
		err = fmt.Errorf("%s", req.HTTPStatus) // the body may be large; the status says enough
	}
	switch {
	case status == http.StatusTooManyRequests:
		return &Error{Reason: ReasonRateLimited, Status: status, RetryAfter: retryAfter, Err: err}
	case status >= 500:
		return &Error{Reason: ReasonServerError, Status: status, RetryAfter: retryAfter, Err: err}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The message may quote part of the key.
		return &Error{Reason: ReasonClientError, Status: status, Err: errors.New("the server refused the API key (check LLM_API_KEY)")}
	case status >= 400:
		return &Error{Reason: ReasonClientError, Status: status, Err: err}
	case status != 0:
		return &Error{Reason: ReasonMalformed, Status: status, Err: err}
	}
	var netErr net.Error
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errBodyTooLarge), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntax), errors.As(err, &typeErr):
		return &Error{Reason: ReasonMalformed, Err: err}
	case errors.As(err, &netErr), errors.Is(err, io.EOF):
		return &Error{Reason: ReasonNetwork, Err: err}
	}
	return &Error{Reason: ReasonMalformed, Err: err}
}

// doer sends go-openai's requests: it counts them, caps what is read back,
// and notes a Retry-After for the retry loop.
type doer struct {
	client   *http.Client
	requests *atomic.Uint64
}

type hintKey struct{}

// retryHint carries a Retry-After from the transport to the retry loop of
// one Summarize call, which runs the requests one after another.
type retryHint struct{ after time.Duration }

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	d.requests.Add(1)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	if h, ok := req.Context().Value(hintKey{}).(*retryHint); ok && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		h.after = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxBody}
	return resp, nil
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

var errBodyTooLarge = errors.New("reply over 1 MiB")

// limitedBody fails a read past the cap instead of reading on.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
