-- PostgreSQL twin of 0012_users.sqlite.sql.
-- The portal's user profile (api-reference/user/): what user.get, user.search, user.current and
-- user.fields answer, user.add and user.update write, and `orderlink user add` fills in.
-- `name` is now the profile's NAME (first name): a name saved before this is split at its first
-- space into NAME and LAST_NAME, as `profile` and `user.current` printed it. Strings nobody gave
-- stay NULL (user.get leaves such keys out, as its example does); the few keys every answer
-- prints are NOT NULL. `active` is 'Y'/'N' (a dismissed employee is 'N'); dates are Unix seconds
-- (`personal_birthday` a day's midnight, `date_register` NULL for a user made before this);
-- `user_fields` holds the UF_* values as a JSON object (UF_DEPARTMENT: the one department, 1).

ALTER TABLE users ADD COLUMN last_name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN active TEXT COLLATE "C" NOT NULL DEFAULT 'Y' CHECK (active IN ('Y', 'N'));
ALTER TABLE users ADD COLUMN user_type TEXT COLLATE "C" NOT NULL DEFAULT 'employee';
ALTER TABLE users ADD COLUMN personal_gender TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN work_position TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN second_name TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN xml_id TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN title TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN time_zone TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_profession TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_www TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_icq TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_phone TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_fax TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_mobile TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_pager TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_street TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_city TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_state TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_zip TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_country TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_mailbox TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_notes TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_phone TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_company TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_department TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_www TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_fax TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_pager TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_street TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_mailbox TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_city TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_state TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_zip TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_country TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_profile TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN work_notes TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN personal_birthday BIGINT;
ALTER TABLE users ADD COLUMN date_register BIGINT;
ALTER TABLE users ADD COLUMN user_fields TEXT COLLATE "C" NOT NULL DEFAULT '{"UF_DEPARTMENT": [1]}';

UPDATE users SET last_name = substr(name, strpos(name, ' ') + 1),
                 name = substr(name, 1, strpos(name, ' ') - 1)
    WHERE strpos(name, ' ') > 0;
CREATE UNIQUE INDEX users_by_email ON users (portal_id, email) WHERE email <> '';
