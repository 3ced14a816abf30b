-- The exceptions register (issue #5): every mailbox SMTP Gate turned SMTP AUTH on for, why, who
-- asked and approved, and until when. One active exception per mailbox; `request_id` is the request
-- that governs it now (the grant, or the latest extension), whose jobs remind and lapse it.
CREATE TABLE exceptions (
  id                  text PRIMARY KEY,
  tenant_id           text NOT NULL,
  target_user_id      text NOT NULL,
  target_upn          text NOT NULL,
  target_display_name text NOT NULL,
  request_id          text NOT NULL REFERENCES requests(id),
  origin_request_id   text NOT NULL REFERENCES requests(id),
  requester_id        text NOT NULL,
  requester_name      text NOT NULL,
  approver_names      jsonb NOT NULL DEFAULT '[]'::jsonb,
  justification       text NOT NULL,
  expires_at          timestamptz,
  -- The mailbox value that turns SMTP AUTH off again when the exception lapses (before the grant,
  -- or $true for an adopted mailbox that was already on).
  restore_value       jsonb NOT NULL,
  adopted             boolean NOT NULL DEFAULT false,
  state               text NOT NULL CHECK (state IN ('active', 'lapsed', 'ended')),
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL
);
CREATE UNIQUE INDEX exceptions_one_active_idx ON exceptions (target_user_id) WHERE state = 'active';

-- What an `exceptions` card listed as unmanaged, so its buttons carry an id and an item number,
-- never a mailbox.
CREATE TABLE exception_reviews (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  items      jsonb NOT NULL
);
