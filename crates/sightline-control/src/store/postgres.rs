//! The production control plane: PostgreSQL through sqlx, with row-level
//! security on every tenant-owned table (`migrations/postgres`).

use std::time::Duration;

use sightline_core::TenantId;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};

use crate::ControlError;
use crate::model::Access;

/// Each transaction starts by setting, for its own duration only
/// (`set_config(…, true)`, i.e. `SET LOCAL`), the workspace it acts for;
/// the policies then admit only that workspace's rows.
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`), refuses
    /// a role that row-level security would not bind, and applies
    /// `migrations/postgres`.
    pub async fn connect(url: &str) -> Result<Self, ControlError> {
        let opts: PgConnectOptions = url
            .parse()
            .map_err(|e| ControlError::Invalid(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        let row = sqlx::query(
            "SELECT rolsuper OR rolbypassrls, current_user FROM pg_roles \
             WHERE rolname = current_user",
        )
        .fetch_one(&pool)
        .await?;
        let bypass: bool = row.get(0);
        if bypass {
            let user: String = row.get(1);
            return Err(ControlError::Invalid(format!(
                "PostgreSQL role {user:?} is a superuser or has BYPASSRLS, so row-level \
                 security would not bind it: connect as an ordinary role"
            )));
        }
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await?;
        Ok(PostgresStore { pool })
    }

    /// The pool, for tests that prove what the policies alone admit.
    #[doc(hidden)]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(
        &self,
        access: &Access,
    ) -> Result<sqlx::Transaction<'static, Postgres>, ControlError> {
        let mut tx = self.pool.begin().await?;
        match access {
            Access::All => {
                sqlx::query("SELECT set_config('sightline.scope', 'all', true)")
                    .execute(&mut *tx)
                    .await?;
            }
            Access::Workspace(w) => Self::scope_to(&mut tx, w).await?,
        }
        Ok(tx)
    }

    async fn begin_digest(
        &self,
        digest: &str,
    ) -> Result<sqlx::Transaction<'static, Postgres>, ControlError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT set_config('sightline.token_digest', $1, true)")
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    async fn scope_to(
        tx: &mut sqlx::Transaction<'static, Postgres>,
        ws: &TenantId,
    ) -> Result<(), ControlError> {
        sqlx::query("SELECT set_config('sightline.workspace', $1, true)")
            .bind(ws.as_str())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

crate::store::sql_store!(PostgresStore, Postgres, "postgres");
