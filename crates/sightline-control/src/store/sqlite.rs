//! The embedded control plane: SQLite through sqlx.

use std::path::Path;
use std::time::Duration;

use sightline_core::TenantId;
use sqlx::Row;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
};

use crate::ControlError;
use crate::model::Access;

/// SQLite has no row-level security: every statement's WHERE clause keeps
/// it to its [`Access`], and the shared test suite checks that it does.
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `path` and applies
    /// `migrations/sqlite`.
    pub async fn open(path: &Path) -> Result<Self, ControlError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    async fn begin(
        &self,
        _access: &Access,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, ControlError> {
        Ok(self.pool.begin().await?)
    }

    async fn begin_digest(
        &self,
        _digest: &str,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, ControlError> {
        Ok(self.pool.begin().await?)
    }

    async fn scope_to(
        _tx: &mut sqlx::Transaction<'static, Sqlite>,
        _ws: &TenantId,
    ) -> Result<(), ControlError> {
        Ok(())
    }
}

crate::store::sql_store!(SqliteStore, Sqlite, "sqlite");
