-- Apart from its SQLite twin: the text columns made here are in the database's collation,
-- not "C" (portable TEXT); they are compared for equality only.
-- What a running server tells the commands that share its database (issue 12, point 14):
-- `serve` records the base URL it answers on, so `webhook add` and `token issue` print URLs
-- that reach it.
CREATE TABLE server_info (
    key         TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);
