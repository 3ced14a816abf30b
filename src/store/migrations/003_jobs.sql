-- Scheduled work (expiry, reminders, reverts), claimed with FOR UPDATE SKIP LOCKED so any
-- number of instances can run it and each job runs once.
CREATE TABLE jobs (
  id           text PRIMARY KEY,
  kind         text NOT NULL,
  request_id   text NOT NULL REFERENCES requests(id),
  run_at       timestamptz NOT NULL,
  state        text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'running', 'done', 'cancelled')),
  attempts     integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  last_error   text,
  UNIQUE (kind, request_id)
);
CREATE INDEX jobs_due_idx ON jobs (state, run_at);

-- The answer given to an activity, replayed when Teams delivers it again.
ALTER TABLE processed_activities ADD COLUMN response jsonb;
