-- botbuilder Storage (conversation and user state). Each write gets a new etag; a write that names
-- an etag replaces the row only while it still carries that etag (optimistic concurrency).
CREATE TABLE bot_state (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  etag       text NOT NULL,
  updated_at timestamptz NOT NULL
);
