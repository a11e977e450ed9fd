-- The test kit (issue 15): faults a portal answers with, and the journal of the calls it got.

-- A fault (faults.py, `orderlink fault add`): calls of `method` (lower-case; '' every method)
-- answer the system error `error` (or a front proxy's HTML page, `HTML_502`), or the connection
-- is dropped (`dropped`), after `delay` seconds. `times`: the next that many calls (NULL: until
-- removed), `fired` counts them; `probability` of the calls, drawn from `seed` (NULL: unseeded).
CREATE TABLE faults (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    method      TEXT    NOT NULL DEFAULT '',
    error       TEXT    NOT NULL DEFAULT '',
    dropped     INTEGER NOT NULL DEFAULT 0 CHECK (dropped IN (0, 1)),
    delay       REAL    NOT NULL DEFAULT 0,
    times       INTEGER,
    fired       INTEGER NOT NULL DEFAULT 0,
    probability REAL    NOT NULL DEFAULT 1,
    seed        INTEGER,
    created_at  REAL    NOT NULL
);
CREATE INDEX faults_by_portal ON faults (portal_id);

-- Every call a portal got (journal.py), newest last, at most `journal_limit` per portal:
-- `params` masked JSON, `answer` the body sent (at most 64 KiB, `truncated`), `detail` JSON of
-- the limit and scope decisions, a fault that fired and a near miss, `batch` JSON of a batch's
-- commands (NULL for other methods).
CREATE TABLE journal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    at          REAL    NOT NULL,
    method      TEXT    NOT NULL,
    transport   TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    credential  TEXT    NOT NULL,
    params      TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    answer      TEXT    NOT NULL,
    truncated   INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
    duration    REAL    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}',
    batch       TEXT
);
CREATE INDEX journal_by_portal ON journal (portal_id, id);
