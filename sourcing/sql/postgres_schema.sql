-- The PostgreSQL event store's tables (postgres_store.hpp explains each choice). Run when a
-- table is missing, inside the transaction and advisory lock that opening a store takes, so
-- that processes opening a new database at the same moment do not trip over each other.
-- Compiled into the store (embed_sql.cmake): a change here is a change to the program.

-- One row: the last position handed out. Every append locks it, which makes the position
-- order the commit order (a sequence would not: it numbers rows when they are inserted).
CREATE TABLE IF NOT EXISTS store_head (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  position bigint NOT NULL);
INSERT INTO store_head (id, position) VALUES (true, 0) ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS events (
  position bigint PRIMARY KEY,   -- global order, from 1, in commit order
  stream text NOT NULL,
  version bigint NOT NULL,       -- 1, 2, 3, ... per stream
  event_id text NOT NULL,
  type text NOT NULL,
  envelope bytea NOT NULL,       -- the kit's MessagePack envelope
  CONSTRAINT events_stream_version UNIQUE (stream, version),  -- no two writers get version N
  CONSTRAINT events_event_id UNIQUE (event_id));               -- idempotent appends

-- The latest state per stream: a cache, never the truth.
CREATE TABLE IF NOT EXISTS snapshots (
  stream text PRIMARY KEY,
  version bigint NOT NULL,
  schema_version bigint NOT NULL,
  state bytea NOT NULL);
