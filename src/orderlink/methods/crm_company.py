"""crm.company.*: legacy companies, UPPER_SNAKE fields, every value a string, multi-fields.

Pages: api-reference/crm/companies/{crm-company-add,crm-company-get,crm-company-list,
crm-company-update,crm-company-delete,crm-company-fields}.md; the shape is `families.customers`.
Deleting a company clears COMPANY_ID on its deals, takes it out of its contacts' COMPANY_IDS and
deletes its links.
"""

from __future__ import annotations

from orderlink import errors
from orderlink.families import customer_links, customers
from orderlink.families.customers import MULTIFIELDS, customer_family, serve_customers
from orderlink.records.custom_fields import PARENTS, UF
from orderlink.records.reading import Changes
from orderlink.registry import Call, MethodTable
from orderlink.rules.portal import CURRENCY_CODES
from orderlink.schema import Schema, named

table = MethodTable(scope="crm", docs="api-reference/crm/companies/")

# crm-company-fields.md, in its order (its example's PARENT_ID_156 and UF_CRM_* are a portal's
# own dynamic fields). CONTACT_ID (the contacts, multiple; crm-company-update.md) is no column:
# a write that names it replaces the company's links (families/customer_links.py); get does not
# print it (crm-company-get.md), crm.company.contact.items.get does.
SCHEMA = Schema(
    "companies",
    [
        named("ID", "int", "integer", "ID", "O"),
        named("TITLE", "text", "string", "Company Name", "R", ""),
        named("COMPANY_TYPE", "text", "crm_status", "Company Type", statusType="COMPANY_TYPE"),
        named("LOGO", "json", "file", "Logo"),
        named("ADDRESS", "text", "string", "Physical Address"),
        named("ADDRESS_2", "text", "string", "Address (line 2)"),
        *customers.ADDRESS_PARTS,
        named("ADDRESS_LEGAL", "text", "string", "Legal Address"),
        named("REG_ADDRESS", "text", "string", "Legal Address"),
        named("REG_ADDRESS_2", "text", "string", "Legal Address (line 2)"),
        named("REG_ADDRESS_CITY", "text", "string", "Legal Address City"),
        named("REG_ADDRESS_POSTAL_CODE", "text", "string", "Legal Address Postal Code"),
        named("REG_ADDRESS_REGION", "text", "string", "Legal Address Region"),
        named("REG_ADDRESS_PROVINCE", "text", "string", "Legal Address Province"),
        named("REG_ADDRESS_COUNTRY", "text", "string", "Legal Address Country"),
        named("REG_ADDRESS_COUNTRY_CODE", "text", "string", "Legal Address Country Code"),
        named("REG_ADDRESS_LOC_ADDR_ID", "int", "integer", "Legal Address Location ID"),
        named("BANKING_DETAILS", "text", "string", "Banking Details"),
        named("INDUSTRY", "text", "crm_status", "Industry", statusType="INDUSTRY"),
        named("EMPLOYEES", "text", "crm_status", "Number of Employees", statusType="EMPLOYEES"),
        named("CURRENCY_ID", "text", "crm_currency", "Currency"),
        named("REVENUE", "float", "double", "Annual Revenue", "", 0.0),
        named("OPENED", "flag", "char", "Available to Everyone", "", "N"),
        named("COMMENTS", "text", "string", "Comment"),
        *customers.COMMUNICATION_FLAGS,
        named("IS_MY_COMPANY", "flag", "char", "My Company", "", "N"),
        *customers.AUTHORSHIP,
        named("CONTACT_ID", "json", "crm_contact", "Contact", "M", stored=False),
        *customers.ORIGIN,
        named("UTM_TERM", "text", "string", "Campaign Search Term"),
        named("LAST_ACTIVITY_TIME", "datetime", "datetime", "Last Activity Time"),
        named("LAST_ACTIVITY_BY", "int", "user", "Last Activity Author"),
        named("LAST_COMMUNICATION_TIME", "text", "string", "Last Communication Date", "O"),
        *MULTIFIELDS,
    ],
    case_insensitive=True,
)

# crm-company-get.md's key order.
LAYOUT = (
    "ID", "COMPANY_TYPE", "TITLE", "LOGO", "LEAD_ID", "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL",
    "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "BANKING_DETAILS", "INDUSTRY", "REVENUE",
    "CURRENCY_ID", "EMPLOYEES", "COMMENTS", "DATE_CREATE", "DATE_MODIFY", "OPENED",
    "IS_MY_COMPANY", "ORIGINATOR_ID", "ORIGIN_ID", "ORIGIN_VERSION", "ADDRESS", "ADDRESS_2",
    "ADDRESS_CITY", "ADDRESS_POSTAL_CODE", "ADDRESS_REGION", "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY", "ADDRESS_COUNTRY_CODE", "ADDRESS_LOC_ADDR_ID", "ADDRESS_LEGAL",
    "REG_ADDRESS", "REG_ADDRESS_2", "REG_ADDRESS_CITY", "REG_ADDRESS_POSTAL_CODE",
    "REG_ADDRESS_REGION", "REG_ADDRESS_PROVINCE", "REG_ADDRESS_COUNTRY",
    "REG_ADDRESS_COUNTRY_CODE", "REG_ADDRESS_LOC_ADDR_ID", "UTM_SOURCE", "UTM_MEDIUM",
    "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", PARENTS, "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME", "LAST_COMMUNICATION_TIME", UF, "PHONE", "EMAIL", "WEB", "IM", "LINK",
)  # fmt: skip


async def _check(call: Call, changes: Changes) -> None:
    currency = changes.columns.get("currency_id")
    if currency and currency not in CURRENCY_CODES:
        raise errors.LegacyCrmError('Invalid value for the "Currency" field')


COMPANIES = customer_family(kind="COMPANY", schema=SCHEMA, layout=LAYOUT, check=_check,
                            side=customer_links.COMPANY)  # fmt: skip

serve_customers(
    table, COMPANIES, "company", delete="Delete a company; its deals and contacts forget it."
)
