-- A non-admin's event handler runs on behalf of its binder (api-reference/events/event-bind.md):
-- handlers bound before this rule with the default auth_type 0 get their binder's user id
-- (unless the binder also bound the same handler with its own id already).
UPDATE event_handlers SET auth_type = created_by
WHERE auth_type = 0
  AND NOT EXISTS (
    SELECT 1 FROM users u
    WHERE u.portal_id = event_handlers.portal_id AND u.id = event_handlers.created_by
      AND u.is_admin <> 0
  )
  AND NOT EXISTS (
    SELECT 1 FROM event_handlers h
    WHERE h.portal_id = event_handlers.portal_id AND h.app_id = event_handlers.app_id
      AND h.event = event_handlers.event AND h.handler = event_handlers.handler
      AND h.auth_type = event_handlers.created_by
  );
