CREATE TABLE requests (
  id                  text PRIMARY KEY,
  tenant_id           text NOT NULL,
  command_id          text NOT NULL,
  state               text NOT NULL,
  risk                text NOT NULL,
  required_approvals  integer NOT NULL,
  requester_id        text NOT NULL,
  requester_name      text NOT NULL,
  target_user_id      text,
  target_upn          text,
  target_display_name text,
  params              jsonb NOT NULL DEFAULT '{}'::jsonb,
  language            text NOT NULL,
  conversation        jsonb NOT NULL,
  before_state        jsonb,
  after_state         jsonb,
  verified            boolean,
  error_code          text,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  expires_at          timestamptz NOT NULL
);
CREATE INDEX requests_state_idx ON requests (state);

CREATE TABLE approvals (
  request_id    text NOT NULL REFERENCES requests(id),
  approver_id   text NOT NULL,
  approver_name text NOT NULL,
  decision      text NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment       text,
  at            timestamptz NOT NULL,
  PRIMARY KEY (request_id, approver_id)
);

-- Every copy of a request's card that the bot posted, so each can be updated when the request changes.
CREATE TABLE card_posts (
  request_id   text NOT NULL REFERENCES requests(id),
  activity_id  text NOT NULL,
  conversation jsonb NOT NULL,
  audience     text NOT NULL,
  language     text NOT NULL,
  PRIMARY KEY (request_id, activity_id)
);

-- Append-only; each row carries the hash of the one before it.
CREATE TABLE audit_events (
  seq        bigserial PRIMARY KEY,
  at         timestamptz NOT NULL,
  request_id text,
  actor_id   text,
  action     text NOT NULL,
  detail     jsonb NOT NULL,
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);

-- Teams may deliver an activity twice; the first answer is kept and replayed.
CREATE TABLE processed_activities (
  activity_id text PRIMARY KEY,
  at          timestamptz NOT NULL
);

-- Deployment-wide settings set from chat (e.g. the approvals conversation).
CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
