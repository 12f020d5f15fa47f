// Command loadtest measures `explainer serve` under load: it keeps N
// clients asking questions over POST /api/ask for a while, then reports
// answers a second, latency percentiles, errors, and the server's resident
// memory at the start and the end.
//
//	EXPLAINER_RATE_LIMIT=0 EXPLAINER_ADDR=127.0.0.1:8080 explainer serve &
//	go run ./cmd/loadtest -url http://127.0.0.1:8080 -c 32 -d 60s -pid $!
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// questions is the default mix: mostly questions the knowledge base
// answers, some it declines, as readers ask them.
var questions = []string{
	"did DeepSeek really use fewer GPUs?",
	"why did nvidia stock drop so much",
	"what is the H800?",
	"what is jevons paradox",
	"who is alexandr wang",
	"does deepseek have more chips than it admits",
	"how much market value did nvidia lose",
	"what did satya nadella say",
	"are export controls working",
	"what is CUDA and why does it matter",
	"is inference going to hurt nvidia",
	"what is deepseek r1",
	"who is gary marcus",
	"should I buy nvidia now",
	"what is nvidia's share price today",
	"write me a poem about gpus",
	"what's the weather in paris",
	"deepseek gpu count legit?",
}

type config struct {
	url      string
	clients  int
	duration time.Duration
	pid      int
	file     string
	minRate  float64
	maxP99   time.Duration
	unique   bool
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080", "base `URL` of explainer serve")
	flag.IntVar(&c.clients, "c", 32, "concurrent clients")
	flag.DurationVar(&c.duration, "d", 60*time.Second, "how long to run")
	flag.IntVar(&c.pid, "pid", 0, "the server's process id, to report its memory (VmRSS)")
	flag.StringVar(&c.file, "questions", "", "ask the questions in this `file`, one a line (default: a built-in mix)")
	flag.BoolVar(&c.unique, "unique", false, "make every request's question distinct (with filler words the bot ignores), so no answer comes from the server's cache")
	flag.Float64Var(&c.minRate, "min-rate", 0, "exit 1 if fewer answers a second than this")
	flag.DurationVar(&c.maxP99, "max-p99", 0, "exit 1 if the 99th percentile latency is over this")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, c, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

type worker struct {
	latencies []time.Duration
	answered  int
	declined  int
	errors    int
	firstErr  string
}

func run(ctx context.Context, c config, out io.Writer) (bool, error) {
	qs := questions
	if c.file != "" {
		var err error
		if qs, err = readLines(c.file); err != nil {
			return false, err
		}
	}
	if c.unique {
		qs = uniqueVariants(qs)
	}
	bodies := make([][]byte, len(qs))
	for i, q := range qs {
		bodies[i], _ = json.Marshal(map[string]string{"question": q})
	}
	target := strings.TrimSuffix(c.url, "/") + "/api/ask"
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        c.clients,
			MaxIdleConnsPerHost: c.clients,
			MaxConnsPerHost:     c.clients,
			DisableCompression:  true,
		},
	}
	// One request first: a server that is not there is an error, not a
	// minute of failures.
	if _, _, err := askOnce(ctx, client, target, bodies[0], nil); err != nil {
		return false, fmt.Errorf("first request: %w", err)
	}

	rssStart, rssErr := rss(c.pid)
	rssMax := rssStart
	fmt.Fprintf(out, "%d clients, %s, %d questions, POST %s\n", c.clients, c.duration, len(qs), target)

	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	workers := make([]*worker, c.clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &worker{latencies: make([]time.Duration, 0, 1<<16)}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 16<<10)
			for n := i; ctx.Err() == nil; n++ {
				t0 := time.Now()
				answered, b, err := askOnce(ctx, client, target, bodies[n%len(bodies)], buf)
				buf = b
				if ctx.Err() != nil {
					return // cut off by the end of the run: not counted
				}
				w.latencies = append(w.latencies, time.Since(t0))
				switch {
				case err != nil:
					w.errors++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
				case answered:
					w.answered++
				default:
					w.declined++
				}
			}
		}()
	}
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	sample := time.NewTicker(time.Second)
	defer sample.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-sample.C:
			if r, err := rss(c.pid); err == nil && r > rssMax {
				rssMax = r
			}
		case <-tick.C:
			line := fmt.Sprintf("  %3.0fs", time.Since(start).Seconds())
			if r, err := rss(c.pid); err == nil {
				line += fmt.Sprintf("  server RSS %s", mib(r))
			}
			fmt.Fprintln(out, line)
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	rssEnd, _ := rss(c.pid)
	if rssEnd > rssMax {
		rssMax = rssEnd
	}

	var all []time.Duration
	var answered, declined, errs int
	firstErr := ""
	for _, w := range workers {
		all = append(all, w.latencies...)
		answered += w.answered
		declined += w.declined
		errs += w.errors
		if firstErr == "" {
			firstErr = w.firstErr
		}
	}
	slices.Sort(all)
	ok := answered+declined > 0
	rate := float64(answered+declined) / elapsed.Seconds()
	fmt.Fprintf(out, "requests   %d in %s (%d answered, %d declined, %d errors)\n", len(all), elapsed.Round(time.Millisecond), answered, declined, errs)
	fmt.Fprintf(out, "answers/s  %.0f\n", rate)
	fmt.Fprintf(out, "latency    p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		pct(all, 50), pct(all, 90), pct(all, 99), pct(all, 99.9), pct(all, 100))
	if rssErr == nil {
		fmt.Fprintf(out, "server RSS start %s  end %s  max %s\n", mib(rssStart), mib(rssEnd), mib(rssMax))
	} else if c.pid != 0 {
		fmt.Fprintf(out, "server RSS unknown: %v\n", rssErr)
	}
	if errs > 0 {
		fmt.Fprintf(out, "first error: %s\n", firstErr)
		ok = false
	}
	if c.minRate > 0 && rate < c.minRate {
		fmt.Fprintf(out, "FAIL: %.0f answers/s is under %.0f\n", rate, c.minRate)
		ok = false
	}
	if c.maxP99 > 0 && pct(all, 99) > c.maxP99 {
		fmt.Fprintf(out, "FAIL: p99 %s is over %s\n", pct(all, 99), c.maxP99)
		ok = false
	}
	return ok, nil
}

