// Package store is what the explainer remembers between runs, in one SQLite
// file: digest subscriptions, the digests sent (so each channel gets one a
// day, however often the process restarts), the event ids already handled,
// readers' feedback and the log of questions asked.
//
// The file is opened in WAL mode with a busy timeout, so a killed process
// loses nothing it committed and several connections (or processes) can use
// it at once. The schema is versioned with PRAGMA user_version; migrations
// are embedded in the binary and each is applied in one transaction.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Defaults for Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultEventTTL    = 24 * time.Hour
	// maxTextRunes bounds the question and feedback texts kept.
	maxTextRunes = 1000
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// LogUsers keeps platform user ids in the question log and feedback;
	// off by default (EXPLAINER_LOG_USERS).
	LogUsers bool
	// EventTTL is how long an event id is remembered (default 24h; Slack
	// retries a delivery for about an hour).
	EventTTL time.Duration
	// BusyTimeout is how long a write waits for another writer (default 5s).
	BusyTimeout time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Logger receives notes on migrations and pruning; discarded when nil.
	Logger *slog.Logger
}

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	opts Options
	log  *slog.Logger

	pruneMu   sync.Mutex
	lastPrune time.Time
}

// Error is a problem with the database file itself: it names the file and
// says what to do.
type Error struct {
	Path string
	Msg  string // what is wrong, for people
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("database %s: %s: %v", e.Path, e.Msg, e.Err)
	}
	return fmt.Sprintf("database %s: %s", e.Path, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Open opens (creating if need be) the database at path and brings its
// schema up to date. A file that is not a SQLite database, is corrupt, or
// cannot be written gives an *Error naming the path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.EventTTL <= 0 {
		opts.EventTTL = DefaultEventTTL
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	dsn := path + "?" + strings.Join([]string{
		"_busy_timeout=" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10),
		"_journal_mode=WAL",
		// NORMAL is durable across a killed process in WAL mode; only a power
		// cut can lose the last transactions.
		"_synchronous=NORMAL",
		"_txlock=immediate",
	}, "&")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, &Error{Path: path, Msg: "cannot open", Err: err}
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &Store{db: db, path: path, opts: opts, log: log}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, s.fileError(err)
	}
	return s, nil
}

// checkPath rejects what SQLite would report obscurely: a missing folder, a
// folder where the file should be, a name the driver cannot take.
func checkPath(path string) error {
	if path == "" {
		return &Error{Path: `""`, Msg: "no file name (set EXPLAINER_DB)"}
	}
	if path == ":memory:" {
		return nil
	}
	if strings.ContainsRune(path, '?') {
		return &Error{Path: path, Msg: "a file name must not contain '?'"}
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Path: path, Msg: fmt.Sprintf("folder %s does not exist", dir)}
	case err != nil:
		return &Error{Path: path, Msg: "cannot reach its folder", Err: err}
	case !st.IsDir():
		return &Error{Path: path, Msg: fmt.Sprintf("%s is not a folder", dir)}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return &Error{Path: path, Msg: "is a folder, not a database file"}
	}
	return nil
}

// fileError turns SQLite's codes for a bad file into an *Error naming it.
func (s *Store) fileError(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return &Error{Path: s.path, Msg: "not a SQLite database (restore it from a backup or point EXPLAINER_DB at another file)", Err: err}
		case sqlite3.SQLITE_CORRUPT:
			return &Error{Path: s.path, Msg: "the database is corrupt (restore it from a backup)", Err: err}
		case sqlite3.SQLITE_CANTOPEN:
			return &Error{Path: s.path, Msg: "cannot open or create the file (check that its folder is writable)", Err: err}
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
			return &Error{Path: s.path, Msg: "cannot write to the file (check its permissions)", Err: err}
		case sqlite3.SQLITE_IOERR:
			return &Error{Path: s.path, Msg: "input/output error", Err: err}
		case sqlite3.SQLITE_FULL:
			return &Error{Path: s.path, Msg: "the disk is full", Err: err}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &Error{Path: s.path, Msg: "locked by another process for too long", Err: err}
		}
	}
	return &Error{Path: s.path, Msg: "cannot use the database", Err: err}
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Version is the schema version the database is at.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the embedded files NNNN_name.sql in order.
func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := filepath.Base(f)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql", base)
		}
		body, err := migrationFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int {
	ms, _ := migrations()
	return len(ms)
}

// migrate applies the migrations the database has not had, each in its own
// transaction together with the version bump, so a crash leaves the schema
// at one version or the next, never between.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	// Reading the header is the first thing that touches the file: a file
	// that is not a database fails here.
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") && s.path != ":memory:" {
		return &Error{Path: s.path, Msg: fmt.Sprintf("cannot switch to WAL mode (journal mode is %s; is the file on a network share?)", mode)}
	}
	cur, err := s.Version(ctx)
	if err != nil {
		return err
	}
	if cur > len(ms) {
		return &Error{Path: s.path, Msg: fmt.Sprintf("schema version %d is newer than this program knows (%d): upgrade the explainer", cur, len(ms))}
	}
	for _, m := range ms[cur:] {
		if err := s.apply(ctx, m); err != nil {
			return err
		}
		s.log.Info("database migrated", "path", s.path, "version", m.version, "migration", m.name)
	}
	// The version check above ran outside a transaction: prove the file is
	// writable even when there was nothing to migrate.
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM events_seen WHERE 0")
		return err
	})
}

func (s *Store) apply(ctx context.Context, m migration) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		// Another process may have migrated since we looked.
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return err
		}
		if v >= m.version {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		return nil
	})
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE), committing when it
// returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) now() time.Time { return s.opts.Now() }

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// Ping checks that the database answers, with a read that touches the
// file: cheap enough for every health check.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.Version(ctx); err != nil {
		return s.fileError(err)
	}
	return nil
}
