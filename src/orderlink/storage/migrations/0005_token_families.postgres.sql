-- Apart from its SQLite twin: the text columns made here are in the database's collation,
-- not "C" (portable TEXT); they are compared for equality only.
-- Token families (RFC 9700 4.14.2, RFC 6749 4.1.2): every pair descends from one authorization
-- code (or one direct issue); a used code or rotated-out refresh token presented again revokes
-- every pair of its family. Pairs from before this rule are each a family of their own.
ALTER TABLE tokens ADD COLUMN family TEXT NOT NULL DEFAULT '';
UPDATE tokens SET family = access_hash WHERE family = '';
CREATE INDEX tokens_by_family ON tokens (family);

-- Digests of used authorization codes and rotated-out refresh tokens, kept while their family
-- has pairs (and at most until the used credential would have expired).
CREATE TABLE spent_credentials (
    digest      TEXT    PRIMARY KEY,
    family      TEXT    NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX spent_by_family ON spent_credentials (family);
