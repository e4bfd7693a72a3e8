//! A database of one run's own: a SQLite file in a temporary directory, or a PostgreSQL
//! database created for the run and dropped afterwards.

use anyhow::Context as _;

/// The run's database; call [`Database::drop_now`] when done (a PostgreSQL database left
/// behind by a crashed run is named `clientele_run_*`).
#[derive(Debug)]
pub struct Database {
    url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Database {
    /// A fresh SQLite file, or a fresh database on the PostgreSQL server `postgres` names
    /// (`postgres://user@host/db`, where `db` is one to connect to for creating it).
    pub async fn create(postgres: Option<&str>) -> anyhow::Result<Database> {
        let dir = tempfile::tempdir()?;
        match postgres {
            None => {
                let url = format!("sqlite://{}", dir.path().join("clientele.db").display());
                Ok(Database { url, _dir: dir, postgres: None })
            }
            Some(base) => {
                let name = format!("clientele_run_{}", uuid::Uuid::new_v4().simple());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(base).await?;
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
                let (prefix, _) = base.rsplit_once('/').context("a PostgreSQL URL ends with /database")?;
                Ok(Database { url: format!("{prefix}/{name}"), _dir: dir, postgres: Some((base.to_owned(), name)) })
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Drops the PostgreSQL database (the SQLite file goes with its directory).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        if let Some((base, name)) = &self.postgres {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(base).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await?;
        }
        Ok(())
    }
}
