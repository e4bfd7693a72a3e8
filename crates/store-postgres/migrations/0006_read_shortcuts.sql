-- Migration 6 is SQLite's alone (a mark for users that may have custom values, and a
-- covering index for the credential fence): PostgreSQL reads both without them. It is
-- here so that both stores share one numbering.
SELECT 1;