// askOnce posts one question and reads the whole answer into buf.
func askOnce(ctx context.Context, client *http.Client, url string, body, buf []byte) (answered bool, _ []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, buf, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return false, buf, err
	}
	defer res.Body.Close()
	b := bytes.NewBuffer(buf[:0])
	if _, err := b.ReadFrom(res.Body); err != nil {
		return false, b.Bytes(), err
	}
	if res.StatusCode != http.StatusOK {
		return false, b.Bytes(), fmt.Errorf("status %d: %s", res.StatusCode, bytes.TrimSpace(b.Bytes()))
	}
	return bytes.Contains(b.Bytes(), []byte(`"answered":true`)), b.Bytes(), nil
}

// rss reads a process's resident memory from /proc/PID/status.
func rss(pid int) (int64, error) {
	if pid == 0 {
		return 0, errors.New("no -pid")
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i].Round(10 * time.Microsecond)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return out, nil
}

// uniqueVariants returns each question many times, each time after a
// different run of filler words ("hey so btw ..."), which the bot gives no
// weight: the same answers, but far more distinct questions than the
// server's answer cache holds.
func uniqueVariants(qs []string) []string {
	filler := []string{"hey", "so", "ok", "yo", "btw", "hmm", "tbh", "ngl", "pls", "lol"}
	out := make([]string, 0, len(qs)*1000)
	for n := range 1000 {
		prefix := filler[n/100] + " " + filler[n/10%10] + " " + filler[n%10]
		for _, q := range qs {
			out = append(out, prefix+" "+q)
		}
	}
	return out
}
