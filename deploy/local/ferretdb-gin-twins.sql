SET client_min_messages = warning;
-- FerretDB 1.24 on PostgreSQL filters a document field with `(_jsonb -> 'field') @> '"value"'`,
-- which the btree indexes it creates over `(_jsonb -> 'field')` cannot serve: every find by
-- `_id` or by an indexed field was a sequential scan that detoasted every document (measured:
-- 250-330 ms to read one school's 16 pages out of 6,000, 121 ms → under 10 ms with the twin).
-- So every index FerretDB creates gets a GIN twin over the same fields, which `@>` can use.
-- Idempotent: installed on every start (deploy/local/postgres.sh), backfills existing indexes.

CREATE OR REPLACE FUNCTION shkala_gin_twins_of(index_oid oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  def text := pg_get_indexdef(index_oid);
  tbl regclass;
  field text[];
BEGIN
  IF def IS NULL OR def ~ 'USING gin' OR def !~ '_jsonb -> ' THEN
    RETURN;  -- not one of FerretDB's field indexes (or a twin already)
  END IF;
  SELECT indrelid::regclass INTO tbl FROM pg_index WHERE indexrelid = index_oid;
  FOR field IN SELECT regexp_matches(def, '\(_jsonb -> ''([^'']+)''::text\)', 'g') LOOP
    EXECUTE format(
      'CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L))',
      'gin_' || md5(tbl::text || '/' || field[1]), tbl, field[1]
    );
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION shkala_gin_twins_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands()
             WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    PERFORM shkala_gin_twins_of(cmd.objid);
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS shkala_gin_twins;
CREATE EVENT TRIGGER shkala_gin_twins ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION shkala_gin_twins_on_ddl();

DO $$
DECLARE
  idx oid;
BEGIN
  FOR idx IN SELECT i.indexrelid FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public') LOOP
    PERFORM shkala_gin_twins_of(idx);
  END LOOP;
END $$;
