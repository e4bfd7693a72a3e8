//! The `clientele` command line: settings from flags or `CLIENTELE_*` environment variables.

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use serde_json::json;

use clientele_domain::credential::{KeyOwner, Role};
use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::{MerchantId, MerchantNumber};
use clientele_domain::property::{PropertyName, ValueType};
use clientele_domain::{DisplayName, FieldError};
use clientele_service::Refusal;
use clientele_service::{IssuedKey, Registry, TokenSettings, maintenance};
use clientele_store::StoreMetrics;

use crate::StoreSettings;
pub use crate::serve_args::ServeArgs;
pub use crate::signing_key::SigningKeyCommand;

/// Clientele: a customer registry for payment, debit-order and loyalty platforms.
#[derive(Debug, Parser)]
#[command(name = "clientele", version, about, long_about = None)]
pub struct Cli {
    /// The database: `sqlite://PATH` (created on first start) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "CLIENTELE_DATABASE_URL", default_value = "sqlite://data/clientele.db",
        global = true, hide_env_values = true, value_parser = secret)]
    pub database_url: SecretString,

    /// PostgreSQL connections per server process for requests, opened as needed; one more
    /// applies migrations and listens for revoked keys.
    #[arg(long, env = "CLIENTELE_PG_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    pub pg_max_connections: u32,

    /// The key that seals the token signing keys in the database: 32 random bytes in
    /// base64 (`openssl rand -base64 32`) or hex. Required with PostgreSQL (the same for
    /// every process); with SQLite, when not set, it is kept in `<database>.master-key`
    /// (made on the first start, mode 0600): back that file up with the database.
    #[arg(long, env = "CLIENTELE_MASTER_KEY", global = true, hide_env_values = true, value_parser = secret)]
    pub master_key: Option<SecretString>,

    /// Log format.
    #[arg(long, env = "CLIENTELE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` syntax (`info`, `clientele_http=debug,info`, ...).
    #[arg(long, env = "CLIENTELE_LOG", default_value = "info", global = true)]
    pub log: String,

    #[command(subcommand)]
    pub command: Command,
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value.to_owned()))
}

