-- Payer types, order properties and their values, and the definitions of deal custom fields.
--
-- person_types: sale.persontype.* (api-reference/sale/person-type/). Every portal starts with
-- two, ids 1 and 2 (the bootstrap seeds a new portal; this seeds the one that exists already).
-- property_groups, properties: sale.propertygroup.*, sale.property.* (api-reference/sale/
-- property-group/, property/); flags are 'Y'/'N', `settings` and `default_value` JSON.
-- property_values: sale.propertyvalue.* and sale.order.get's `propertyValues`; a value is JSON
-- (a string, a list for a multiple property), and goes with its order; it keeps its property's
-- code, name and xmlId as they were when it was saved (as a portal's b_sale_order_props_value).
-- deal_userfields: crm.deal.userfield.* (api-reference/crm/deals/user-defined-fields/): the
-- definitions of the UF_CRM_* fields whose values deals keep in `user_fields`.

CREATE TABLE person_types (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL REFERENCES portals (id),
    name        TEXT    NOT NULL,
    code        TEXT,
    sort        INTEGER NOT NULL DEFAULT 150,
    active      TEXT    NOT NULL DEFAULT 'Y',
    xml_id      TEXT,
    UNIQUE (portal_id, id)
);
INSERT INTO person_types (id, portal_id, name, sort)
    SELECT 1, id, 'Individual', 100 FROM (SELECT MIN(id) AS id FROM portals) p WHERE id IS NOT NULL;
INSERT INTO person_types (id, portal_id, name, sort)
    SELECT 2, id, 'Legal Entity', 110 FROM (SELECT MIN(id) AS id FROM portals) p WHERE id IS NOT NULL;

CREATE TABLE property_groups (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL REFERENCES portals (id),
    person_type_id  INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    sort            INTEGER NOT NULL DEFAULT 100,
    UNIQUE (portal_id, id)
);

CREATE TABLE properties (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id             INTEGER NOT NULL REFERENCES portals (id),
    person_type_id        INTEGER NOT NULL,
    props_group_id        INTEGER NOT NULL,
    name                  TEXT    NOT NULL,
    type                  TEXT    NOT NULL,
    code                  TEXT,
    active                TEXT    NOT NULL DEFAULT 'Y',
    util                  TEXT    NOT NULL DEFAULT 'N',
    user_props            TEXT    NOT NULL DEFAULT 'N',
    is_filtered           TEXT    NOT NULL DEFAULT 'N',
    sort                  INTEGER NOT NULL DEFAULT 100,
    description           TEXT,
    required              TEXT    NOT NULL DEFAULT 'N',
    multiple              TEXT    NOT NULL DEFAULT 'N',
    xml_id                TEXT,
    default_value         TEXT,
    settings              TEXT    NOT NULL DEFAULT '{}',
    is_profile_name       TEXT    NOT NULL DEFAULT 'N',
    is_payer              TEXT    NOT NULL DEFAULT 'N',
    is_email              TEXT    NOT NULL DEFAULT 'N',
    is_phone              TEXT    NOT NULL DEFAULT 'N',
    is_zip                TEXT    NOT NULL DEFAULT 'N',
    is_address            TEXT    NOT NULL DEFAULT 'N',
    is_location           TEXT    NOT NULL DEFAULT 'N',
    is_location4tax       TEXT    NOT NULL DEFAULT 'N',
    input_field_location  TEXT    NOT NULL DEFAULT '0',
    is_address_from       TEXT    NOT NULL DEFAULT 'N',
    is_address_to         TEXT    NOT NULL DEFAULT 'N',
    UNIQUE (portal_id, id)
);

CREATE TABLE property_values (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL,
    order_id        INTEGER NOT NULL,
    order_props_id  INTEGER NOT NULL,
    code            TEXT,
    name            TEXT    NOT NULL DEFAULT '',
    order_props_xml_id TEXT,
    value           TEXT    NOT NULL DEFAULT 'null',
    UNIQUE (portal_id, id),
    FOREIGN KEY (portal_id, order_id) REFERENCES orders (portal_id, id) ON DELETE CASCADE
);
CREATE INDEX property_values_by_order ON property_values (portal_id, order_id);

CREATE TABLE deal_userfields (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id          INTEGER NOT NULL REFERENCES portals (id),
    field_name         TEXT    NOT NULL,
    user_type_id       TEXT    NOT NULL,
    xml_id             TEXT,
    sort               INTEGER NOT NULL DEFAULT 100,
    multiple           TEXT    NOT NULL DEFAULT 'N',
    mandatory          TEXT    NOT NULL DEFAULT 'N',
    show_filter        TEXT    NOT NULL DEFAULT 'N',  -- N, I, E, S
    show_in_list       TEXT    NOT NULL DEFAULT 'N',
    edit_in_list       TEXT    NOT NULL DEFAULT 'Y',
    is_searchable      TEXT    NOT NULL DEFAULT 'N',
    settings           TEXT    NOT NULL DEFAULT '{}',
    edit_form_label    TEXT    NOT NULL DEFAULT '{}',
    list_column_label  TEXT    NOT NULL DEFAULT '{}',
    list_filter_label  TEXT    NOT NULL DEFAULT '{}',
    error_message      TEXT    NOT NULL DEFAULT '{}',
    help_message       TEXT    NOT NULL DEFAULT '{}',
    list               TEXT,
    UNIQUE (portal_id, id),
    UNIQUE (portal_id, field_name)
);
