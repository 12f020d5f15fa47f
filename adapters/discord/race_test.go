//go:build race

package discord

// raceEnabled is set when the race detector slows everything down, so
// that latency bounds are reported rather than enforced.
const raceEnabled = true
