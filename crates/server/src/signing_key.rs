//! `clientele signing-key`: the keys that sign access tokens.

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::json;

use clientele_service::Registry;

use crate::cli::print;

#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// Make a new key sign every access token from now on. Tokens signed with earlier keys
    /// stay valid until they expire; running servers switch within --signing-key-refresh.
    Rotate {
        /// Print one JSON object: {"kid", "created_at", "keys"}.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `signing-key` command.
pub(crate) async fn run(registry: Registry, command: &SigningKeyCommand) -> anyhow::Result<()> {
    match command {
        SigningKeyCommand::Rotate { json } => {
            let rotated = registry.rotate_signing_key().await.context("rotating the signing key")?;
            let created_at = rotated.created_at.format(&time::format_description::well_known::Rfc3339)?;
            print(
                *json,
                json!({"kid": rotated.kid, "created_at": created_at, "keys": rotated.keys}),
                format!(
                    "new tokens are signed with key {} (running servers switch within their key refresh); \
                     tokens signed with the {} earlier key(s) stay valid until they expire",
                    rotated.kid,
                    rotated.keys.saturating_sub(1)
                ),
            );
        }
    }
    Ok(())
}
