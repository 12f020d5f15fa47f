package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestLoad200MentionsAtOnce sends 200 mentions at once over HTTP, each
// also delivered a second time as Slack's retry, and checks that every
// mention gets exactly one reply. It reports the acknowledgement latency.
func TestLoad200MentionsAtOnce(t *testing.T) {
	const n = 200
	h := newHarness(t, harnessOpts{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * n}}
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i], _ = json.Marshal(callback(fmt.Sprintf("EvL%03d", i), mention("C1", "UANA", threadTS(i), "", fmt.Sprintf("<@UBOT> question %d?", i))))
	}
	latencies := make([]time.Duration, 2*n)
	statuses := make([]int, 2*n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Go(func() {
			req := signedRequest(t, h.srv.URL+"/slack/events", "application/json", bodies[i%n], time.Now())
			if i >= n {
				req.Header.Set("X-Slack-Retry-Num", "1")
			}
			<-start
			t0 := time.Now()
			res, err := client.Do(req)
			latencies[i] = time.Since(t0)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	h.idle()

	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	replies := map[string]int{}
	for _, p := range h.slack.sent("chat.postMessage") {
		replies[p.ThreadTS]++
	}
	for i := range n {
		if got := replies[threadTS(i)]; got != 1 {
			t.Errorf("mention %d: %d replies, want 1", i, got)
		}
	}
	if len(replies) != n {
		t.Errorf("replies in %d threads, want %d", len(replies), n)
	}
	p50, p99 := percentile(latencies, 50), percentile(latencies, 99)
	t.Logf("HTTP ack latency over %d requests sent at once: p50 %v, p99 %v, max %v", len(latencies), p50, p99, slices.Max(latencies))
	if p99 > 3*time.Second {
		t.Errorf("p99 ack latency %v exceeds Slack's 3 s", p99)
	}
}

// TestLoad200SocketEnvelopesAtOnce does the same over Socket Mode.
func TestLoad200SocketEnvelopesAtOnce(t *testing.T) {
	const n = 200
	h := newHarness(t, harnessOpts{socket: true, cfg: func(c *Config) { c.SigningSecret = "" }})
	c := h.slack.conn(t)
	sent := make(map[string]time.Time, 2*n)
	for i := range 2 * n {
		id := fmt.Sprintf("envL%03d", i)
		sent[id] = time.Now()
		c.envelope("events_api", id, i/n, callback(fmt.Sprintf("EvSL%03d", i%n), mention("C2", "UANA", threadTS(i%n), "", fmt.Sprintf("<@UBOT> question %d?", i%n))))
	}
	var latencies []time.Duration
	timeout := time.After(20 * time.Second)
	for len(latencies) < 2*n {
		select {
		case a := <-c.acks:
			at, ok := sent[a.EnvelopeID]
			if !ok {
				t.Fatalf("ack for unknown envelope %s", a.EnvelopeID)
			}
			delete(sent, a.EnvelopeID)
			latencies = append(latencies, time.Since(at))
		case <-timeout:
			t.Fatalf("%d envelopes not acknowledged", len(sent))
		}
	}
	h.idle()
	replies := map[string]int{}
	for _, p := range h.slack.sent("chat.postMessage") {
		replies[p.ThreadTS]++
	}
	for i := range n {
		if got := replies[threadTS(i)]; got != 1 {
			t.Errorf("mention %d: %d replies, want 1", i, got)
		}
	}
	t.Logf("Socket Mode ack latency over %d envelopes sent at once: p50 %v, p99 %v", len(latencies), percentile(latencies, 50), percentile(latencies, 99))
}

func threadTS(i int) string { return fmt.Sprintf("1700001%03d.000100", i) }

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// BenchmarkHTTPEventAck measures the time to verify, read and acknowledge
// an Events API request (the work that must fit in Slack's 3 s): a
// mention that is queued for an answer, and a channel message that is not
// for the bot.
func BenchmarkHTTPEventAck(b *testing.B) {
	for _, kind := range []string{"mention", "ignored"} {
		b.Run(kind, func(b *testing.B) {
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON200(w, map[string]any{"ok": true, "ts": "1.1"})
			}))
			defer api.Close()
			a, err := New(Config{BotToken: testBotToken, SigningSecret: testSecret, APIURL: api.URL + "/api/", MaxPending: b.N + 1}, Deps{Asker: &fakeAsker{}})
			if err != nil {
				b.Fatal(err)
			}
			mux := http.NewServeMux()
			a.Mount(mux)
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				ev := mention("C1", "UANA", fmt.Sprintf("1700002000.%06d", i), "", "<@UBOT> what is CUDA?")
				if kind == "ignored" {
					ev = message("C1", "channel", "UANA", fmt.Sprintf("1700002000.%06d", i), "", "lunch?")
				}
				body, _ := json.Marshal(callback(fmt.Sprintf("EvB%d", i), ev))
				reqs[i] = signedRequest(b, "http://x/slack/events", "application/json", body, time.Now())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, reqs[i])
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			b.StopTimer()
			<-a.jobs.idle()
		})
	}
}
