-- The links contacts held in COMPANY_IDS, moved to contact_companies (0015_i14_customers.sql).
INSERT INTO contact_companies
    (portal_id, contact_id, company_id, sort_in_contact, primary_in_contact)
    SELECT c.portal_id, c.id, j.value::bigint, j.n * 10, CASE WHEN j.n = 1 THEN 'Y' ELSE 'N' END
    FROM contacts c, jsonb_array_elements_text(c.company_ids::jsonb) WITH ORDINALITY AS j(value, n)
    WHERE j.value::bigint > 0
    ORDER BY c.id, j.n
    ON CONFLICT DO NOTHING;

-- The deal definitions kept their ids: new ones take the next.
SELECT setval(pg_get_serial_sequence('crm_userfields', 'id'),
              (SELECT COALESCE(MAX(id), 0) + 1 FROM crm_userfields), false);
