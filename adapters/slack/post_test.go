package slack

import "testing"

func TestResponseURLsAreSlacks(t *testing.T) {
	real := &Adapter{cfg: Config{}}
	proxied := &Adapter{cfg: Config{APIURL: "http://localhost:9999/api/"}}
	cases := []struct {
		url           string
		real, proxied bool
	}{
		{"https://hooks.slack.com/commands/T1/123/abc", true, true},
		{"https://hooks.slack.com/actions/T1/123/abc", true, true},
		{"http://hooks.slack.com/actions/T1/123/abc", false, true},
		{"https://hooks.slack.com.evil.example/actions", false, true},
		{"https://169.254.169.254/latest/meta-data", false, true},
		{"http://localhost:9999/response/1", false, true},
		{"file:///etc/passwd", false, false},
		{"", false, false},
	}
	for _, c := range cases {
		if got := real.checkResponseURL(c.url) == nil; got != c.real {
			t.Errorf("Slack's API: %q accepted=%v, want %v", c.url, got, c.real)
		}
		if got := proxied.checkResponseURL(c.url) == nil; got != c.proxied {
			t.Errorf("API elsewhere: %q accepted=%v, want %v", c.url, got, c.proxied)
		}
	}
}
