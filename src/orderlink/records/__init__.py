"""Stored rows <-> wire values, one module per job.

sale.order.* and crm.item.* print typed values (numbers, "Y"/"N", ISO dates with offset, null);
legacy crm.deal.* prints every scalar as a string, money with two decimals
(api-reference/crm/deals/crm-deal-get.md: `"OPPORTUNITY": "1000000.00"`). A request's `fields`
object goes the other way: each value is read as its field's stored kind, and the family raises
its own error for a value that cannot be one. Dates are unix seconds; a `date` field holds the
midnight of its day in the portal zone.

- `values`: one stored value -> its wire value, in each family's style;
- `custom_fields`: the names of custom fields and parent links, and their JSON columns;
- `projection`: a list's `select` and the key layout one entity prints in;
- `reading`: a request's `fields` object -> column values;
- `days`: calendar days in the portal zone.
"""
