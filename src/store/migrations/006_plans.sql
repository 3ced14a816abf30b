-- A change request holds an ordered plan of steps (src/steps/): each one setting on one target, with
-- its own status (pending, writing, applied, failed), the state read before and after, and whether
-- the read-back matched. Requests from before plans get the one mailbox step they were.
ALTER TABLE requests ADD COLUMN plan jsonb NOT NULL DEFAULT '[]'::jsonb;
UPDATE requests SET plan = jsonb_build_array(jsonb_build_object(
    'kind', 'mailbox-smtp-auth',
    'target', jsonb_build_object('type', 'mailbox', 'id', target_user_id, 'identity', target_upn, 'displayName', COALESCE(target_display_name, target_upn)),
    'desired', CASE command_id WHEN 'smtp-enable' THEN 'false'::jsonb WHEN 'smtp-disable' THEN 'true'::jsonb ELSE 'null'::jsonb END,
    'status', CASE WHEN state IN ('succeeded', 'reverted') THEN 'applied' WHEN state = 'failed' THEN 'failed' WHEN state = 'executing' THEN 'writing' ELSE 'pending' END,
    'before', before_state, 'after', after_state, 'verified', to_jsonb(verified), 'errorCode', to_jsonb(error_code)))
  WHERE target_user_id IS NOT NULL AND target_upn IS NOT NULL AND command_id IN ('smtp-enable', 'smtp-disable', 'smtp-reset')
