-- SQLite alters no primary key: the two tables are built anew, keyed by (portal_id, id).

CREATE TABLE person_types_new (
    id          INTEGER NOT NULL CHECK (id > 0),
    portal_id   INTEGER NOT NULL REFERENCES portals (id),
    name        TEXT    NOT NULL,
    code        TEXT,
    sort        INTEGER NOT NULL DEFAULT 150,
    active      TEXT    NOT NULL DEFAULT 'Y',
    xml_id      TEXT,
    PRIMARY KEY (portal_id, id)
);
INSERT INTO person_types_new (id, portal_id, name, code, sort, active, xml_id)
    SELECT id, portal_id, name, code, sort, active, xml_id FROM person_types;
DROP TABLE person_types;
ALTER TABLE person_types_new RENAME TO person_types;

CREATE TABLE deal_categories_new (
    id              INTEGER NOT NULL CHECK (id >= 0),
    portal_id       INTEGER NOT NULL REFERENCES portals (id),
    name            TEXT    NOT NULL,
    sort            INTEGER NOT NULL DEFAULT 500,
    is_default      TEXT    NOT NULL DEFAULT 'N' CHECK (is_default IN ('Y', 'N')),
    origin_id       TEXT    NOT NULL DEFAULT '',
    originator_id   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (portal_id, id)
);
INSERT INTO deal_categories_new (id, portal_id, name, sort, is_default, origin_id, originator_id)
    SELECT id, portal_id, name, sort, is_default, origin_id, originator_id FROM deal_categories;
DROP TABLE deal_categories;
ALTER TABLE deal_categories_new RENAME TO deal_categories;
CREATE INDEX deal_categories_by_portal ON deal_categories (portal_id, sort, id);
