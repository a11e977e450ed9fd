-- Many portals on one server (issue 15): a portal has a name and a plan, and its snapshots.
--
-- A new portal starts as a real one does, with payer types 1 and 2 (sale-person-type-list.md)
-- and the general deal funnel 0 (crm-category-list.md): those ids are the portal's own, so the
-- two tables are keyed by (portal_id, id) and a new row takes the portal's next id
-- (storage/core.py PORTAL_IDS). Every other id stays unique across the server.
-- portal_snapshots: the names of a portal's snapshots (`portal snapshot ID NAME`); their rows
-- are kept in `snap__<table>` tables that the first snapshot makes (storage/core.py).

ALTER TABLE portals ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE portals ADD COLUMN plan TEXT NOT NULL DEFAULT 'standard';

CREATE TABLE portal_snapshots (
    portal_id   INTEGER NOT NULL REFERENCES portals (id),
    name        TEXT    NOT NULL,
    created_at  REAL    NOT NULL,
    PRIMARY KEY (portal_id, name)
) WITHOUT ROWID;
