package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/explainerbot/explainer/bot"
)

// FirstSeen records that the event id from source (such as "slack") was
// handled, and reports whether this is the first time: a platform's retried
// delivery of the same event returns false, also after a restart. Ids are
// remembered for Options.EventTTL.
func (s *Store) FirstSeen(ctx context.Context, source, id string) (bool, error) {
	now := s.now()
	// An id seen longer ago than the TTL counts as new even before pruning
	// removes it.
	res, err := s.db.ExecContext(ctx, `INSERT INTO events_seen (source, id, seen_at) VALUES (?, ?, ?)
		ON CONFLICT (source, id) DO UPDATE SET seen_at = excluded.seen_at WHERE seen_at < ?`,
		source, id, millis(now), millis(now.Add(-s.opts.EventTTL)))
	if err != nil {
		return false, fmt.Errorf("event %s/%s: %w", source, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("event %s/%s: %w", source, id, err)
	}
	s.maybePrune(ctx, now)
	return n == 1, nil
}

// pruneEvery is how often FirstSeen forgets expired event ids.
const pruneEvery = time.Minute

// maybePrune deletes expired event ids, at most once every pruneEvery. A
// failure is logged: it only leaves rows for the next time.
func (s *Store) maybePrune(ctx context.Context, now time.Time) {
	s.pruneMu.Lock()
	if now.Sub(s.lastPrune) < pruneEvery {
		s.pruneMu.Unlock()
		return
	}
	s.lastPrune = now
	s.pruneMu.Unlock()
	if _, err := s.PruneEvents(ctx); err != nil {
		s.log.Warn("prune event ids", "err", err)
	}
}

// PruneEvents forgets event ids older than Options.EventTTL and reports how
// many it removed.
func (s *Store) PruneEvents(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM events_seen WHERE seen_at < ?`, millis(s.now().Add(-s.opts.EventTTL)))
	if err != nil {
		return 0, fmt.Errorf("prune event ids: %w", err)
	}
	return res.RowsAffected()
}

// RecordFeedback keeps a reader's verdict on an answer. The user id is
// dropped unless Options.LogUsers is set.
func (s *Store) RecordFeedback(ctx context.Context, f bot.Feedback) error {
	at := f.At
	if at.IsZero() {
		at = s.now()
	}
	user := ""
	if s.opts.LogUsers {
		user = f.User
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO feedback (at, platform, channel, user, question, entries, helpful)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		millis(at), f.Platform, f.Channel, user, clip(bot.Normalize(f.Question), maxTextRunes), entriesJSON(f.Entries), f.Helpful)
	if err != nil {
		return fmt.Errorf("record feedback: %w", err)
	}
	return nil
}

// LogQuestion keeps a question and what became of it: answered or declined
// (with the reason), the entries used, the confidence and the platform. The
// user id is dropped unless Options.LogUsers is set.
func (s *Store) LogQuestion(ctx context.Context, q bot.Question, a bot.Answer) error {
	text := a.Question
	if text == "" {
		text = bot.Normalize(q.Text)
	}
	user := ""
	if s.opts.LogUsers {
		user = q.User
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO questions (at, platform, user, question, answered, reason, entries, confidence)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		millis(s.now()), q.Platform, user, clip(text, maxTextRunes), a.Answered, a.Reason, entriesJSON(a.Entries), a.Confidence)
	if err != nil {
		return fmt.Errorf("log question: %w", err)
	}
	return nil
}

func entriesJSON(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// Kinds of GapItem.
const (
	GapDeclined  = "declined"  // the bot did not answer
	GapUnhelpful = "unhelpful" // the bot answered and a reader gave it 👎
)

// GapItem is one question the knowledge base served badly.
type GapItem struct {
	Kind     string // GapDeclined or GapUnhelpful
	Question string
	Reason   string   // why it declined (GapDeclined)
	Entries  []string // the entries used (GapUnhelpful) or nearby (GapDeclined)
	Platform string
	At       time.Time
}

// Gaps returns the declined questions and the 👎 feedback since a time,
// oldest first. Only declines the knowledge base could fix (not covered, or
// a known gap) are included unless all is set; all adds the rest (tasks,
// advice, live prices, empty or overlong messages, injection attempts).
func (s *Store) Gaps(ctx context.Context, since time.Time, all bool) ([]GapItem, error) {
	filter := ` AND reason IN ('` + bot.ReasonNotCovered + `', '` + bot.ReasonGap + `')`
	if all {
		filter = ""
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT 'declined', question, reason, entries, platform, at FROM questions
			WHERE at >= ? AND answered = 0`+filter+`
		UNION ALL
		SELECT 'unhelpful', question, '', entries, platform, at FROM feedback
			WHERE at >= ? AND helpful = 0
		ORDER BY 6`, millis(since), millis(since))
	if err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	defer rows.Close()
	var out []GapItem
	for rows.Next() {
		var g GapItem
		var entries string
		var at int64
		if err := rows.Scan(&g.Kind, &g.Question, &g.Reason, &entries, &g.Platform, &at); err != nil {
			return nil, fmt.Errorf("read gaps: %w", err)
		}
		if err := json.Unmarshal([]byte(entries), &g.Entries); err != nil {
			return nil, fmt.Errorf("read gaps: entries %q: %w", entries, err)
		}
		g.At = fromMillis(at)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	return out, nil
}

// QuestionRecord is one row of the question log.
type QuestionRecord struct {
	At         time.Time
	Platform   string
	User       string
	Question   string
	Answered   bool
	Reason     string
	Entries    []string
	Confidence float64
}

// Questions returns the question log since a time, oldest first, at most
// limit rows.
func (s *Store) Questions(ctx context.Context, since time.Time, limit int) ([]QuestionRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, platform, user, question, answered, reason, entries, confidence
		FROM questions WHERE at >= ? ORDER BY at, id LIMIT ?`, millis(since), limit)
	if err != nil {
		return nil, fmt.Errorf("read question log: %w", err)
	}
	defer rows.Close()
	var out []QuestionRecord
	for rows.Next() {
		var r QuestionRecord
		var at int64
		var entries string
		if err := rows.Scan(&at, &r.Platform, &r.User, &r.Question, &r.Answered, &r.Reason, &entries, &r.Confidence); err != nil {
			return nil, fmt.Errorf("read question log: %w", err)
		}
		if err := json.Unmarshal([]byte(entries), &r.Entries); err != nil {
			return nil, fmt.Errorf("read question log: entries %q: %w", entries, err)
		}
		r.At = fromMillis(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read question log: %w", err)
	}
	return out, nil
}
