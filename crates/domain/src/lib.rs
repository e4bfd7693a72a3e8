//! Clientele's domain: the types every surface parses its input into, and the rules they
//! carry. Nothing here does I/O, speaks HTTP or knows SQL.
//!
//! Every constrained value is a newtype that can only be built by parsing, so code past the
//! parsing line never re-checks it. A parse failure is a [`FieldError`] naming the field, so
//! each surface can phrase it in its own format.

mod error;
mod id;
mod text;

pub mod contract;
pub mod credential;
pub mod event;
pub mod interaction_point;
pub mod merchant;
pub mod money;
pub mod payment;
pub mod payment_page;
pub mod points;
pub mod property;
pub mod user;
pub mod webhook;

pub use error::{FieldError, ValidationErrors, Violation};
pub use id::IdText;
pub use text::{DisplayName, LOOKUP_MAX, bounded_text, lookup_text, may_be_stored};
