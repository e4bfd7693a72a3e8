//! Where the master key comes from: `CLIENTELE_MASTER_KEY` (or `--master-key`) when given;
//! otherwise, with SQLite, a key file beside the database, made on the first start. A
//! PostgreSQL database is shared by several processes, possibly on several machines, so
//! there the key must be given: a file on one machine would be a second, different key.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use secrecy::ExposeSecret as _;

use clientele_service::{MasterKey, maintenance};
use clientele_store::Store;

use crate::StoreSettings;

/// The key file of the SQLite database at `database`: `<database>.master-key`.
pub fn key_file(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".master-key");
    PathBuf::from(name)
}

/// The master key for the database `settings` name, whose store is `store`.
pub async fn resolve(settings: &StoreSettings, store: &dyn Store) -> anyhow::Result<MasterKey> {
    if let Some(given) = &settings.master_key {
        return MasterKey::parse(given.expose_secret()).context("reading CLIENTELE_MASTER_KEY");
    }
    let Some(database) = clientele_store_sqlite::path_from_url(settings.database_url.expose_secret()) else {
        anyhow::bail!(
            "CLIENTELE_MASTER_KEY (or --master-key) is required with PostgreSQL: every server process on the \
             database must use the same one; make one with `openssl rand -base64 32` and keep it with your \
             other secrets"
        );
    };
    let path = key_file(&database);
    let existing = tokio::task::spawn_blocking({
        let path = path.clone();
        move || read(&path)
    })
    .await??;
    if let Some(key) = existing {
        return Ok(key);
    }
    // No key file: a database whose keys are sealed lost it. Making a new one would lock
    // them out for good and hide what happened. (Keys stored in plain, from before keys
    // were sealed, are sealed under the new key.)
    if maintenance::holds_sealed_keys(store).await.context("reading the signing keys")? {
        anyhow::bail!(
            "the database holds sealed signing keys but its master key file {} is missing and CLIENTELE_MASTER_KEY is \
             not set: restore the key file from your backup (or set CLIENTELE_MASTER_KEY)",
            path.display()
        );
    }
    tokio::task::spawn_blocking(move || create(&path)).await?
}

/// The key in `path`, or `None` when there is no such file.
fn read(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("reading the master key file {}", path.display())),
    };
    warn_if_readable_by_others(path);
    let key = MasterKey::parse(&text).with_context(|| format!("reading the master key file {}", path.display()))?;
    Ok(Some(key))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the master key file can be read by others than its owner; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Makes a new key file at `path`, readable by its owner only. It is written whole to a
/// file of its own and then linked into place, which fails if another process was first:
/// then that process's key is the one, and it is read.
fn create(path: &Path) -> anyhow::Result<MasterKey> {
    let key = MasterKey::generate();
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".master-key-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut staged =
        builder.tempfile_in(dir).with_context(|| format!("creating a master key file in {}", dir.display()))?;
    writeln!(staged, "{}", key.encode().expose_secret()).context("writing the master key file")?;
    staged.as_file().sync_all().context("writing the master key file")?;
    match std::fs::hard_link(staged.path(), path) {
        Ok(()) => {
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
            tracing::info!(path = %path.display(), "made a master key for the signing keys; back it up with the database");
            Ok(key)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            read(path)?.with_context(|| format!("reading the master key file {}", path.display()))
        }
        Err(error) => Err(error).with_context(|| format!("writing the master key file {}", path.display())),
    }
}
