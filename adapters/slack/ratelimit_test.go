package slack

import (
	"net/http"
	"strings"
	"testing"
)

func TestRateLimitedPostWaitsRetryAfterAndSucceeds(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.slack.setPostHook(func(w http.ResponseWriter, method string, n int) bool {
		if method == "chat.postMessage" && n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"ok":false,"error":"ratelimited"}`, http.StatusTooManyRequests)
			return true
		}
		return false
	})
	h.event(callback("EvR1", mention("C1", "UANA", "1700000301.000100", "", "<@UBOT> what is CUDA?")), nil)
	p := h.slack.next(t)
	if p.ThreadTS != "1700000301.000100" || !strings.Contains(p.Blocks, "Answer to: what is CUDA?") {
		t.Errorf("reply %+v", p)
	}
	h.idle()
	// One 429, one success: slack-go did not retry on its own as well.
	if n := h.slack.count("chat.postMessage"); n != 2 {
		t.Errorf("chat.postMessage called %d times, want 2", n)
	}
	if !strings.Contains(h.logs.String(), "rate limited, waiting") || !strings.Contains(h.logs.String(), "retry_after=1s") {
		t.Errorf("the wait is not logged:\n%s", h.logs.String())
	}
}

func TestRateLimitedPostGivesUpAfterBound(t *testing.T) {
	h := newHarness(t, harnessOpts{cfg: func(c *Config) { c.PostAttempts = 3 }})
	h.slack.setPostHook(func(w http.ResponseWriter, method string, n int) bool {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	h.event(callback("EvR2", mention("C1", "UANA", "1700000302.000100", "", "<@UBOT> what is CUDA?")), nil)
	h.idle()
	if n := h.slack.count("chat.postMessage"); n != 3 {
		t.Errorf("chat.postMessage called %d times, want 3 (the bound)", n)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "rate limited, giving up") || !strings.Contains(logs, "posting an answer failed") {
		t.Errorf("giving up is not logged:\n%s", logs)
	}
}

func TestRetryAfterLongerThanTheBoundIsNotWaited(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.slack.setPostHook(func(w http.ResponseWriter, method string, n int) bool {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	h.event(callback("EvR3", mention("C1", "UANA", "1700000303.000100", "", "<@UBOT> what is CUDA?")), nil)
	h.idle()
	if n := h.slack.count("chat.postMessage"); n != 1 {
		t.Errorf("chat.postMessage called %d times, want 1", n)
	}
}
