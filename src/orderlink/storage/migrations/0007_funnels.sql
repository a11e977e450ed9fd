-- Deal funnels and the CRM reference lists (issue 14, "Funnels and stages").
-- deal_categories: crm.category.* for deals (api-reference/crm/universal/category/); the general
-- funnel is the row with id 0, written when the portal is first used (bootstrap.py), as a portal
-- always has it. crm_statuses: crm.status.* (api-reference/crm/status/), one row per reference
-- value; a funnel's stages are ENTITY_ID `DEAL_STAGE` (id 0) or `DEAL_STAGE_{id}`.

CREATE TABLE deal_categories (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL REFERENCES portals (id),
    name            TEXT    NOT NULL,
    sort            INTEGER NOT NULL DEFAULT 500,
    is_default      TEXT    NOT NULL DEFAULT 'N' CHECK (is_default IN ('Y', 'N')),
    origin_id       TEXT    NOT NULL DEFAULT '',
    originator_id   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX deal_categories_by_portal ON deal_categories (portal_id, sort, id);

CREATE TABLE crm_statuses (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL REFERENCES portals (id),
    entity_id       TEXT    NOT NULL,
    status_id       TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    name_init       TEXT    NOT NULL DEFAULT '',
    sort            INTEGER NOT NULL DEFAULT 10,
    system          TEXT    NOT NULL DEFAULT 'N' CHECK (system IN ('Y', 'N')),
    category_id     INTEGER,
    color           TEXT,
    semantics       TEXT    CHECK (semantics IN ('S', 'F'))
);
CREATE UNIQUE INDEX crm_statuses_by_entity ON crm_statuses (portal_id, entity_id, status_id);
