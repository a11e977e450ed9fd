-- Customers (issue 14): the links of contacts and companies, and one table of custom-field
-- definitions for deals, contacts and companies.
--
-- contact_companies: crm.contact.company.* and crm.company.contact.* (api-reference/crm/
-- contacts/company/, companies/contacts/). One row per link, seen from both ends: its SORT and
-- IS_PRIMARY in the contact's list of companies (`*_in_contact`) and in the company's list of
-- contacts (`*_in_company`). A list with no row marked primary has its first by SORT primary.
-- No foreign keys: a portal links ids it does not look up (crm-contact-company-add.md). The
-- contact's COMPANY_ID / COMPANY_IDS are kept in step with its rows; deleting a contact or a
-- company deletes its rows. The links contacts already held in COMPANY_IDS are moved here.
CREATE TABLE contact_companies (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id           INTEGER NOT NULL REFERENCES portals (id),
    contact_id          INTEGER NOT NULL,
    company_id          INTEGER NOT NULL,
    sort_in_contact     INTEGER NOT NULL DEFAULT 10,
    primary_in_contact  TEXT    NOT NULL DEFAULT 'N',
    sort_in_company     INTEGER NOT NULL DEFAULT 10,
    primary_in_company  TEXT    NOT NULL DEFAULT 'N',
    UNIQUE (portal_id, id),
    UNIQUE (portal_id, contact_id, company_id)
);
CREATE INDEX contact_companies_by_company ON contact_companies (portal_id, company_id);

-- crm_userfields: crm.deal.userfield.*, crm.contact.userfield.*, crm.company.userfield.*
-- (api-reference/crm/deals/user-defined-fields/, contacts/userfield/, companies/userfields/):
-- the definitions of the UF_CRM_* fields whose values deals, contacts and companies keep in
-- `user_fields`, by ENTITY_ID (CRM_DEAL, CRM_CONTACT, CRM_COMPANY). A name is unique per
-- entity, as on a portal. The deal definitions move here with their ids.
CREATE TABLE crm_userfields (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id          INTEGER NOT NULL REFERENCES portals (id),
    entity_id          TEXT    NOT NULL,
    field_name         TEXT    NOT NULL,
    user_type_id       TEXT    NOT NULL,
    xml_id             TEXT,
    sort               INTEGER NOT NULL DEFAULT 100,
    multiple           TEXT    NOT NULL DEFAULT 'N',
    mandatory          TEXT    NOT NULL DEFAULT 'N',
    show_filter        TEXT    NOT NULL DEFAULT 'N',
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
    UNIQUE (portal_id, entity_id, field_name)
);
INSERT INTO crm_userfields
    (id, portal_id, entity_id, field_name, user_type_id, xml_id, sort, multiple, mandatory,
     show_filter, show_in_list, edit_in_list, is_searchable, settings, edit_form_label,
     list_column_label, list_filter_label, error_message, help_message, list)
    SELECT id, portal_id, 'CRM_DEAL', field_name, user_type_id, xml_id, sort, multiple,
           mandatory, show_filter, show_in_list, edit_in_list, is_searchable, settings,
           edit_form_label, list_column_label, list_filter_label, error_message, help_message,
           list
    FROM deal_userfields;
DROP TABLE deal_userfields;
