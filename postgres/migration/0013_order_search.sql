-- 0013_order_search: an index for the order list's search by part of a
-- customer name. Keep in step with sqlite/migration/0013_order_search.sql;
-- the matching rule is in store.OrderListParams and docs/console.md.
--
-- A trigram GIN index (pg_trgm) on the folded name (Go's strings.ToLower,
-- in orders.customer_name_fold) serves customer_name_fold LIKE '%text%'
-- for a text of three or more characters.
--
-- pg_trgm ships with PostgreSQL (contrib; Debian's postgresql package
-- includes it) and is a trusted extension: a role with CREATE on the
-- database may install it. It is installed once per database, in schema
-- public when there is one (so that schemas created and dropped beside it,
-- as the tests do, do not take it with them), else in the current schema;
-- the index names the operator class in whatever schema holds it.
--
-- Fallback: where the extension cannot be installed (not available, or no
-- privilege), the migration still succeeds, without the index, and says
-- so in a NOTICE. Search then works the same but reads the orders newest
-- first until a page is full, as before this migration. Install pg_trgm
-- (CREATE EXTENSION pg_trgm, as a superuser) and run
--   CREATE INDEX orders_customer_name_trgm ON orders
--       USING gin (customer_name_fold gin_trgm_ops);
-- to add the index later.
DO $$
DECLARE
    ext_schema text;
BEGIN
    -- Migrations of every schema of the database take this lock, so two
    -- cannot both find the extension missing and both create it.
    PERFORM pg_advisory_xact_lock(7406, hashtext('pg_trgm'));
    SELECT n.nspname INTO ext_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NULL THEN
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')
                    AND has_schema_privilege('public', 'CREATE') THEN
                CREATE EXTENSION pg_trgm SCHEMA public;
                ext_schema := 'public';
            ELSE
                CREATE EXTENSION pg_trgm;
                ext_schema := current_schema();
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'orderly 0013_order_search: pg_trgm cannot be installed (%); order search by name will scan', SQLERRM;
            RETURN;
        END;
    END IF;
    EXECUTE format('CREATE INDEX orders_customer_name_trgm ON orders USING gin (customer_name_fold %I.gin_trgm_ops)', ext_schema);
END
$$;
