-- One append as a function in the database, so that it costs one round trip to the server
-- instead of one per step (taking the head, looking for the ids, reading the version,
-- inserting each event, moving the head on), which is where an append's time went. It takes
-- the stream, the version the stream must be at (NULL: any; 0: no stream yet) and the events'
-- ids, types and envelopes as arrays, and answers with rows:
--   'stored',   version before, head after          the events are in
--   'conflict', current version                     the expected version does not hold
--   'found', version, event id, stream, position    a retry: these ids are stored already
--                                                   (one row each; nothing stored)
-- Order matters as in postgres_store.hpp: the head row is locked first (FOR UPDATE waits for
-- the previous appender's commit), and in READ COMMITTED every later statement of a volatile
-- function sees that commit. Under the head lock no row can clash with the ones inserted;
-- should one anyway (a program writing the table around the head), the INSERT fails on a
-- UNIQUE constraint and the statement with it, leaving nothing behind. No EXCEPTION block
-- catches that: it would be a subtransaction per append — a group of more than 64 of them
-- slows every session's snapshots — and the caller handles the error (append_once in
-- postgres_store.cpp). (ON CONFLICT DO NOTHING with taking back the rows, tried too, made
-- 100-event appends 45% slower: pgbench on the function alone, 2.9 -> 4.3 ms.)
--
-- The name carries a version: the function is created when missing and never replaced, so
-- opening a store neither needs to own the function nor makes other sessions plan theirs
-- again. A change to it gets a new name (and a new file).
CREATE FUNCTION eda_append_v1(
    p_stream text, p_expected bigint, p_ids text[], p_types text[], p_envelopes bytea[])
  RETURNS TABLE (r_outcome text, r_version bigint, r_head bigint,
                 r_event_id text, r_stream text, r_position bigint)
  LANGUAGE plpgsql AS $body$
DECLARE
  head bigint;
  current_version bigint;
  wanted text;
  any_found boolean := false;
BEGIN
  SELECT h.position INTO head FROM store_head h WHERE h.id FOR UPDATE;
  -- One lookup per id, each by equality: a plan that is the unique index whatever the size
  -- of the table, made once per session. (A join with unnest(p_ids) is planned again at
  -- every call, which took a third of a one-event append; "= ANY (p_ids)", tried too, made
  -- hundred-event appends ten times slower in the benchmark.)
  FOREACH wanted IN ARRAY p_ids LOOP
    RETURN QUERY
      SELECT 'found', e.version, head, e.event_id, e.stream, e.position
      FROM events e WHERE e.event_id = wanted;
    any_found := any_found OR FOUND;
  END LOOP;
  IF any_found THEN
    RETURN;
  END IF;
  SELECT coalesce(max(e.version), 0) INTO current_version FROM events e WHERE e.stream = p_stream;
  IF p_expected IS NOT NULL AND current_version <> p_expected THEN
    RETURN QUERY SELECT 'conflict', current_version, head, NULL::text, NULL::text, NULL::bigint;
    RETURN;
  END IF;
  INSERT INTO events (position, stream, version, event_id, type, envelope)
    SELECT head + a.i, p_stream, current_version + a.i, a.id, a.type, a.envelope
    FROM unnest(p_ids, p_types, p_envelopes) WITH ORDINALITY AS a(id, type, envelope, i);
  UPDATE store_head SET position = head + cardinality(p_ids) WHERE id;
  RETURN QUERY SELECT 'stored', current_version, head + cardinality(p_ids),
                      NULL::text, NULL::text, NULL::bigint;
END
$body$;
