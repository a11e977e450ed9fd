-- Portals, users, webhooks, orders, deals, smart invoices and the bindings between them.
-- Every row belongs to a portal; ids of entities are global, user ids are per portal.

CREATE TABLE portals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    domain      TEXT    NOT NULL,
    member_id   TEXT    NOT NULL UNIQUE,
    created_at  REAL    NOT NULL
);

CREATE TABLE users (
    portal_id   INTEGER NOT NULL REFERENCES portals (id),
    id          INTEGER NOT NULL CHECK (id > 0),
    name        TEXT    NOT NULL,
    store_role  INTEGER NOT NULL DEFAULT 0 CHECK (store_role IN (0, 1, 2)),
    is_admin    INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    PRIMARY KEY (portal_id, id)
) WITHOUT ROWID;

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    code_hash   TEXT    NOT NULL UNIQUE,
    scopes      TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  REAL    NOT NULL,
    FOREIGN KEY (portal_id, user_id) REFERENCES users (portal_id, id)
);
CREATE INDEX webhooks_by_user ON webhooks (user_id);

-- Bumped by every change to users or webhooks, so a server can drop cached credentials.
CREATE TABLE auth_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO auth_version (id, version) VALUES (1, 1);

-- sale.order (api-reference/sale/data-types.md, sale_order). Dates are unix seconds.
CREATE TABLE orders (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id           INTEGER NOT NULL REFERENCES portals (id),
    lid                 TEXT    NOT NULL,
    person_type_id      INTEGER NOT NULL,
    person_type_xml_id  TEXT    NOT NULL DEFAULT '',
    status_id           TEXT    NOT NULL DEFAULT 'N',
    status_xml_id       TEXT    NOT NULL DEFAULT '',
    emp_status_id       INTEGER,
    date_status         INTEGER,
    date_insert         INTEGER,
    date_update         INTEGER,
    marked              TEXT    NOT NULL DEFAULT 'N',
    date_marked         INTEGER,
    emp_marked_id       INTEGER,
    reason_marked       TEXT    NOT NULL DEFAULT '',
    price               REAL    NOT NULL DEFAULT 0,
    discount_value      REAL    NOT NULL DEFAULT 0,
    tax_value           REAL,
    user_description    TEXT    NOT NULL DEFAULT '',
    additional_info     TEXT    NOT NULL DEFAULT '',
    comments            TEXT    NOT NULL DEFAULT '',
    company_id          INTEGER,
    responsible_id      INTEGER,
    recurring_id        TEXT    NOT NULL DEFAULT '',
    locked_by           TEXT    NOT NULL DEFAULT '',
    date_lock           INTEGER,
    recount_flag        TEXT    NOT NULL DEFAULT 'Y',
    affiliate_id        INTEGER,
    updated1c           TEXT    NOT NULL DEFAULT 'N',
    order_topic         TEXT    NOT NULL DEFAULT '',
    xml_id              TEXT    NOT NULL DEFAULT '',
    id1c                TEXT    NOT NULL DEFAULT '',
    version             INTEGER NOT NULL DEFAULT 1,
    version1c           TEXT    NOT NULL DEFAULT '',
    external_order      TEXT    NOT NULL DEFAULT 'N',
    canceled            TEXT    NOT NULL DEFAULT 'N',
    date_canceled       INTEGER,
    emp_canceled_id     INTEGER,
    reason_canceled     TEXT    NOT NULL DEFAULT '',
    user_id             INTEGER,
    currency            TEXT    NOT NULL,
    account_number      TEXT    NOT NULL DEFAULT '',
    payed               TEXT    NOT NULL DEFAULT 'N',
    deducted            TEXT    NOT NULL DEFAULT 'N',
    UNIQUE (portal_id, id)
);

