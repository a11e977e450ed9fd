-- Product rows of deals and smart invoices: crm.item.productrow.* (camelCase, typed) and the
-- legacy crm.deal.productrows.get/set (UPPER_SNAKE) read the same rows
-- (api-reference/crm/universal/product-rows/, api-reference/crm/deals/crm-deal-productrows-*.md).
-- `owner_type` is the owner's short code ("D" deal, "SI" smart invoice); deleting the owner
-- deletes its rows. The derived prices are stored as computed when the row is written.
CREATE TABLE product_rows (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id           INTEGER NOT NULL REFERENCES portals (id),
    owner_type          TEXT    NOT NULL,
    owner_id            INTEGER NOT NULL,
    product_id          INTEGER NOT NULL DEFAULT 0,
    product_name        TEXT    NOT NULL DEFAULT '',
    price               REAL    NOT NULL DEFAULT 0,
    price_account       REAL    NOT NULL DEFAULT 0,
    price_exclusive     REAL    NOT NULL DEFAULT 0,
    price_netto         REAL    NOT NULL DEFAULT 0,
    price_brutto        REAL    NOT NULL DEFAULT 0,
    quantity            REAL    NOT NULL DEFAULT 1,
    discount_type_id    INTEGER NOT NULL DEFAULT 2,
    discount_rate       REAL    NOT NULL DEFAULT 0,
    discount_sum        REAL    NOT NULL DEFAULT 0,
    tax_rate            REAL,
    tax_included        TEXT    NOT NULL DEFAULT 'N',
    customized          TEXT    NOT NULL DEFAULT 'Y',
    measure_code        INTEGER NOT NULL DEFAULT 0,
    measure_name        TEXT    NOT NULL DEFAULT '',
    sort                INTEGER NOT NULL DEFAULT 0,
    xml_id              TEXT    NOT NULL DEFAULT '',
    type                INTEGER NOT NULL DEFAULT 1,
    store_id            INTEGER NOT NULL DEFAULT 0,
    UNIQUE (portal_id, id)
);
CREATE INDEX product_rows_by_owner ON product_rows (portal_id, owner_type, owner_id);
