//! Clientele's integration tests: a real server on port 0, on SQLite by default, or on
//! PostgreSQL when `CLIENTELE_TEST_DATABASE_URL` names a server (each test then gets a
//! schema of its own, dropped afterwards).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod harness;

mod abuse;
mod access;
mod browser;
mod contracts;
mod convercus;
mod credentials;
mod duengage;
mod erasure;
mod events;
mod gateway;
mod hostile;
mod idempotency;
mod limits;
mod matrix;
mod metadata;
mod ops;
mod payment_page;
mod points;
mod points_time;
mod processes;
mod realpay;
mod revocations;
mod secrets;
mod servicestack;
mod settings;
mod store;
mod users;
mod webhooks;
