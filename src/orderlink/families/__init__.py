"""Entity families as data: a `Family` describes one (table, fields, envelopes, readers, rules
hooks) and `handlers.serve` registers the generic add/get/update/delete/list/fields methods that
answer for it."""
