//! What an archive holds and whether it is whole: the listing of its
//! tenants, signals, days and files from the manifests, and the check of
//! each listed file's size and checksum against the file itself, with the
//! files no manifest lists.

use std::collections::BTreeMap;
use std::fmt;

use futures::TryStreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::Serialize;
use sightline_core::{Signal, TenantId};

use crate::manifest::{DayManifest, MANIFEST, day_dir, sha256_hex};
use crate::{Archive, ArchiveError, FileEntry};

/// One day of one tenant's signal, as its manifest lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DayListing {
    pub tenant: String,
    pub signal: &'static str,
    pub date: String,
    pub files: BTreeMap<String, FileEntry>,
}

/// A file that does not agree with its manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Listed, but not in the store.
    Missing { path: String },
    /// Not the listed size.
    Size {
        path: String,
        listed: u64,
        found: u64,
    },
    /// Not the listed bytes.
    Checksum {
        path: String,
        listed: String,
        found: String,
    },
    /// In a day's directory, but in no manifest (a file whose commit did
    /// not finish, or one put there by hand): never read.
    Unlisted { path: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { path } => write!(f, "{path}: listed in its manifest but missing"),
            Problem::Size {
                path,
                listed,
                found,
            } => {
                write!(f, "{path}: {found} bytes, its manifest lists {listed}")
            }
            Problem::Checksum {
                path,
                listed,
                found,
            } => {
                write!(f, "{path}: SHA-256 {found}, its manifest lists {listed}")
            }
            Problem::Unlisted { path } => write!(f, "{path}: in no manifest"),
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Listed files checked, and their bytes.
    pub files: usize,
    pub bytes: u64,
    pub problems: Vec<Problem>,
}

const SIGNALS: [Signal; 3] = [Signal::Metrics, Signal::Logs, Signal::Traces];

/// One day of one tenant's signal with its manifest.
struct Day {
    tenant: TenantId,
    signal: Signal,
    date: String,
    manifest: DayManifest,
}

