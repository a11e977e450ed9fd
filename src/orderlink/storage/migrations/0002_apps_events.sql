-- OAuth applications, their installations and tokens; event handlers and the delivery outbox.

CREATE TABLE apps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL REFERENCES portals (id),
    name            TEXT    NOT NULL,
    client_id       TEXT    NOT NULL UNIQUE,
    secret_hash     TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    redirect_uri    TEXT    NOT NULL,
    handler_url     TEXT    NOT NULL DEFAULT '',
    created_at      REAL    NOT NULL
);

-- One row per (portal, app); `installed` drops to 0 on uninstall. `allowed_users` lists the
-- user ids the app is limited to (comma-separated; empty: everyone).
CREATE TABLE app_installs (
    portal_id           INTEGER NOT NULL,
    app_id              INTEGER NOT NULL REFERENCES apps (id),
    installed           INTEGER NOT NULL DEFAULT 1 CHECK (installed IN (0, 1)),
    application_token   TEXT    NOT NULL,
    installed_by        INTEGER NOT NULL,
    installed_at        REAL    NOT NULL,
    allowed_users       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (portal_id, app_id)
) WITHOUT ROWID;

CREATE TABLE oauth_codes (
    code_hash   TEXT    PRIMARY KEY,
    portal_id   INTEGER NOT NULL,
    app_id      INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    expires_at  REAL    NOT NULL
) WITHOUT ROWID;

-- Tokens are stored as SHA-256 digests; a refresh replaces the row (the old pair dies).
CREATE TABLE tokens (
    access_hash         TEXT    PRIMARY KEY,
    refresh_hash        TEXT    NOT NULL UNIQUE,
    portal_id           INTEGER NOT NULL,
    app_id              INTEGER NOT NULL,
    user_id             INTEGER NOT NULL,
    access_expires_at   REAL    NOT NULL,
    refresh_expires_at  REAL    NOT NULL,
    created_at          REAL    NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_app ON tokens (portal_id, app_id);

CREATE TABLE event_handlers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL,
    app_id      INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    handler     TEXT    NOT NULL,
    auth_type   INTEGER NOT NULL DEFAULT 0,
    offline     INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER NOT NULL,
    created_at  REAL    NOT NULL,
    UNIQUE (portal_id, app_id, event, handler, auth_type)
);
CREATE INDEX event_handlers_by_event ON event_handlers (portal_id, event);

-- Written in the transaction of the change that caused the event; delivered at least once.
-- The handler URL is copied so a delivery outlives its handler (ONAPPUNINSTALL).
CREATE TABLE event_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL,
    app_id          INTEGER NOT NULL,
    handler_id      INTEGER,
    handler         TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    data            TEXT    NOT NULL,
    user_id         INTEGER NOT NULL,
    with_tokens     INTEGER NOT NULL DEFAULT 1,
    created_at      REAL    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    last_status     TEXT    NOT NULL DEFAULT '',
    delivered_at    REAL,
    claimed_until   REAL    NOT NULL DEFAULT 0
);
CREATE INDEX event_outbox_due ON event_outbox (status, next_attempt_at);
