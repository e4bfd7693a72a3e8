//! What the benchmark and the crash harness share: the release server as a child process,
//! and a database of the run's own.

pub mod database;
pub mod receiver;
pub mod server;
