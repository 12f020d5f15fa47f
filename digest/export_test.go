package digest

import "context"

// Similar is how alike two texts are to the composer, from 0 to 1.
func Similar(a, b string) float64 { return similarity(words(a), words(b)) }

// SameWording is the similarity from which two points are one.
const SameWording = sameWording

// SweepOnce runs one sweep now, for benchmarks.
func SweepOnce(ctx context.Context, s *Scheduler) { s.sweepOnce(ctx) }

// Look makes a Weekly look once whether its report is due.
func Look(ctx context.Context, w *Weekly) { w.look(ctx) }