impl Archive {
    /// Every day's manifest of `only` (or of every tenant), read from the
    /// store, in order of tenant, signal and date.
    async fn days(&self, only: Option<&TenantId>) -> Result<Vec<Day>, ArchiveError> {
        let tenants = match only {
            Some(t) => vec![t.clone()],
            None => self.tenants().await?,
        };
        let mut out = Vec::new();
        for tenant in tenants {
            for signal in SIGNALS {
                for date in self.signal_dates(&tenant, signal).await? {
                    let manifest = self.load_manifest(&tenant, signal, &date).await?;
                    out.push(Day {
                        tenant: tenant.clone(),
                        signal,
                        date,
                        manifest,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every day's listed files of `only` (or of every tenant), in order of
    /// tenant, signal and date.
    pub async fn listing(&self, only: Option<&TenantId>) -> Result<Vec<DayListing>, ArchiveError> {
        Ok(self
            .days(only)
            .await?
            .into_iter()
            .map(|d| DayListing {
                tenant: d.tenant.as_str().to_string(),
                signal: d.signal.as_str(),
                date: d.date,
                files: d.manifest.files,
            })
            .collect())
    }

    /// Reads every listed file of `only` (or of every tenant) and checks
    /// its size and SHA-256 against its manifest; files in a day's
    /// directory that no manifest lists are reported too.
    pub async fn verify(&self, only: Option<&TenantId>) -> Result<Report, ArchiveError> {
        let mut report = Report::default();
        for day in self.days(only).await? {
            let dir = day_dir(&day.tenant, day.signal, &day.date);
            for (name, entry) in &day.manifest.files {
                let path = ObjPath::from(format!("{dir}/{name}"));
                report.files += 1;
                let bytes = match self.store.get(&path).await {
                    Ok(r) => r.bytes().await?,
                    Err(object_store::Error::NotFound { .. }) => {
                        report.problems.push(Problem::Missing {
                            path: path.to_string(),
                        });
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                report.bytes += bytes.len() as u64;
                if bytes.len() as u64 != entry.bytes {
                    report.problems.push(Problem::Size {
                        path: path.to_string(),
                        listed: entry.bytes,
                        found: bytes.len() as u64,
                    });
                    continue;
                }
                let found = sha256_hex(&bytes);
                if found != entry.sha256 {
                    report.problems.push(Problem::Checksum {
                        path: path.to_string(),
                        listed: entry.sha256.clone(),
                        found,
                    });
                }
            }
            let present: Vec<_> = self
                .store
                .list(Some(&ObjPath::from(dir.as_str())))
                .try_collect()
                .await?;
            for meta in present {
                let Some(name) = meta.location.filename() else {
                    continue;
                };
                if name != MANIFEST && !day.manifest.files.contains_key(name) {
                    report.problems.push(Problem::Unlisted {
                        path: meta.location.to_string(),
                    });
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::time::DAY_MS;
    use sightline_core::{Labels, Sample};

    async fn archive_with_two_days(dir: &std::path::Path) -> (Archive, TenantId) {
        let ar = Archive::open_local(dir).expect("open");
        let a = TenantId::new("a").expect("tenant");
        let l = Labels::from_pairs([("__name__", "up")]).expect("labels");
        let xs = [
            Sample { t: DAY_MS, v: 1.0 },
            Sample {
                t: 2 * DAY_MS,
                v: 2.0,
            },
        ];
        ar.write_metrics(&a, [(&l, &xs[..])].into_iter(), "p1")
            .await
            .expect("write");
        let b = TenantId::new("b").expect("tenant");
        ar.write_metrics(&b, [(&l, &xs[..1])].into_iter(), "p1")
            .await
            .expect("write");
        (ar, a)
    }

    #[tokio::test]
    async fn listing_names_each_tenants_days_and_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ar, a) = archive_with_two_days(dir.path()).await;
        let all = ar.listing(None).await.expect("listing");
        let keys: Vec<_> = all
            .iter()
            .map(|d| (d.tenant.as_str(), d.date.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("a", "1970-01-02"),
                ("a", "1970-01-03"),
                ("b", "1970-01-02")
            ]
        );
        let only = ar.listing(Some(&a)).await.expect("listing");
        assert_eq!(only.len(), 2);
        assert!(
            only.iter()
                .all(|d| d.tenant == "a" && d.files["p1.parquet"].rows == 1)
        );
    }

    #[tokio::test]
    async fn verify_finds_a_flipped_byte_a_missing_file_and_an_unlisted_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ar, a) = archive_with_two_days(dir.path()).await;
        let clean = ar.verify(None).await.expect("verify");
        assert_eq!(
            (clean.files, clean.problems.len()),
            (3, 0),
            "{:?}",
            clean.problems
        );

        let day = |d: &str| dir.path().join(format!("tenant=a/signal=metrics/date={d}"));
        let f = day("1970-01-02").join("p1.parquet");
        let mut bytes = std::fs::read(&f).expect("read");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        std::fs::write(&f, &bytes).expect("flip");
        std::fs::remove_file(day("1970-01-03").join("p1.parquet")).expect("remove");
        std::fs::write(day("1970-01-03").join("extra.parquet"), b"x").expect("extra");

        let r = ar.verify(Some(&a)).await.expect("verify");
        assert_eq!(r.files, 2);
        assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
        assert!(
            matches!(&r.problems[0], Problem::Checksum { path, .. } if path.ends_with("date=1970-01-02/p1.parquet"))
        );
        assert!(
            matches!(&r.problems[1], Problem::Missing { path } if path.ends_with("date=1970-01-03/p1.parquet"))
        );
        assert!(
            matches!(&r.problems[2], Problem::Unlisted { path } if path.ends_with("extra.parquet"))
        );
        // The other tenant's files are untouched, and not looked at.
        let b = TenantId::new("b").expect("tenant");
        assert!(
            ar.verify(Some(&b))
                .await
                .expect("verify")
                .problems
                .is_empty()
        );
    }
}
