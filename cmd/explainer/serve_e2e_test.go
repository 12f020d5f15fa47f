package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/explainerbot/explainer/bot"
)

// These tests build the explainer and run `explainer serve` as a process:
// real signals, real sockets, real logs.

// proc is a running `explainer serve`.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT

	mu      sync.Mutex
	logs    []map[string]any
	raw     bytes.Buffer
	changed chan struct{} // closed and replaced on every new log line

	exited chan struct{}
	state  *os.ProcessState
}

// buildExplainer compiles the command into a temporary folder.
func buildExplainer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "explainer")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs serve with JSON logs on a free loopback port and waits
// until it listens. environ adds settings to a clean environment.
func startServe(t *testing.T, bin string, environ map[string]string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Dir = t.TempDir() // no .env here
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"LOG_FORMAT=json", "EXPLAINER_ADDR=127.0.0.1:0", "EXPLAINER_RATE_LIMIT=0"}
	for k, v := range environ {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, changed: make(chan struct{}), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				line = map[string]any{"msg": sc.Text()}
			}
			p.mu.Lock()
			p.logs = append(p.logs, line)
			p.raw.Write(sc.Bytes())
			p.raw.WriteByte('\n')
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() {
		<-readDone
		cmd.Wait()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", p.rawLogs())
		}
	})
	line := p.waitLog("listening", nil)
	p.base = "http://" + line["addr"].(string)
	return p
}

func (p *proc) rawLogs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// waitLog waits for a log line with message msg for which match (if set)
// holds, and returns it. It fails the test if the process exits first.
func (p *proc) waitLog(msg string, match func(map[string]any) bool) map[string]any {
	p.t.Helper()
	timeout := time.After(60 * time.Second)
	for i := 0; ; {
		p.mu.Lock()
		for ; i < len(p.logs); i++ {
			if l := p.logs[i]; l["msg"] == msg && (match == nil || match(l)) {
				p.mu.Unlock()
				return l
			}
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.exited:
			p.mu.Lock()
			n := len(p.logs)
			p.mu.Unlock()
			if i == n {
				p.t.Fatalf("serve exited before logging %q", msg)
			}
		case <-timeout:
			p.t.Fatalf("no %q in the log after 60 s", msg)
		}
	}
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit status.
func (p *proc) wait(limit time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(limit):
		p.t.Fatalf("serve still running %s later", limit)
	}
	return p.state.ExitCode()
}

type response struct {
	status int
	header http.Header
	body   string
}

func (p *proc) do(method, path, body string) response {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func (p *proc) ask(q string) bot.Answer {
	p.t.Helper()
	body, _ := json.Marshal(map[string]string{"question": q})
	r := p.do("POST", "/api/ask", string(body))
	if r.status != 200 {
		p.t.Fatalf("POST /api/ask %q: %d %s", q, r.status, r.body)
	}
	var a bot.Answer
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		p.t.Fatal(err)
	}
	return a
}

// metric returns the value of one sample line of /metrics, "" if absent.
func (p *proc) metric(sample string) string {
	p.t.Helper()
	r := p.do("GET", "/metrics", "")
	for _, l := range strings.Split(r.body, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			return v
		}
	}
	return ""
}

// copyKB copies the built-in knowledge base to a folder a test may edit.
func copyKB(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("..", "..", "knowledge", "data")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// slowAsk starts POST /api/ask on its own connection and sends only the
// headers, asking the server to confirm before the body is sent. When it
// returns, the handler is running: it has asked for the body.
func slowAsk(t *testing.T, p *proc, question string) (conn net.Conn, br *bufio.Reader, body string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"question": question})
	body = string(b)
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/ask HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", len(body))
	br = bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100") {
		t.Fatalf("waiting for 100 Continue: %q %v", status, err)
	}
	if blank, _ := br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q", blank)
	}
	return conn, br, body
}

