package english

import (
	"strings"
	"testing"
)

func TestIsWord(t *testing.T) {
	for w, want := range map[string]bool{
		"weather": true, "newspaper": true, "believable": true, "relationship": true, "a": true,
		"bitcoin": false, "nvidia": false, "paris": false, "trainium": false, "": false, "zzzz": false,
		"Weather": false, // callers lowercase first
	} {
		if got := IsWord(w); got != want {
			t.Errorf("IsWord(%q) = %v, want %v", w, got, want)
		}
	}
}

// Every line of the list is found, and the list is sorted (binary search
// depends on it).
func TestEveryListedWordIsFound(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(words), "\n")
	if len(lines) < 30000 {
		t.Fatalf("%d words", len(lines))
	}
	for i, w := range lines {
		if i > 0 && lines[i-1] >= w {
			t.Fatalf("not sorted at %q, %q", lines[i-1], w)
		}
		if !IsWord(w) {
			t.Fatalf("IsWord(%q) = false", w)
		}
	}
}

func BenchmarkIsWord(b *testing.B) {
	for i := range b.N {
		IsWord([]string{"weather", "bitcoin", "relationship", "zzz"}[i%4])
	}
}
