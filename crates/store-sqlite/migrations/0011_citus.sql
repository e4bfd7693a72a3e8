-- Migration 11 is PostgreSQL's alone (a public link without a foreign key, for Citus): SQLite
-- is one database and keeps the key. It is here so that both stores share one numbering.
SELECT 1;
