"""crm.contact.*: legacy contacts, UPPER_SNAKE fields, every value a string, multi-fields.

Pages: api-reference/crm/contacts/{crm-contact-add,crm-contact-get,crm-contact-list,
crm-contact-update,crm-contact-delete,crm-contact-fields}.md. The family's shape is
`families.customers` (shared with crm.company.*); its rules `rules.customers`. COMPANY_ID /
COMPANY_IDS follow its links to companies (families/customer_links.py). Deleting a contact takes
it out of its deals' CONTACT_ID / CONTACT_IDS and deletes its links (the store does, in the same
transaction).
"""

from __future__ import annotations

from orderlink.families import customer_links, customers
from orderlink.families.customers import MULTIFIELDS, customer_family, serve_customers
from orderlink.records.custom_fields import PARENTS, UF
from orderlink.registry import MethodTable
from orderlink.schema import Schema, named

table = MethodTable(scope="crm", docs="api-reference/crm/contacts/")

# crm-contact-fields.md, in its order, with its titles, flags and statusType. NAME, SECOND_NAME
# and LAST_NAME are printed required there, yet crm-contact-add.md requires no field: the add
# does not enforce them (decisions.md).
SCHEMA = Schema(
    "contacts",
    [
        named("ID", "int", "integer", "ID", "O"),
        named("HONORIFIC", "text", "crm_status", "Salutation", statusType="HONORIFIC"),
        named("NAME", "text", "string", "First Name", "R"),
        named("SECOND_NAME", "text", "string", "Middle Name", "R"),
        named("LAST_NAME", "text", "string", "Last Name", "R"),
        named("PHOTO", "json", "file", "Photo"),
        named("BIRTHDATE", "datetime", "date", "Birthdate"),
        named("TYPE_ID", "text", "crm_status", "Contact Type", statusType="CONTACT_TYPE"),
        named("SOURCE_ID", "text", "crm_status", "Source", statusType="SOURCE"),
        named("SOURCE_DESCRIPTION", "text", "string", "Additional Source Information"),
        named("POST", "text", "string", "Position"),
        named("ADDRESS", "text", "string", "Address"),
        named("ADDRESS_2", "text", "string", "Address (Line 2)"),
        *customers.ADDRESS_PARTS,
        named("COMMENTS", "text", "string", "Comment"),
        named("OPENED", "flag", "char", "Available to All", "", "N"),
        named("EXPORT", "flag", "char", "Participates in Contact Export", "", "N"),
        *customers.COMMUNICATION_FLAGS,
        *customers.AUTHORSHIP,
        named("COMPANY_ID", "int", "crm_company", "Company", isDeprecated=True),
        named("COMPANY_IDS", "int", "crm_company", "COMPANY_IDS", "M"),
        *customers.ORIGIN,
        named("UTM_TERM", "text", "string", "Campaign Search Condition"),
        named("LAST_ACTIVITY_TIME", "datetime", "datetime", "Last Activity", "O"),
        named("LAST_ACTIVITY_BY", "int", "user", "Last Activity By", "O"),
        *MULTIFIELDS,
    ],
    case_insensitive=True,
)

# crm-contact-get.md's key order (COMPANY_IDS is not printed, as a deal's CONTACT_IDS is not;
# FACE_ID is a field the table leaves out, always null here).
LAYOUT = (
    "ID", "POST", "COMMENTS", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "PHOTO",
    "LEAD_ID", "TYPE_ID", "SOURCE_ID", "SOURCE_DESCRIPTION", "COMPANY_ID", "BIRTHDATE", "EXPORT",
    "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "DATE_CREATE", "DATE_MODIFY", "ASSIGNED_BY_ID",
    "CREATED_BY_ID", "MODIFY_BY_ID", "OPENED", "ORIGINATOR_ID", "ORIGIN_ID", "ORIGIN_VERSION",
    "FACE_ID", "LAST_ACTIVITY_TIME", "ADDRESS", "ADDRESS_2", "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE", "ADDRESS_REGION", "ADDRESS_PROVINCE", "ADDRESS_COUNTRY",
    "ADDRESS_LOC_ADDR_ID", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM",
    PARENTS, "LAST_ACTIVITY_BY", UF, "PHONE", "EMAIL", "WEB", "IM", "LINK",
)  # fmt: skip

CONTACTS = customer_family(
    kind="CONTACT", schema=SCHEMA, layout=LAYOUT, side=customer_links.CONTACT
)

serve_customers(
    table, CONTACTS, "contact", delete="Delete a contact; its deals and companies forget it."
)
