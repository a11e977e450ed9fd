-- The portal's user profile (api-reference/user/): what user.get, user.search, user.current and
-- user.fields answer, user.add and user.update write, and `orderlink user add` fills in.
-- `name` is now the profile's NAME (first name): a name saved before this is split at its first
-- space into NAME and LAST_NAME, as `profile` and `user.current` printed it. Strings nobody gave
-- stay NULL (user.get leaves such keys out, as its example does); the few keys every answer
-- prints are NOT NULL. `active` is 'Y'/'N' (a dismissed employee is 'N'); dates are Unix seconds
-- (`personal_birthday` a day's midnight, `date_register` NULL for a user made before this);
-- `user_fields` holds the UF_* values as a JSON object (UF_DEPARTMENT: the one department, 1).

ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN active TEXT NOT NULL DEFAULT 'Y' CHECK (active IN ('Y', 'N'));
ALTER TABLE users ADD COLUMN user_type TEXT NOT NULL DEFAULT 'employee';
ALTER TABLE users ADD COLUMN personal_gender TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN work_position TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN second_name TEXT;
ALTER TABLE users ADD COLUMN xml_id TEXT;
ALTER TABLE users ADD COLUMN title TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;
ALTER TABLE users ADD COLUMN personal_profession TEXT;
ALTER TABLE users ADD COLUMN personal_www TEXT;
ALTER TABLE users ADD COLUMN personal_icq TEXT;
ALTER TABLE users ADD COLUMN personal_phone TEXT;
ALTER TABLE users ADD COLUMN personal_fax TEXT;
ALTER TABLE users ADD COLUMN personal_mobile TEXT;
ALTER TABLE users ADD COLUMN personal_pager TEXT;
ALTER TABLE users ADD COLUMN personal_street TEXT;
ALTER TABLE users ADD COLUMN personal_city TEXT;
ALTER TABLE users ADD COLUMN personal_state TEXT;
ALTER TABLE users ADD COLUMN personal_zip TEXT;
ALTER TABLE users ADD COLUMN personal_country TEXT;
ALTER TABLE users ADD COLUMN personal_mailbox TEXT;
ALTER TABLE users ADD COLUMN personal_notes TEXT;
ALTER TABLE users ADD COLUMN work_phone TEXT;
ALTER TABLE users ADD COLUMN work_company TEXT;
ALTER TABLE users ADD COLUMN work_department TEXT;
ALTER TABLE users ADD COLUMN work_www TEXT;
ALTER TABLE users ADD COLUMN work_fax TEXT;
ALTER TABLE users ADD COLUMN work_pager TEXT;
ALTER TABLE users ADD COLUMN work_street TEXT;
ALTER TABLE users ADD COLUMN work_mailbox TEXT;
ALTER TABLE users ADD COLUMN work_city TEXT;
ALTER TABLE users ADD COLUMN work_state TEXT;
ALTER TABLE users ADD COLUMN work_zip TEXT;
ALTER TABLE users ADD COLUMN work_country TEXT;
ALTER TABLE users ADD COLUMN work_profile TEXT;
ALTER TABLE users ADD COLUMN work_notes TEXT;
ALTER TABLE users ADD COLUMN personal_birthday INTEGER;
ALTER TABLE users ADD COLUMN date_register INTEGER;
ALTER TABLE users ADD COLUMN user_fields TEXT NOT NULL DEFAULT '{"UF_DEPARTMENT": [1]}';

UPDATE users SET last_name = substr(name, instr(name, ' ') + 1),
                 name = substr(name, 1, instr(name, ' ') - 1)
    WHERE instr(name, ' ') > 0;
CREATE UNIQUE INDEX users_by_email ON users (portal_id, email) WHERE email <> '';