/// How log lines are written (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people.
    Pretty,
    /// One JSON object a line, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit. On PostgreSQL with the citus extension,
    /// then distribute the tables by merchant (reference tables first, every tenant table
    /// co-located with users); tables already distributed are left as they are.
    Migrate {
        /// Fail unless the database has the citus extension.
        #[arg(long)]
        citus: bool,
    },
    /// Check the whole database: SQLite's integrity check, then every invariant (no row
    /// without its merchant, no reference across merchants, nothing personal left of an
    /// erased user, ...). Exits with 1 when anything does not hold.
    Check {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Manage merchants.
    Merchant {
        #[command(subcommand)]
        command: MerchantCommand,
    },
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Manage interaction points (registered tills, shops, channels).
    InteractionPoint {
        #[command(subcommand)]
        command: InteractionPointCommand,
    },
    /// Manage custom property definitions.
    Property {
        #[command(subcommand)]
        command: PropertyCommand,
    },
    /// Manage the keys that sign access tokens.
    SigningKey {
        #[command(subcommand)]
        command: SigningKeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum MerchantCommand {
    /// Create a merchant and its first admin API key.
    Create {
        #[arg(long)]
        name: String,
        /// The merchant's public number (RealPay's merchant_number).
        #[arg(long)]
        number: String,
        /// Print one JSON object: {"id", "number", "name", "api_key", "api_key_id"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Issue an API key; its secret is printed once.
    Create {
        /// The merchant's number.
        #[arg(long, required_unless_present = "platform", conflicts_with = "platform")]
        merchant: Option<String>,
        /// readonly, client or admin.
        #[arg(long, required_unless_present = "platform", conflicts_with = "platform")]
        role: Option<String>,
        /// A platform admin key, which creates merchants and reaches no merchant's data.
        #[arg(long)]
        platform: bool,
        /// A label to tell keys apart.
        #[arg(long)]
        name: Option<String>,
        /// Print one JSON object: {"id", "role", "api_key"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum InteractionPointCommand {
    /// Register an interaction point of a merchant.
    Create {
        /// The merchant's number.
        #[arg(long)]
        merchant: String,
        /// The id clients send in the interaction-id header.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// Print one JSON object: {"id", "name"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PropertyCommand {
    /// Define a custom property of a merchant's users.
    Create {
        /// The merchant's number.
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        name: String,
        /// string, integer, decimal, boolean or date.
        #[arg(long, default_value = "string")]
        value_type: String,
        /// A UUID to give the definition; one is assigned otherwise.
        #[arg(long)]
        id: Option<uuid::Uuid>,
        /// Print one JSON object: {"id", "name", "value_type"}.
        #[arg(long)]
        json: bool,
    },
}

impl Cli {
    pub fn store_settings(&self) -> StoreSettings {
        StoreSettings {
            database_url: self.database_url.clone(),
            pg_max_connections: self.pg_max_connections,
            master_key: self.master_key.clone(),
        }
    }
}

/// A flag's value refused by the domain's parser, worded for the command line.
fn flag(error: FieldError) -> anyhow::Error {
    anyhow::anyhow!("--{} {}", error.field, error.violation)
}

async fn registry(cli: &Cli) -> anyhow::Result<Registry> {
    crate::open_registry(&cli.store_settings(), TokenSettings::default(), StoreMetrics::default()).await
}

async fn merchant_id(registry: &Registry, number: &str) -> anyhow::Result<MerchantId> {
    let number = MerchantNumber::parse("merchant", number).map_err(flag)?;
    match registry.merchant_by_number(&number).await {
        Ok(merchant) => Ok(merchant.id),
        Err(Refusal::NotFound) => {
            anyhow::bail!("no merchant has the number {}", number.as_str())
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) fn print(json: bool, value: serde_json::Value, human: String) {
    if json {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

fn key_role(issued: &IssuedKey) -> &'static str {
    match issued.key.owner {
        KeyOwner::Platform => "platform",
        KeyOwner::Merchant { role, .. } => role.as_str(),
    }
}

/// Runs an administrative command (every command but `serve`).
pub async fn administer(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(_) => anyhow::bail!("serve is not an administrative command"),
        Command::Migrate { citus } => {
            let applied = crate::migrate(&cli.store_settings(), *citus).await?;
            println!("applied {applied} migration(s); the database is up to date");
        }
        Command::Check { json } => {
            let store = crate::open_store(&cli.store_settings(), StoreMetrics::default()).await?;
            let maintenance::Checked { invariants: checked, violations } =
                maintenance::check_database(store.as_ref()).await.context("checking the database")?;
            let human = violations.iter().map(|v| format!("violated: {v}\n")).collect::<String>();
            print(
                *json,
                json!({"ok": violations.is_empty(), "invariants": checked, "violations": violations}),
                format!("{human}checked {checked} invariants: {} violated", violations.len()),
            );
            anyhow::ensure!(violations.is_empty(), "the database breaks {} invariant(s)", violations.len());
        }
        Command::Merchant { command: MerchantCommand::Create { name, number, json } } => {
            let number = MerchantNumber::parse("number", number).map_err(flag)?;
            let name = DisplayName::parse("name", name).map_err(flag)?;
            let registry = registry(cli).await?;
            let (merchant, key) = registry.create_merchant(number, name).await.context("creating the merchant")?;
            print(
                *json,
                json!({
                    "id": merchant.id, "number": merchant.number, "name": merchant.name,
                    "api_key": key.secret.expose(), "api_key_id": key.key.id,
                }),
                format!(
                    "created merchant {} ({}), id {}\nadmin API key (shown once): {}",
                    merchant.number.as_str(),
                    merchant.name.as_str(),
                    merchant.id,
                    key.secret.expose()
                ),
            );
        }
        Command::ApiKey { command: ApiKeyCommand::Create { merchant, role, platform, name, json } } => {
            let name = name.as_deref().map(|n| DisplayName::parse("name", n)).transpose().map_err(flag)?;
            let registry = registry(cli).await?;
            let owner = match (merchant, role, platform) {
                (_, _, true) => KeyOwner::Platform,
                (Some(merchant), Some(role), false) => KeyOwner::Merchant {
                    role: Role::parse("role", role).map_err(flag)?,
                    merchant: merchant_id(&registry, merchant).await?,
                },
                _ => anyhow::bail!("give --merchant and --role, or --platform"),
            };
            let issued = registry.issue_key(owner, name).await.context("issuing the key")?;
            print(
                *json,
                json!({"id": issued.key.id, "role": key_role(&issued), "api_key": issued.secret.expose()}),
                format!(
                    "issued {} key {}\nAPI key (shown once): {}",
                    key_role(&issued),
                    issued.key.id,
                    issued.secret.expose()
                ),
            );
        }
        Command::InteractionPoint { command: InteractionPointCommand::Create { merchant, id, name, json } } => {
            let id = InteractionPointId::parse("id", id).map_err(flag)?;
            let name = DisplayName::parse("name", name).map_err(flag)?;
            let registry = registry(cli).await?;
            let merchant = merchant_id(&registry, merchant).await?;
            let point = registry.create_interaction_point(merchant, id, name).await.context("registering")?;
            print(
                *json,
                json!({"id": point.id, "name": point.name}),
                format!("registered interaction point {} ({})", point.id.as_str(), point.name.as_str()),
            );
        }
        Command::SigningKey { command } => crate::signing_key::run(registry(cli).await?, command).await?,
        Command::Property { command: PropertyCommand::Create { merchant, name, value_type, id, json } } => {
            let name = PropertyName::parse("name", name).map_err(flag)?;
            let value_type = ValueType::parse("value-type", value_type).map_err(flag)?;
            let registry = registry(cli).await?;
            let merchant = merchant_id(&registry, merchant).await?;
            let id = id.map(clientele_domain::property::PropertyId::from_uuid);
            let property = registry.create_property(merchant, id, name, value_type).await.context("defining")?;
            print(
                *json,
                json!({"id": property.id, "name": property.name, "value_type": property.value_type.as_str()}),
                format!(
                    "defined property {} ({}), id {}",
                    property.name.as_str(),
                    property.value_type.as_str(),
                    property.id
                ),
            );
        }
    }
    Ok(())
}
