// Package digest composes the daily digest from the knowledge base and
// posts it to every subscribed channel once a day, at each channel's local
// time.
//
// The digest for a date is the same on every channel and every platform: a
// headline explainer (the knowledge base's first featured entry), three to
// five key points that rotate day by day so that no point repeats before
// every point has been shown, a question of the day and a line on where to
// ask more. Digest carries the parts so that adapters render them in their
// platform's own format; Text renders it as plain text.
//
// The Scheduler posts it exactly once a day per subscription; see
// scheduler.go for how restarts, failures and crashes are handled.
package digest

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/explainerbot/explainer/bot"
	"github.com/explainerbot/explainer/knowledge"
)

// Digest is one day's digest.
type Digest struct {
	Date  Date   `json:"-"`
	Day   string `json:"date"`  // Date as YYYY-MM-DD
	Title string `json:"title"` // "Daily brief for Monday 27 January 2025"
	Topic string `json:"topic"` // what the bot explains
	// Summary is a short fluent summary of the points written by a language
	// model; it is set only when one passed the grounding guard.
	Summary  string        `json:"summary,omitempty"`
	Headline Headline      `json:"headline"`
	Points   []KeyPoint    `json:"points"`
	Question QuestionOfDay `json:"question"`
	AskMore  string        `json:"ask_more"`
	Rotation Rotation      `json:"rotation"`
}

// Headline is the explainer the digest leads with.
type Headline struct {
	Entry   string   `json:"entry"`
	Title   string   `json:"title"`
	Lead    string   `json:"lead"`
	Sources []string `json:"sources"` // "article, paragraph 2"
}

// KeyPoint is one of the day's points, with who says it, its standing and
// where it comes from.
type KeyPoint struct {
	bot.Point
	Entry  string `json:"entry"`  // the entry it comes from
	Source string `json:"source"` // "article, paragraph 4"
}

// QuestionOfDay is a question the bot answers well, for a button that asks
// it.
type QuestionOfDay struct {
	Text  string `json:"text"`
	Entry string `json:"entry"` // the entry that answers it
}

// Rotation says where the day's points are in the cycle through all of
// them: day Day of Days.
type Rotation struct {
	Day  int `json:"day"`  // from 1
	Days int `json:"days"` // days in a full rotation
}

// Options tune a Composer.
type Options struct {
	// MaxPoints is the most key points a day: 4 or 5 (the default). The
	// rotation is cut into days of MaxPoints or one fewer, so a day has
	// three to five points. (A maximum of three could not hold for every
	// number of points without days of two.)
	MaxPoints int
	// AskMore is the closing line; by default it invites questions about
	// the knowledge base's topic.
	AskMore string
	// Summarize, when set with Check, writes a short fluent summary of the
	// day's points; Check is the grounding guard it must pass (for example
	// (*bot.Engine).CheckGrounded). A summary that fails, or is turned down,
	// is left out: the digest is complete without it. Summarize is never
	// used without Check.
	Summarize SummarizeFunc
	Check     CheckFunc
	// Asker, when set, vets the questions of the day: an entry's question
	// is used only in a wording (its title, else one of its example
	// questions) that the bot answers from that entry. Without it titles
	// are used as they are.
	Asker  Asker
	Logger *slog.Logger
}

// Asker answers questions (*bot.Engine).
type Asker interface {
	Ask(ctx context.Context, q bot.Question) (bot.Answer, error)
}

// SummarizeFunc writes a short summary of a digest from its points, which
// it may cite as [p1], [p2]... in order.
type SummarizeFunc func(ctx context.Context, title string, points []bot.Point) (string, error)

// CheckFunc is the grounding guard: it returns an error unless text rests
// only on points.
type CheckFunc func(text string, points []bot.Point) error

// Composer builds digests from one knowledge base. It is safe for
// concurrent use.
type Composer struct {
	kb       *knowledge.KB
	opts     Options
	log      *slog.Logger
	headline Headline
	points   []KeyPoint // every distinct topic point, in entry order
	entry    []int      // points[i] comes from entry number entry[i]
	apart    [][]bool   // apart[i][j]: points i and j are too alike for one day
	groups   [][]int    // point indexes by entry, in entry order
	days     int
	asks     []QuestionOfDay
}

// Points whose content words overlap this much are the same point worded
// twice (shown once), or close enough not to share a day.
const (
	sameWording = 0.6
	tooAlike    = 0.25
)

