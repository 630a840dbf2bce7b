//! Schema migrations, embedded from `migrations/clickhouse`.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use crate::ChError;
use crate::client::ClickHouse;

/// (version, name, SQL) in order. Each file's statements are idempotent
/// (`IF NOT EXISTS`, `IF EXISTS`), so a half-applied migration is safe to
/// run again.
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "metrics",
        include_str!("../../../migrations/clickhouse/001_metrics.sql"),
    ),
    (
        2,
        "logs_spans",
        include_str!("../../../migrations/clickhouse/002_logs_spans.sql"),
    ),
    (
        3,
        "spans_otlp",
        include_str!("../../../migrations/clickhouse/003_spans_otlp.sql"),
    ),
];

/// The tables the migrations create.
pub(crate) const TABLES: &[&str] = &["metric_series", "metric_samples", "logs", "spans"];

#[derive(Row, Serialize, Deserialize)]
struct Applied {
    version: u32,
    name: String,
}

/// The statements of one migration file, comments removed.
pub(crate) fn statements(sql: &str) -> Vec<String> {
    let text: String = sql
        .lines()
        .map(|l| match l.find("--") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl ClickHouse {
    /// Creates the database if needed and applies the migrations not yet
    /// recorded in `schema_migrations`. Returns how many were applied.
    pub async fn migrate(&self) -> Result<usize, ChError> {
        self.server()
            .query("CREATE DATABASE IF NOT EXISTS ?")
            .bind(clickhouse::sql::Identifier(self.database()))
            .execute()
            .await?;
        self.client()
            .query(
                "CREATE TABLE IF NOT EXISTS schema_migrations \
                 (version UInt32, name String, applied_at DateTime DEFAULT now()) \
                 ENGINE = ReplacingMergeTree ORDER BY version",
            )
            .execute()
            .await?;
        let done: Vec<Applied> = self
            .client()
            .query("SELECT version, name FROM schema_migrations FINAL")
            .fetch_all()
            .await?;
        let mut applied = 0;
        for (version, name, sql) in MIGRATIONS {
            if done.iter().any(|a| a.version == *version) {
                continue;
            }
            for st in statements(sql) {
                self.client().query(&st).execute().await?;
            }
            let mut ins = self.client().insert::<Applied>("schema_migrations").await?;
            ins.write(&Applied {
                version: *version,
                name: name.to_string(),
            })
            .await?;
            ins.end().await?;
            tracing::info!(version, name, "clickhouse migration applied");
            applied += 1;
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_into_idempotent_statements() {
        for (_, _, sql) in MIGRATIONS {
            let st = statements(sql);
            assert!(!st.is_empty());
            for s in st {
                if s.starts_with("ALTER TABLE") {
                    assert!(
                        s.contains(" IF NOT EXISTS ") || s.contains(" IF EXISTS "),
                        "{s}"
                    );
                    continue;
                }
                assert!(s.starts_with("CREATE TABLE IF NOT EXISTS"), "{s}");
                assert!(s.contains("PARTITION BY (tenant,"), "{s}");
                assert!(s.contains("ORDER BY (tenant,"), "{s}");
                assert!(s.contains("TTL "), "{s}");
            }
        }
    }
}
