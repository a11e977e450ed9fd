-- Smart processes (issue 14): crm.type.* (api-reference/crm/universal/user-defined-object-types/)
-- and their items, which crm.item.* serves by entityTypeId (api-reference/crm/universal/).
-- crm_types: one row per smart process; `id` is what userfieldconfig's `CRM_{id}` names (the
-- portal's own sequential number, as deal_categories' ids: storage/core.py PORTAL_IDS),
-- `entity_type_id` what crm.item's `entityTypeId` does (unique per portal). Only the relations a
-- request set are stored (the predefined ones follow is_client_enabled); linked_user_fields as
-- `{"CALENDAR_EVENT|UF_CRM_CAL_EVENT": "Y", ...}`.
-- crm_items: the items of every smart process, keyed by entity_type_id, with the standard
-- smart-process fields of object-fields.md; custom fields and parent links JSON objects, as on
-- deals.

CREATE TABLE crm_types (
    id                              INTEGER NOT NULL CHECK (id > 0),
    portal_id                       INTEGER NOT NULL REFERENCES portals (id),
    entity_type_id                  INTEGER NOT NULL,
    title                           TEXT    NOT NULL,
    code                            TEXT    NOT NULL DEFAULT '',
    created_by                      INTEGER,
    updated_by                      INTEGER,
    created_time                    INTEGER,
    updated_time                    INTEGER,
    custom_section_id               INTEGER,
    is_categories_enabled           TEXT    NOT NULL DEFAULT 'N',
    is_stages_enabled               TEXT    NOT NULL DEFAULT 'N',
    is_begin_close_dates_enabled    TEXT    NOT NULL DEFAULT 'N',
    is_client_enabled               TEXT    NOT NULL DEFAULT 'N',
    is_use_in_userfield_enabled     TEXT    NOT NULL DEFAULT 'N',
    is_link_with_products_enabled   TEXT    NOT NULL DEFAULT 'N',
    is_mycompany_enabled            TEXT    NOT NULL DEFAULT 'N',
    is_documents_enabled            TEXT    NOT NULL DEFAULT 'N',
    is_source_enabled               TEXT    NOT NULL DEFAULT 'N',
    is_observers_enabled            TEXT    NOT NULL DEFAULT 'N',
    is_recyclebin_enabled           TEXT    NOT NULL DEFAULT 'N',
    is_automation_enabled           TEXT    NOT NULL DEFAULT 'N',
    is_biz_proc_enabled             TEXT    NOT NULL DEFAULT 'N',
    is_set_open_permissions         TEXT    NOT NULL DEFAULT 'Y',
    is_payments_enabled             TEXT    NOT NULL DEFAULT 'N',
    is_counters_enabled             TEXT    NOT NULL DEFAULT 'N',
    relations                       TEXT    NOT NULL DEFAULT '{"parent":[],"child":[]}',
    linked_user_fields              TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (portal_id, id),
    UNIQUE (portal_id, entity_type_id)
);

CREATE TABLE crm_items (
    id                              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id                       INTEGER NOT NULL REFERENCES portals (id),
    entity_type_id                  INTEGER NOT NULL,
    title                           TEXT    NOT NULL DEFAULT '',
    xml_id                          TEXT      ,
    category_id                     INTEGER NOT NULL DEFAULT 0,
    stage_id                        TEXT      ,
    previous_stage_id               TEXT      ,
    begindate                       INTEGER,
    closedate                       INTEGER,
    company_id                      INTEGER NOT NULL DEFAULT 0,
    contact_id                      INTEGER NOT NULL DEFAULT 0,
    contact_ids                     TEXT    NOT NULL DEFAULT '[]',
    opportunity                     REAL    NOT NULL DEFAULT 0,
    is_manual_opportunity           TEXT    NOT NULL DEFAULT 'N',
    tax_value                       REAL    NOT NULL DEFAULT 0,
    currency_id                     TEXT      ,
    mycompany_id                    INTEGER NOT NULL DEFAULT 0,
    source_id                       TEXT      ,
    source_description              TEXT      ,
    webform_id                      INTEGER,
    opened                          TEXT    NOT NULL DEFAULT 'Y',
    assigned_by_id                  INTEGER,
    created_by                      INTEGER,
    updated_by                      INTEGER,
    moved_by                        INTEGER,
    created_time                    INTEGER,
    updated_time                    INTEGER,
    moved_time                      INTEGER,
    last_activity_by                INTEGER,
    last_activity_time              INTEGER,
    observers                       TEXT    NOT NULL DEFAULT '[]',
    user_fields                     TEXT    NOT NULL DEFAULT '{}',
    parents                         TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (portal_id, id)
);
CREATE INDEX crm_items_by_type ON crm_items (portal_id, entity_type_id, id);

-- crm.item's `observers` of contacts and companies (crm-item-add.md), a JSON list of user ids.
ALTER TABLE contacts ADD COLUMN observers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE companies ADD COLUMN observers TEXT NOT NULL DEFAULT '[]';

-- crm.dealcategory.*: CREATED_DATE (the day a funnel was added) and IS_LOCKED of a funnel.
ALTER TABLE deal_categories ADD COLUMN created_date INTEGER;
ALTER TABLE deal_categories ADD COLUMN is_locked TEXT NOT NULL DEFAULT 'N';
