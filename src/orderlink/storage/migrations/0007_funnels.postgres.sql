-- The general funnel's id is 0: the identity's range takes it (it still starts at 1).
ALTER TABLE deal_categories ALTER COLUMN id SET MINVALUE 0;