func TestServeProcess(t *testing.T) {
	bin := buildExplainer(t)

	t.Run("api, metrics and a clean stop", func(t *testing.T) {
		p := startServe(t, bin, nil)

		// The headline question, answered as `explainer ask --json` does.
		r := p.do("POST", "/api/ask", `{"question": "`+headline+`"}`)
		want, err := exec.Command(bin, "ask", "--json", headline).Output()
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || r.body != string(want) {
			t.Fatalf("POST /api/ask: %d\n%s\nwant (explainer ask --json):\n%s", r.status, r.body, want)
		}
		var a bot.Answer
		json.Unmarshal([]byte(r.body), &a)
		if !a.Answered {
			t.Fatalf("headline declined: %+v", a)
		}
		for _, w := range []string{"A100", "H800", "Alexandr Wang", "Scale AI"} {
			if !strings.Contains(a.Text, w) {
				t.Errorf("answer lacks %q:\n%s", w, a.Text)
			}
		}
		disputed := false
		for _, pt := range a.Points {
			disputed = disputed || (pt.Standing == bot.StandingDisputed && strings.Contains(pt.Text, "A100"))
		}
		if !disputed {
			t.Errorf("the A100 claim is not marked disputed: %+v", a.Points)
		}

		// Errors, each as JSON with its status.
		big := `{"question": "` + strings.Repeat("x", 9<<10) + `"}`
		for _, tt := range []struct {
			method, path, body string
			status             int
			allow              string
		}{
			{"POST", "/api/ask", `{"question": "   "}`, 400, ""},
			{"POST", "/api/ask", `{"question": `, 400, ""},
			{"POST", "/api/ask", big, 413, ""},
			{"GET", "/api/ask", "", 405, "POST"},
			{"DELETE", "/api/entries", "", 405, "GET, HEAD"},
			{"GET", "/api/entries/no-such-entry", "", 404, ""},
			{"GET", "/api/whatever", "", 404, ""},
		} {
			r := p.do(tt.method, tt.path, tt.body)
			var e struct{ Error string }
			if r.status != tt.status || json.Unmarshal([]byte(r.body), &e) != nil || e.Error == "" || r.header.Get("Allow") != tt.allow {
				t.Errorf("%s %s: %d Allow=%q %s, want %d with a JSON error", tt.method, tt.path, r.status, r.header.Get("Allow"), r.body, tt.status)
			}
		}

		// The knowledge base.
		r = p.do("GET", "/api/entries", "")
		if r.status != 200 || !strings.Contains(r.body, `"id":"deepseek-gpus"`) {
			t.Errorf("GET /api/entries: %d %.200s", r.status, r.body)
		}
		r = p.do("GET", "/api/entries/h800", "")
		if r.status != 200 || !strings.Contains(r.body, `"title":"What is the H800?"`) {
			t.Errorf("GET /api/entries/h800: %d %.200s", r.status, r.body)
		}

		// Operations.
		if got := p.metric(`explainer_questions_total{outcome="answered",platform="api"}`); got != "1" {
			t.Errorf("answered questions counted: %q, want 1", got)
		}
		if got := p.metric(`explainer_answer_duration_seconds_count{platform="api"}`); got != "1" {
			t.Errorf("answer latencies observed: %q, want 1", got)
		}
		if got := p.metric(`explainer_kb_entries`); got == "" || got == "0" {
			t.Errorf("explainer_kb_entries = %q", got)
		}
		if got := p.metric(`process_resident_memory_bytes`); got == "" {
			t.Error("no process metrics")
		}
		if r := p.do("GET", "/healthz", ""); r.status != 200 {
			t.Errorf("healthz: %d", r.status)
		}
		if r := p.do("GET", "/readyz", ""); r.status != 200 || !strings.Contains(r.body, `"kb":"ok"`) {
			t.Errorf("readyz: %d %s", r.status, r.body)
		}
		if r := p.do("GET", "/", ""); r.status != 200 || !strings.Contains(r.body, "<title>Explainer</title>") {
			t.Errorf("GET /: %d", r.status)
		}

		// No platform settings: both are off, with what to set.
		p.waitLog("slack: off: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)", nil)
		p.waitLog("discord: off: set DISCORD_BOT_TOKEN (gateway) or DISCORD_PUBLIC_KEY (HTTP interactions), with DISCORD_APP_ID", nil)

		p.signal(syscall.SIGINT)
		if code := p.wait(30 * time.Second); code != 0 {
			t.Errorf("exit status %d after SIGINT, want 0", code)
		}
		p.waitLog("stopped", nil)
	})

	t.Run("settings are logged with secrets redacted", func(t *testing.T) {
		secrets := map[string]string{
			"SLACK_BOT_TOKEN":      "xoxb-0000-SECRETBOT",
			"SLACK_SIGNING_SECRET": "SECRETSIGNING0000",
			"LLM_API_KEY":          "sk-SECRETLLM",
		}
		p := startServe(t, bin, secrets)
		p.signal(syscall.SIGTERM)
		if code := p.wait(30 * time.Second); code != 0 {
			t.Errorf("exit status %d", code)
		}
		logs := p.rawLogs()
		for k, v := range secrets {
			if strings.Contains(logs, v) || strings.Contains(logs, v[len(v)-6:]) {
				t.Errorf("the log shows %s", k)
			}
		}
		settings := p.waitLog("starting explainer", nil)["settings"].(map[string]any)
		if settings["SLACK_BOT_TOKEN"] != "[set]" || settings["LLM_API_KEY"] != "[set]" || settings["EXPLAINER_ADDR"] != "127.0.0.1:0" {
			t.Errorf("settings logged as %v", settings)
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		p := startServe(t, bin, map[string]string{"EXPLAINER_RATE_LIMIT": "0.01", "EXPLAINER_RATE_BURST": "2"})
		for i := range 2 {
			if r := p.do("POST", "/api/ask", `{"question": "what is the H800?"}`); r.status != 200 {
				t.Fatalf("request %d: %d", i+1, r.status)
			}
		}
		r := p.do("POST", "/api/ask", `{"question": "what is the H800?"}`)
		if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"error"`) {
			t.Fatalf("over the rate: %d Retry-After=%q %s", r.status, r.header.Get("Retry-After"), r.body)
		}
		if got := p.metric(`explainer_rate_limited_total{route="ask"}`); got != "1" {
			t.Errorf("rate-limited requests counted: %q, want 1", got)
		}
		if r := p.do("GET", "/healthz", ""); r.status != 200 {
			t.Errorf("healthz is rate limited: %d", r.status)
		}
	})

	t.Run("SIGTERM lets a slow request finish", func(t *testing.T) {
		p := startServe(t, bin, map[string]string{"EXPLAINER_SHUTDOWN_TIMEOUT": "30s"})
		conn, br, body := slowAsk(t, p, headline)
		// Part of the body, then the signal, then the rest.
		io.WriteString(conn, body[:10])
		p.signal(syscall.SIGTERM)
		p.waitLog("shutting down: finishing requests in flight", nil)

		// It takes no new connections...
		refused := false
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			c, err := net.DialTimeout("tcp", strings.TrimPrefix(p.base, "http://"), time.Second)
			if err != nil {
				refused = true
				break
			}
			c.Close()
			time.Sleep(10 * time.Millisecond)
		}
		if !refused {
			t.Error("new connections still accepted during shutdown")
		}
		select {
		case <-p.exited:
			t.Fatal("exited with a request in flight")
		default:
		}

		// ...but the request in flight gets its whole answer.
		io.WriteString(conn, body[10:])
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || !strings.Contains(string(got), "A100") || !strings.Contains(string(got), "H800") {
			t.Errorf("the request in flight got %d %s", res.StatusCode, got)
		}
		if code := p.wait(30 * time.Second); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
		p.waitLog("stopped", nil)
	})

	t.Run("shutdown gives up after its timeout", func(t *testing.T) {
		p := startServe(t, bin, map[string]string{"EXPLAINER_SHUTDOWN_TIMEOUT": "500ms"})
		slowAsk(t, p, headline) // and never send the body
		start := time.Now()
		p.signal(syscall.SIGTERM)
		code := p.wait(20 * time.Second)
		if code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		if took := time.Since(start); took < 500*time.Millisecond {
			t.Errorf("exited after %s, before the shutdown timeout", took)
		}
		p.waitLog("shutdown timed out; requests or platforms still running were cut off", nil)
	})

	t.Run("SIGHUP reload keeps the old KB when the new one is broken", func(t *testing.T) {
		dir := copyKB(t)
		entry := filepath.Join(dir, "entries", "deepseek-gpus.md")
		p := startServe(t, bin, map[string]string{"EXPLAINER_WATCH_KB": "false"}, "--kb", dir)
		before := p.ask(headline)
		if !before.Answered || !strings.Contains(before.Lead, "A100") {
			t.Fatalf("before: %+v", before)
		}

		edit(t, entry, "kind: topic", "kind: [topic")
		p.signal(syscall.SIGHUP)
		failed := p.waitLog("knowledge base reload failed; still serving the previous one", nil)
		if msg, _ := failed["err"].(string); !strings.Contains(msg, "deepseek-gpus.md:") {
			t.Errorf("the reload error does not name the file and line: %q", msg)
		}
		if a := p.ask(headline); a.Lead != before.Lead || !a.Answered {
			t.Errorf("after a broken reload: %q, want the old %q", a.Lead, before.Lead)
		}
		if got := p.metric(`explainer_kb_reloads_total{result="error"}`); got != "1" {
			t.Errorf("failed reloads counted: %q", got)
		}

		edit(t, entry, "kind: [topic", "kind: topic")
		edit(t, entry, "By DeepSeek's own account, yes", "DeepSeek itself says so")
		p.signal(syscall.SIGHUP)
		p.waitLog("knowledge base reloaded", nil)
		if a := p.ask(headline); !strings.HasPrefix(a.Lead, "DeepSeek itself says so") {
			t.Errorf("after a good reload the lead is %q", a.Lead)
		}
		if got := p.metric(`explainer_kb_reloads_total{result="ok"}`); got != "1" {
			t.Errorf("reloads counted: %q", got)
		}
	})

	t.Run("a change to the KB folder is picked up", func(t *testing.T) {
		dir := copyKB(t)
		p := startServe(t, bin, nil, "--kb", dir)
		p.waitLog("watching the knowledge base for changes", nil)
		edit(t, filepath.Join(dir, "entries", "deepseek-gpus.md"), "By DeepSeek's own account, yes", "DeepSeek itself says so")
		p.waitLog("knowledge base reloaded", nil)
		if a := p.ask(headline); !strings.HasPrefix(a.Lead, "DeepSeek itself says so") {
			t.Errorf("after the change the lead is %q", a.Lead)
		}
	})

	t.Run("SIGHUP with the built-in KB", func(t *testing.T) {
		p := startServe(t, bin, nil)
		p.signal(syscall.SIGHUP)
		p.waitLog("SIGHUP: nothing to reload: the built-in knowledge base is served (use --kb DIR or EXPLAINER_KB)", nil)
		if a := p.ask(headline); !a.Answered {
			t.Error("not answering after SIGHUP")
		}
	})
}
