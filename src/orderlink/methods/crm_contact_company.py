"""crm.contact.company.* and crm.company.contact.*: the links of contacts and companies, read
and changed from either end (families/customer_links.py), one declaration each.

Pages: api-reference/crm/contacts/company/crm-contact-company-{add,delete,fields,items-get,
items-set,items-delete}.md, api-reference/crm/companies/contacts/crm-company-contact-*.md.
"""

from __future__ import annotations

from orderlink.families.customer_links import COMPANY, CONTACT, serve_links
from orderlink.registry import MethodTable

table = MethodTable(scope="crm")

serve_links(table, CONTACT, prefix="crm.contact.company",
            docs="api-reference/crm/contacts/company/", page="crm-contact-company-",
            owner="contact", linked="company")  # fmt: skip
serve_links(table, COMPANY, prefix="crm.company.contact",
            docs="api-reference/crm/companies/contacts/", page="crm-company-contact-",
            owner="company", linked="contact")  # fmt: skip
