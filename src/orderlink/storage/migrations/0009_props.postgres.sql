-- Ids 1 and 2 are the payer types a portal starts with: the identity starts at 3 (on SQLite,
-- AUTOINCREMENT goes on after the rows seeded here).
ALTER TABLE person_types ALTER COLUMN id SET START WITH 3 RESTART;