-- Deals: crm.deal.* (UPPER_SNAKE) and crm.item entityTypeId 2 read the same rows.
CREATE TABLE deals (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id               INTEGER NOT NULL REFERENCES portals (id),
    title                   TEXT    NOT NULL DEFAULT '',
    type_id                 TEXT,
    category_id             INTEGER NOT NULL DEFAULT 0,
    stage_id                TEXT    NOT NULL DEFAULT 'NEW',
    stage_semantic_id       TEXT    NOT NULL DEFAULT 'P',
    is_new                  TEXT    NOT NULL DEFAULT 'Y',
    is_recurring            TEXT    NOT NULL DEFAULT 'N',
    is_return_customer      TEXT    NOT NULL DEFAULT 'N',
    is_repeated_approach    TEXT    NOT NULL DEFAULT 'N',
    probability             INTEGER,
    currency_id             TEXT,
    opportunity             REAL    NOT NULL DEFAULT 0,
    is_manual_opportunity   TEXT    NOT NULL DEFAULT 'N',
    tax_value               REAL    NOT NULL DEFAULT 0,
    company_id              INTEGER NOT NULL DEFAULT 0,
    contact_id              INTEGER NOT NULL DEFAULT 0,
    contact_ids             TEXT    NOT NULL DEFAULT '[]',
    quote_id                INTEGER,
    begindate               INTEGER,
    closedate               INTEGER,
    opened                  TEXT    NOT NULL DEFAULT 'Y',
    closed                  TEXT    NOT NULL DEFAULT 'N',
    comments                TEXT,
    assigned_by_id          INTEGER,
    created_by_id           INTEGER,
    modify_by_id            INTEGER,
    moved_by_id             INTEGER,
    date_create             INTEGER,
    date_modify             INTEGER,
    moved_time              INTEGER,
    source_id               TEXT,
    source_description      TEXT,
    lead_id                 INTEGER,
    additional_info         TEXT,
    location_id             TEXT,
    originator_id           TEXT,
    origin_id               TEXT,
    utm_source              TEXT,
    utm_medium              TEXT,
    utm_campaign            TEXT,
    utm_content             TEXT,
    utm_term                TEXT,
    last_activity_time      INTEGER,
    last_activity_by        INTEGER,
    webform_id              INTEGER,
    observers               TEXT    NOT NULL DEFAULT '[]',
    -- Custom fields by original name ({"UF_CRM_1721244482250": "Hello"}) and parent links by
    -- parent entityTypeId ({"1220": 22}): JSON objects.
    user_fields             TEXT    NOT NULL DEFAULT '{}',
    parents                 TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (portal_id, id)
);

-- Smart invoices: crm.item entityTypeId 31.
CREATE TABLE invoices (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id               INTEGER NOT NULL REFERENCES portals (id),
    title                   TEXT    NOT NULL DEFAULT '',
    xml_id                  TEXT,
    category_id             INTEGER NOT NULL DEFAULT 0,
    stage_id                TEXT    NOT NULL DEFAULT 'DT31_0:N',
    previous_stage_id       TEXT,
    begindate               INTEGER,
    closedate               INTEGER,
    company_id              INTEGER NOT NULL DEFAULT 0,
    contact_id              INTEGER NOT NULL DEFAULT 0,
    contact_ids             TEXT    NOT NULL DEFAULT '[]',
    opportunity             REAL    NOT NULL DEFAULT 0,
    is_manual_opportunity   TEXT    NOT NULL DEFAULT 'N',
    tax_value               REAL    NOT NULL DEFAULT 0,
    currency_id             TEXT,
    mycompany_id            INTEGER NOT NULL DEFAULT 0,
    source_id               TEXT,
    source_description      TEXT,
    comments                TEXT,
    account_number          TEXT,
    location_id             TEXT,
    webform_id              INTEGER,
    opened                  TEXT    NOT NULL DEFAULT 'Y',
    assigned_by_id          INTEGER,
    created_by              INTEGER,
    updated_by              INTEGER,
    moved_by                INTEGER,
    created_time            INTEGER,
    updated_time            INTEGER,
    moved_time              INTEGER,
    last_activity_by        INTEGER,
    last_activity_time      INTEGER,
    utm_source              TEXT,
    utm_medium              TEXT,
    utm_campaign            TEXT,
    utm_content             TEXT,
    utm_term                TEXT,
    -- The deal the invoice belongs to (crm.item `parentId2`, api-reference/crm/universal/invoice.md).
    parent_id2              INTEGER,
    observers               TEXT    NOT NULL DEFAULT '[]',
    user_fields             TEXT    NOT NULL DEFAULT '{}',
    parents                 TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (portal_id, id)
);
CREATE INDEX invoices_by_deal ON invoices (portal_id, parent_id2);

-- crm.orderentity: at most one binding per order, so (portal, order) is the key; replacing a
-- binding is an update of that row. Deleting an order deletes its binding.
CREATE TABLE bindings (
    portal_id       INTEGER NOT NULL,
    order_id        INTEGER NOT NULL,
    owner_type_id   INTEGER NOT NULL,
    owner_id        INTEGER NOT NULL,
    PRIMARY KEY (portal_id, order_id),
    FOREIGN KEY (portal_id, order_id) REFERENCES orders (portal_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX bindings_by_owner ON bindings (portal_id, owner_id, owner_type_id);
CREATE INDEX bindings_by_type ON bindings (portal_id, owner_type_id, owner_id);