// NewComposer prepares the rotation of kb's topic points. ctx bounds the
// vetting of the questions of the day when Options.Asker is set.
func NewComposer(ctx context.Context, kb *knowledge.KB, opts Options) (*Composer, error) {
	if opts.MaxPoints == 0 {
		opts.MaxPoints = 5
	}
	if opts.MaxPoints < 4 || opts.MaxPoints > 5 {
		return nil, fmt.Errorf("digest: MaxPoints %d: want 4 or 5", opts.MaxPoints)
	}
	about := kb.About()
	if opts.AskMore == "" {
		opts.AskMore = "Want to know more? Ask me anything about the story: mention me, send me a direct message or use my slash command."
	}
	c := &Composer{kb: kb, opts: opts, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, id := range about.Featured {
		if e, ok := kb.Entry(id); ok && e.Kind != knowledge.Gap {
			c.headline = Headline{Entry: e.ID, Title: e.Title, Lead: e.Lead}
			for _, ref := range e.Sources() {
				c.headline.Sources = append(c.headline.Sources, kb.Cite(ref))
			}
			break
		}
	}
	var keys [][]string
	for _, e := range kb.Entries() {
		if e.Kind != knowledge.Topic {
			continue
		}
		var group []int
	points:
		for _, p := range e.Points {
			key := words(p.Text)
			for _, k := range keys {
				if similarity(key, k) >= sameWording {
					continue points // the same point in two entries is shown once
				}
			}
			keys = append(keys, key)
			group = append(group, len(c.points))
			c.entry = append(c.entry, len(c.groups))
			c.points = append(c.points, KeyPoint{
				Point:  bot.Point{Text: p.Text, By: p.By, Standing: string(p.Standing)},
				Entry:  e.ID,
				Source: kb.Cite(p.Source),
			})
		}
		if len(group) > 0 {
			c.groups = append(c.groups, group)
		}
		if e.ID != c.headline.Entry {
			if q, ok, err := c.question(ctx, e); err != nil {
				return nil, err
			} else if ok {
				c.asks = append(c.asks, q)
			}
		}
	}
	if c.headline.Entry == "" && len(c.points) == 0 {
		return nil, fmt.Errorf("digest: the knowledge base has no topic entries to build a digest from")
	}
	c.apart = make([][]bool, len(c.points))
	for i := range c.points {
		c.apart[i] = make([]bool, len(c.points))
		for j := range c.points {
			c.apart[i][j] = i != j && (c.entry[i] == c.entry[j] || similarity(keys[i], keys[j]) >= tooAlike)
		}
	}
	c.days = max(1, (len(c.points)+opts.MaxPoints-1)/opts.MaxPoints)
	return c, nil
}

// question is the wording of entry e's question of the day: its title, or
// with an Asker the first of its title and example questions that the bot
// answers from e.
func (c *Composer) question(ctx context.Context, e *knowledge.Entry) (QuestionOfDay, bool, error) {
	if c.opts.Asker == nil {
		return QuestionOfDay{Text: e.Title, Entry: e.ID}, true, nil
	}
	for _, text := range append([]string{e.Title}, e.Questions...) {
		a, err := c.opts.Asker.Ask(ctx, bot.Question{Text: text})
		if err != nil {
			return QuestionOfDay{}, false, fmt.Errorf("digest: vet question %q: %w", text, err)
		}
		if a.Answered && len(a.Entries) > 0 && a.Entries[0] == e.ID {
			return QuestionOfDay{Text: text, Entry: e.ID}, true, nil
		}
	}
	c.log.Debug("no question of the day for entry: the bot answers none of its wordings from it", "entry", e.ID)
	return QuestionOfDay{}, false, nil
}

func topicName(a knowledge.About) string {
	if a.Name != "" {
		return a.Name
	}
	return "the story"
}

// Days is the length of a full rotation of key points, in days.
func (c *Composer) Days() int { return c.days }

// Compose builds the digest for a date. The same date always gives the same
// digest, apart from the optional summary.
func (c *Composer) Compose(ctx context.Context, date Date) (Digest, error) {
	if err := ctx.Err(); err != nil {
		return Digest{}, err
	}
	about := c.kb.About()
	d := Digest{
		Date:     date,
		Day:      date.String(),
		Title:    "Daily brief for " + date.Long(),
		Topic:    topicName(about),
		Headline: c.headline,
		AskMore:  c.opts.AskMore,
	}
	n := date.dayNumber()
	cycle, slot := floorDiv(n, int64(c.days))
	d.Rotation = Rotation{Day: int(slot) + 1, Days: c.days}
	d.Points = c.day(cycle, int(slot))
	if len(c.asks) > 0 {
		qc, qs := floorDiv(n, int64(len(c.asks)))
		perm := permutation(len(c.asks), uint64(qc)^0x51ed27)
		d.Question = c.asks[perm[qs]]
	}
	if c.opts.Summarize != nil && c.opts.Check != nil && len(d.Points) > 0 {
		d.Summary = c.summary(ctx, d)
	}
	return d, nil
}

// summary asks for a fluent summary and keeps it only if the guard passes it.
func (c *Composer) summary(ctx context.Context, d Digest) string {
	points := d.GroundingPoints()
	text, err := c.opts.Summarize(ctx, d.Title, points)
	if err != nil {
		c.log.Warn("digest summary failed; digest sent without it", "date", d.Day, "err", err)
		return ""
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	if err := c.opts.Check(text, points); err != nil {
		c.log.Info("digest summary turned down by the grounding guard; digest sent without it", "date", d.Day, "err", err)
		return ""
	}
	return text
}

// GroundingPoints are the points a summary of d may rest on, in the order
// it cites them ([p1] is the first).
func (d Digest) GroundingPoints() []bot.Point {
	out := make([]bot.Point, len(d.Points))
	for i, p := range d.Points {
		out[i] = p.Point
	}
	return out
}

// day is the points of day slot of a cycle. Each cycle deals every point
// once: the entries in an order drawn for the cycle, their points dealt
// round-robin (each entry's first, then each one's second...), and each
// day takes the first points in that order that are not too alike to the
// ones it already has (from the same entry, or overlapping in words), so a
// day does not say the same thing twice.
func (c *Composer) day(cycle int64, slot int) []KeyPoint {
	perm := permutation(len(c.groups), uint64(cycle))
	pool := make([]int, 0, len(c.points))
	for round := 0; len(pool) < len(c.points); round++ {
		for _, gi := range perm {
			if g := c.groups[gi]; round < len(g) {
				pool = append(pool, g[round])
			}
		}
	}
	var today []int
	for i := 0; i <= slot; i++ {
		lo, hi := chunk(len(c.points), c.days, i)
		today = today[:0]
		for len(today) < hi-lo {
			pick := 0 // when every point left is too alike, the first
		find:
			for k, p := range pool {
				for _, q := range today {
					if c.apart[p][q] {
						continue find
					}
				}
				pick = k
				break
			}
			today = append(today, pool[pick])
			pool = append(pool[:pick], pool[pick+1:]...)
		}
	}
	out := make([]KeyPoint, len(today))
	for i, p := range today {
		out[i] = c.points[p]
	}
	return out
}

// chunk is the slice of n items for day i of days, the days as even as
// can be (the first n%days one longer).
func chunk(n, days, i int) (lo, hi int) {
	size, extra := n/days, n%days
	lo = i*size + min(i, extra)
	hi = lo + size
	if i < extra {
		hi++
	}
	return lo, hi
}

func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

// permutation is a fixed pseudo-random order of 0..n-1 for seed: the same
// on every machine and every Go release (Fisher-Yates over splitmix64).
func permutation(n int, seed uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	state := seed*0x9e3779b97f4a7c15 + 0x2545f4914f6cdd1d
	next := func() uint64 {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for i := n - 1; i > 0; i-- {
		j := int(next() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Text renders the digest as plain text.
func (d Digest) Text() string {
	var b strings.Builder
	b.WriteString(d.Title)
	b.WriteString("\n")
	b.WriteString(d.Topic)
	b.WriteString("\n")
	if d.Summary != "" {
		b.WriteString("\n")
		b.WriteString(d.Summary)
		b.WriteString("\n")
	}
	if d.Headline.Title != "" {
		fmt.Fprintf(&b, "\n%s\n%s\n", d.Headline.Title, d.Headline.Lead)
		if len(d.Headline.Sources) > 0 {
			fmt.Fprintf(&b, "Sources: %s\n", strings.Join(d.Headline.Sources, "; "))
		}
	}
	if len(d.Points) > 0 {
		fmt.Fprintf(&b, "\nKey points (day %d of %d):\n", d.Rotation.Day, d.Rotation.Days)
		for i, p := range d.Points {
			cite := ""
			if d.Summary != "" { // the summary cites the points as [p1], [p2]...
				cite = "[p" + strconv.Itoa(i+1) + "] "
			}
			fmt.Fprintf(&b, "- %s%s (%s) [%s]\n", cite, p.Text, p.Attribution(), p.Source)
		}
	}
	if d.Question.Text != "" {
		fmt.Fprintf(&b, "\nQuestion of the day: %s\n", d.Question.Text)
	}
	if d.AskMore != "" {
		fmt.Fprintf(&b, "\n%s\n", d.AskMore)
	}
	return b.String()
}
