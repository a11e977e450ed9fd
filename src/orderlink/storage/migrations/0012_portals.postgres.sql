-- The two tables keyed by (portal_id, id) instead of an identity (see 0012_portals.sql).

ALTER TABLE person_types DROP CONSTRAINT person_types_pkey;
ALTER TABLE person_types ALTER COLUMN id DROP IDENTITY;
ALTER TABLE person_types ADD CONSTRAINT person_types_id_check CHECK (id > 0);
ALTER TABLE person_types ADD PRIMARY KEY (portal_id, id);
ALTER TABLE person_types DROP CONSTRAINT person_types_portal_id_id_key;

ALTER TABLE deal_categories DROP CONSTRAINT deal_categories_pkey;
ALTER TABLE deal_categories ALTER COLUMN id DROP IDENTITY;
ALTER TABLE deal_categories ADD CONSTRAINT deal_categories_id_check CHECK (id >= 0);
ALTER TABLE deal_categories ADD PRIMARY KEY (portal_id, id);
