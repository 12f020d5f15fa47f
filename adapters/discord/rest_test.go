package discord

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// roundTripFunc records the request it is given.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRedirect(t *testing.T) {
	tests := []struct {
		base, in, want string
	}{
		{"http://127.0.0.1:9999", "https://discord.com/api/v9/channels/1/messages", "http://127.0.0.1:9999/channels/1/messages"},
		{"http://127.0.0.1:9999/", "https://discord.com/api/v10/interactions/1/tok/callback", "http://127.0.0.1:9999/interactions/1/tok/callback"},
		{"https://proxy.example/discord/api/v10", "https://discord.com/api/v9/webhooks/1/tok/messages/@original", "https://proxy.example/discord/api/v10/webhooks/1/tok/messages/@original"},
		{"http://127.0.0.1:9999", "https://discord.com/api/v9/gateway", "http://127.0.0.1:9999/gateway"},
		{"http://127.0.0.1:9999", "https://discord.com/api/v9/channels/1/messages/2/reactions/%F0%9F%91%8D/@me", "http://127.0.0.1:9999/channels/1/messages/2/reactions/%F0%9F%91%8D/@me"},
		// Not the API: left alone.
		{"http://127.0.0.1:9999", "https://cdn.discordapp.com/avatars/1/a.png", "https://cdn.discordapp.com/avatars/1/a.png"},
		{"http://127.0.0.1:9999", "https://discord.com/oauth2/authorize", "https://discord.com/oauth2/authorize"},
	}
	for _, tt := range tests {
		var got string
		rt, err := newRedirect(tt.base, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = r.URL.String()
			if r.Host != "" && r.Host != r.URL.Host {
				t.Errorf("Host %q, URL host %q", r.Host, r.URL.Host)
			}
			return &http.Response{StatusCode: 204, Body: io.NopCloser(strings.NewReader(""))}, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", tt.in, nil)
		if _, err := rt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s via %s -> %s, want %s", tt.in, tt.base, got, tt.want)
		}
		if req.URL.String() != tt.in {
			t.Errorf("the caller's request was changed to %s", req.URL)
		}
	}
	for _, bad := range []string{"discord.local", "ftp://x", "http://"} {
		if _, err := newRedirect(bad, nil); err == nil {
			t.Errorf("newRedirect(%q) accepted", bad)
		}
	}
}

func TestRouteHidesTokens(t *testing.T) {
	tests := map[string]string{
		"https://discord.com/api/v9/interactions/123/secret-token/callback":       "/api/v9/interactions/123/:token/callback",
		"https://discord.com/api/v9/webhooks/456/secret-token/messages/@original": "/api/v9/webhooks/456/:token/messages/@original",
		"https://discord.com/api/v9/channels/789/messages":                        "/api/v9/channels/789/messages",
	}
	for in, want := range tests {
		if got := routeOf(in); got != want {
			t.Errorf("routeOf(%s) = %s, want %s", in, got, want)
		}
	}
}
