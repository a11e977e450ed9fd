-- crm.orderentity.add in one round trip (issue 17): the three statements PostgresStore._bind
-- sent one by one (lock the order, lock the owner, upsert), run by the server. Each statement of
-- a (volatile) PL/pgSQL function takes its own snapshot at READ COMMITTED, as the client's
-- statements did, so the upsert still sees the binding of an add that committed while this one
-- waited for the order's lock. Called alone it is its own transaction: the locks are held until
-- it commits. Answers: 0 no order, 1 no owner, 2 duplicate, 3 replaced, 4 added.
CREATE FUNCTION orderlink_bind(p_portal BIGINT, p_order BIGINT, p_type BIGINT, p_owner BIGINT,
                               p_owner_table TEXT) RETURNS INTEGER LANGUAGE plpgsql AS $fn$
DECLARE
    v_existed BOOLEAN;
    v_written BOOLEAN;
BEGIN
    PERFORM 1 FROM orders WHERE portal_id = p_portal AND id = p_order FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF p_owner_table = 'deals' THEN
        PERFORM 1 FROM deals WHERE portal_id = p_portal AND id = p_owner FOR SHARE;
    ELSIF p_owner_table = 'invoices' THEN
        PERFORM 1 FROM invoices WHERE portal_id = p_portal AND id = p_owner FOR SHARE;
    ELSIF p_owner_table = 'legacy_invoices' THEN
        PERFORM 1 FROM legacy_invoices WHERE portal_id = p_portal AND id = p_owner FOR SHARE;
    ELSIF p_owner_table IS NOT NULL THEN
        RAISE EXCEPTION 'not an owner table: %', p_owner_table;
    END IF;
    IF p_owner_table IS NOT NULL AND NOT FOUND THEN
        RETURN 1;
    END IF;
    WITH old AS (SELECT owner_type_id, owner_id FROM bindings
                 WHERE portal_id = p_portal AND order_id = p_order),
    upsert AS (INSERT INTO bindings AS b (portal_id, order_id, owner_type_id, owner_id)
               VALUES (p_portal, p_order, p_type, p_owner)
               ON CONFLICT (portal_id, order_id) DO UPDATE
               SET owner_type_id = EXCLUDED.owner_type_id, owner_id = EXCLUDED.owner_id
               WHERE (b.owner_type_id, b.owner_id)
                     IS DISTINCT FROM (EXCLUDED.owner_type_id, EXCLUDED.owner_id)
               RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM old), EXISTS (SELECT 1 FROM upsert) INTO v_existed, v_written;
    IF NOT v_written THEN
        RETURN 2;
    END IF;
    RETURN CASE WHEN v_existed THEN 3 ELSE 4 END;
END
$fn$;
