package bot

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  did DeepSeek   really\tuse fewer GPUs?  ", "did DeepSeek really use fewer GPUs?"},
		{"<@U024BE7LH> what is the H800?", "what is the H800?"},
		{"<@!123456789> hi <#C1|general>", "hi"},
		{"see <https://example.com/x|the article> now", "see the article now"},
		{"check https://example.com/a?b=c please", "check please"},
		{"NVIDIA’s “drop”", `NVIDIA's "drop"`},
		{"ｆｕｌｌｗｉｄｔｈ", "fullwidth"},
		{"zero\u200bwidth\u200d", "zerowidth"},
		{"line\nbreaks\r\nand\x00nul", "line breaks and nul"},
		{"bad \xff\xfe utf8", "bad utf8"},
		{"", ""},
		{"🤔🤔", "🤔🤔"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"did DeepSeek really use fewer GPUs?", "<@U1> hi", "<https://x|y>", "\xff\xfe", "ｆｕｌｌ", "a\u200bb",
		"🤔", "中文问题", strings.Repeat("a ", 600), "\x00\x01\x02", "<<@>>", "<https://|>", "’’“”",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Normalize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("untrimmed or doubled spaces: %q", got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("control or format character %U left in %q", r, got)
			}
		}
		if again := Normalize(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
