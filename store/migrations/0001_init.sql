-- Subscriptions: one per channel of a platform, posted daily at a local time.
CREATE TABLE subscriptions (
	platform   TEXT    NOT NULL,
	channel    TEXT    NOT NULL,
	at         TEXT    NOT NULL,            -- HH:MM, local time
	zone       TEXT    NOT NULL,            -- IANA time zone, e.g. Europe/Berlin
	paused     INTEGER NOT NULL DEFAULT 0,
	failures   INTEGER NOT NULL DEFAULT 0,  -- consecutive days that failed
	created_by TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,            -- unix milliseconds
	updated_at INTEGER NOT NULL,            -- unix milliseconds; time or zone last set
	PRIMARY KEY (platform, channel)
) WITHOUT ROWID;

-- Digests: at most one per channel and local date. A row is claimed before
-- the digest is posted and marked sent after, so that a restart never posts
-- twice; see the package documentation for how a claim left behind by a
-- crash is resolved.
CREATE TABLE digests (
	platform     TEXT    NOT NULL,
	channel      TEXT    NOT NULL,
	day          TEXT    NOT NULL,          -- YYYY-MM-DD in the subscription's zone
	state        TEXT    NOT NULL CHECK (state IN ('claimed', 'retry', 'sent', 'failed')),
	owner        TEXT    NOT NULL DEFAULT '',
	lease_until  INTEGER NOT NULL DEFAULT 0, -- claimed: until when the owner may post
	next_attempt INTEGER NOT NULL DEFAULT 0, -- retry: not before
	attempts     INTEGER NOT NULL DEFAULT 0,
	error        TEXT    NOT NULL DEFAULT '',
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (platform, channel, day)
) WITHOUT ROWID;

-- Event ids already handled, so that retried deliveries are ignored.
CREATE TABLE events_seen (
	source  TEXT    NOT NULL,
	id      TEXT    NOT NULL,
	seen_at INTEGER NOT NULL,
	PRIMARY KEY (source, id)
) WITHOUT ROWID;
CREATE INDEX events_seen_at ON events_seen (seen_at);

-- Readers' verdicts on answers.
CREATE TABLE feedback (
	id       INTEGER PRIMARY KEY,
	at       INTEGER NOT NULL,
	platform TEXT    NOT NULL DEFAULT '',
	channel  TEXT    NOT NULL DEFAULT '',
	user     TEXT    NOT NULL DEFAULT '',   -- empty unless user logging is on
	question TEXT    NOT NULL DEFAULT '',
	entries  TEXT    NOT NULL DEFAULT '[]', -- JSON array of entry ids
	helpful  INTEGER NOT NULL
);
CREATE INDEX feedback_at ON feedback (at);

-- Every question asked and what became of it.
CREATE TABLE questions (
	id         INTEGER PRIMARY KEY,
	at         INTEGER NOT NULL,
	platform   TEXT    NOT NULL DEFAULT '',
	user       TEXT    NOT NULL DEFAULT '',  -- empty unless user logging is on
	question   TEXT    NOT NULL,
	answered   INTEGER NOT NULL,
	reason     TEXT    NOT NULL DEFAULT '',
	entries    TEXT    NOT NULL DEFAULT '[]', -- JSON array of entry ids
	confidence REAL    NOT NULL DEFAULT 0
);
CREATE INDEX questions_at ON questions (at);
