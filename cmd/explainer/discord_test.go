package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDiscordAPI is Discord's command registration endpoint.
type fakeDiscordAPI struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
	auth  []string
	body  []byte
}

func newFakeDiscordAPI(t *testing.T) *fakeDiscordAPI {
	f := &fakeDiscordAPI{}
	mux := http.NewServeMux()
	register := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.paths = append(f.paths, r.URL.Path)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.body = body
		f.mu.Unlock()
		var cmds []map[string]any
		if err := json.Unmarshal(body, &cmds); err != nil {
			http.Error(w, `{"code":50035,"message":"Invalid Form Body"}`, 400)
			return
		}
		for i, c := range cmds {
			c["id"] = "97000000000000000" + strconv.Itoa(i)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(cmds)
	}
	mux.HandleFunc("PUT /applications/{app}/commands", register)
	mux.HandleFunc("PUT /applications/{app}/guilds/{guild}/commands", register)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func TestDiscordRegister(t *testing.T) {
	const token, app = "discord-bot-token", "900000000000000001"
	tests := []struct {
		name     string
		args     []string
		environ  map[string]string
		code     int
		path     string // where the commands went
		wantOut  []string
		wantErr  string
		noSecret bool
	}{
		{name: "guild flag", args: []string{"--guild", "123"}, path: "/applications/" + app + "/guilds/123/commands",
			wantOut: []string{"Registered 4 commands in server 123", "/ask question:", "/explain topic:", "/about", "/digest subscribe|unsubscribe|now", "(id 970000000000000000)",
				"https://discord.com/oauth2/authorize?client_id=" + app + "&permissions=", "scope=bot+applications.commands"}},
		{name: "guild from settings", environ: map[string]string{"DISCORD_GUILD_ID": "456"}, path: "/applications/" + app + "/guilds/456/commands",
			wantOut: []string{"in server 456"}},
		{name: "global", environ: map[string]string{"DISCORD_GUILD_ID": "456"}, args: []string{"--global"}, path: "/applications/" + app + "/commands",
			wantOut: []string{"Registered 4 commands globally"}},
		{name: "no token", environ: map[string]string{"DISCORD_BOT_TOKEN": ""}, code: 1, wantErr: "DISCORD_BOT_TOKEN is not set"},
		{name: "no app id", environ: map[string]string{"DISCORD_APP_ID": ""}, code: 1, wantErr: "DISCORD_APP_ID"},
		{name: "guild not numeric", args: []string{"--guild", "my-server"}, code: 2, wantErr: "numeric server id"},
		{name: "guild and global", args: []string{"--guild", "1", "--global"}, code: 2, wantErr: "exclude each other"},
		{name: "stray argument", args: []string{"now"}, code: 2, wantErr: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeDiscordAPI(t)
			environ := map[string]string{"DISCORD_BOT_TOKEN": token, "DISCORD_APP_ID": app, "DISCORD_API_URL": api.URL}
			for k, v := range tt.environ {
				environ[k] = v
			}
			envFile := filepath.Join(t.TempDir(), ".env")
			os.WriteFile(envFile, nil, 0o600)
			var out, errOut bytes.Buffer
			args := append([]string{"discord", "register", "--env-file", envFile}, tt.args...)
			code := run(context.Background(), args, mapEnv(environ), strings.NewReader(""), &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.wantErr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String()+errOut.String(), token) {
				t.Error("the bot token was printed")
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if tt.path == "" {
				if len(api.paths) != 0 {
					t.Errorf("registered despite the error: %v", api.paths)
				}
				return
			}
			if len(api.paths) != 1 || api.paths[0] != tt.path || api.auth[0] != "Bot "+token {
				t.Fatalf("calls %v with %v, want one PUT to %s as the bot", api.paths, api.auth, tt.path)
			}
			var cmds []struct {
				Name    string
				Options []struct {
					Name         string
					Type         int
					Required     bool
					Autocomplete bool
				}
			}
			json.Unmarshal(api.body, &cmds)
			if len(cmds) != 4 || cmds[0].Name != "ask" || cmds[1].Name != "explain" || cmds[2].Name != "about" || cmds[3].Name != "digest" {
				t.Fatalf("registered %s", api.body)
			}
			for _, c := range cmds[:2] {
				if len(c.Options) != 1 || c.Options[0].Type != 3 || !c.Options[0].Required || !c.Options[0].Autocomplete {
					t.Errorf("/%s options %+v: want one required string option with autocomplete", c.Name, c.Options)
				}
			}
		})
	}
}

func TestDiscordCommandIsListed(t *testing.T) {
	_, out, _ := runCLI(t, "help")
	if !strings.Contains(out, "discord") {
		t.Errorf("usage does not list the discord command:\n%s", out)
	}
	code, _, errOut := runCLI(t, "discord")
	if code != 2 || !strings.Contains(errOut, "register") {
		t.Errorf("discord without a subcommand: exit %d, %s", code, errOut)
	}
}

// TestDiscordThroughServe runs the Discord HTTP interactions endpoint
// inside serve, behind its middleware: PING gets PONG, /ask answers the
// headline question, autocomplete offers at most 25 choices, forged and
// stale requests get 401.
func TestDiscordThroughServe(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := hex.EncodeToString(key.Public().(ed25519.PublicKey))
	s, _ := newTestServer(t, map[string]string{"DISCORD_PUBLIC_KEY": pub, "DISCORD_APP_ID": "900000000000000001", "EXPLAINER_RATE_LIMIT": "0"})
	ps, _, err := buildPlatforms(context.Background(), s.deps)
	if err != nil || len(ps) != 1 || ps[0].Name() != "discord" {
		t.Fatalf("buildPlatforms = %v, %v; want the discord platform", ps, err)
	}
	if err := ps[0].Ready(); err != nil {
		t.Errorf("HTTP-only Discord not ready: %v", err)
	}
	s.platforms = ps
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	url := "http://" + ln.Addr().String() + "/discord/interactions"

	send := func(body string, signer ed25519.PrivateKey, at time.Time) (int, string) {
		ts := strconv.FormatInt(at.Unix(), 10)
		sig := hex.EncodeToString(ed25519.Sign(signer, []byte(ts+body)))
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature-Ed25519", sig)
		req.Header.Set("X-Signature-Timestamp", ts)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	interaction := func(id string, typ int, data string) string {
		return `{"id":"` + id + `","application_id":"900000000000000001","type":` + strconv.Itoa(typ) + `,"token":"tok-` + id +
			`","version":1,"channel_id":"7001","guild_id":"8001","member":{"user":{"id":"6001","username":"ann"}},"data":` + data + `}`
	}

	if code, body := send(`{"id":"1","application_id":"900000000000000001","type":1,"token":"t","version":1}`, key, time.Now()); code != 200 || body != `{"type":1}` {
		t.Errorf("PING: %d %s", code, body)
	}
	ask := interaction("2", 2, `{"id":"97","name":"ask","type":1,"options":[{"name":"question","type":3,"value":"`+headline+`"}]}`)
	code, body := send(ask, key, time.Now())
	if code != 200 || !strings.Contains(body, `"type":4`) || !strings.Contains(body, "A100") || !strings.Contains(body, "H800") || !strings.Contains(body, "disputed") {
		t.Errorf("/ask: %d %s", code, body)
	}
	start := time.Now()
	code, body = send(interaction("3", 4, `{"id":"97","name":"ask","type":1,"options":[{"name":"question","type":3,"value":"deepseek gpus","focused":true}]}`), key, time.Now())
	took := time.Since(start)
	var ac struct {
		Type int
		Data struct {
			Choices []struct{ Name, Value string }
		}
	}
	json.Unmarshal([]byte(body), &ac)
	if code != 200 || ac.Type != 8 || len(ac.Data.Choices) == 0 || len(ac.Data.Choices) > 25 {
		t.Errorf("autocomplete: %d %s", code, body)
	}
	t.Logf("autocomplete through serve: %d choices in %v", len(ac.Data.Choices), took)

	_, forger, _ := ed25519.GenerateKey(nil)
	if code, _ := send(interaction("4", 2, `{"id":"97","name":"about","type":1}`), forger, time.Now()); code != 401 {
		t.Errorf("forged: %d, want 401", code)
	}
	if code, _ := send(interaction("5", 2, `{"id":"97","name":"about","type":1}`), key, time.Now().Add(-10*time.Minute)); code != 401 {
		t.Errorf("stale: %d, want 401", code)
	}
}
