-- The links contacts held in COMPANY_IDS, moved to contact_companies (0015_i14_customers.sql).
INSERT OR IGNORE INTO contact_companies
    (portal_id, contact_id, company_id, sort_in_contact, primary_in_contact)
    SELECT c.portal_id, c.id, CAST(j.value AS INTEGER), (j.key + 1) * 10,
           CASE WHEN j.key = 0 THEN 'Y' ELSE 'N' END
    FROM contacts c, json_each(c.company_ids) j
    WHERE CAST(j.value AS INTEGER) > 0
    ORDER BY c.id, j.key;
