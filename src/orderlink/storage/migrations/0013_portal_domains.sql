-- The host names a portal answers on (issue 18): a request whose Host is one of them is that
-- portal's, and OAuth replies and event `auth` blocks name its first one. A domain belongs to
-- one portal at most; `id` keeps the order they were added in ("its first domain").
CREATE TABLE portal_domains (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL REFERENCES portals (id),
    domain      TEXT    NOT NULL UNIQUE,
    created_at  REAL    NOT NULL
);
CREATE INDEX portal_domains_by_portal ON portal_domains (portal_id, id);
