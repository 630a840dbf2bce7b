//! Manifests: what a reader may see. Each tenant's signal has, per UTC
//! day, a `_manifest.json` listing the day's files with their rows, size,
//! time range, schema version and SHA-256. A file is committed by writing
//! it under a staging name, fsyncing it, renaming it into place, fsyncing
//! its directory and only then entering it in the manifest (itself
//! written whole and fsynced): a crash at any step leaves either a listed
//! complete file or nothing a reader sees, and the data still in the WAL.

use std::collections::BTreeMap;
use std::path::Path;

use object_store::path::Path as ObjPath;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sightline_core::{Signal, TenantId};

use crate::{Archive, ArchiveError};

/// Version of the Parquet layouts this build writes (the metrics, logs and
/// spans schemas). Readers refuse files of a newer one.
pub const SCHEMA_VERSION: u32 = 1;

/// The manifest's file name in each day's directory.
pub const MANIFEST: &str = "_manifest.json";

/// One day's files of one tenant's signal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayManifest {
    /// File name (within the day's directory) → its facts.
    pub files: BTreeMap<String, FileEntry>,
}

/// What the manifest knows of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub rows: u64,
    pub bytes: u64,
    /// Earliest and latest time of the file's rows, in milliseconds; absent
    /// for files written before manifests and entered on opening.
    pub min_ms: Option<i64>,
    pub max_ms: Option<i64>,
    pub schema_version: u32,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The facts of a file about to be committed that only its writer knows:
/// its rows and the earliest and latest of their times.
#[derive(Debug, Clone, Copy)]
pub struct FileFacts {
    pub rows: u64,
    pub min_ms: Option<i64>,
    pub max_ms: Option<i64>,
}

impl FileFacts {
    /// `rows` rows whose earliest and latest times (milliseconds) are
    /// among `times`.
    pub fn spanning(rows: usize, times: impl IntoIterator<Item = i64>) -> Self {
        let (mut min_ms, mut max_ms) = (None::<i64>, None::<i64>);
        for t in times {
            min_ms = Some(min_ms.map_or(t, |m| m.min(t)));
            max_ms = Some(max_ms.map_or(t, |m| m.max(t)));
        }
        FileFacts {
            rows: rows as u64,
            min_ms,
            max_ms,
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A day's directory: `tenant=<id>/signal=<s>/date=<date>`.
pub(crate) fn day_dir(tenant: &TenantId, signal: Signal, date: &str) -> String {
    format!("{}/date={date}", Archive::signal_prefix(tenant, signal))
}

impl DayManifest {
    fn decode(bytes: &[u8], at: &str) -> Result<Self, ArchiveError> {
        serde_json::from_slice(bytes).map_err(|e| ArchiveError::Corrupt(format!("{at}: {e}")))
    }

    fn encode(&self) -> Vec<u8> {
        // A map of strings and numbers always serializes.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

impl Archive {
    /// A day's manifest (empty when the day has none), from the cache or
    /// the store.
    pub(crate) async fn manifest(
        &self,
        tenant: &TenantId,
        signal: Signal,
        date: &str,
    ) -> Result<DayManifest, ArchiveError> {
        let key = (tenant.clone(), signal, date.to_string());
        if let Some(m) = self.manifests.lock().await.get(&key) {
            return Ok(m.clone());
        }
        let m = self.load_manifest(tenant, signal, date).await?;
        self.manifests.lock().await.insert(key, m.clone());
        Ok(m)
    }

    /// A day's manifest as the store holds it (not the cached copy).
    pub(crate) async fn load_manifest(
        &self,
        tenant: &TenantId,
        signal: Signal,
        date: &str,
    ) -> Result<DayManifest, ArchiveError> {
        let path = ObjPath::from(format!("{}/{MANIFEST}", day_dir(tenant, signal, date)));
        match self.store.get(&path).await {
            Ok(r) => DayManifest::decode(&r.bytes().await?, path.as_ref()),
            Err(object_store::Error::NotFound { .. }) => Ok(DayManifest::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Commits `bytes` as `<file_stem>.parquet` in a tenant's day of
    /// `signal`: staged, synced, renamed into place, its directory synced,
    /// then entered in the day's manifest (replacing an entry of the same
    /// name, as a retried flush rewrites its own file).
    pub(crate) async fn commit(
        &self,
        tenant: &TenantId,
        signal: Signal,
        date: &str,
        file_stem: &str,
        bytes: Vec<u8>,
        facts: FileFacts,
    ) -> Result<(), ArchiveError> {
        let dir = day_dir(tenant, signal, date);
        let name = format!("{file_stem}.parquet");
        let staged = ObjPath::from(format!("{dir}/{name}.partial"));
        let path = ObjPath::from(format!("{dir}/{name}"));
        let entry = FileEntry {
            rows: facts.rows,
            bytes: bytes.len() as u64,
            min_ms: facts.min_ms,
            max_ms: facts.max_ms,
            schema_version: SCHEMA_VERSION,
            sha256: sha256_hex(&bytes),
        };
        self.store.put(&staged, PutPayload::from(bytes)).await?;
        self.sync(&staged).await?;
        self.store.rename(&staged, &path).await?;
        self.sync_dir_of(&path).await?;
        // One writer at a time per archive: the read-modify-write of a
        // manifest is not interleaved with another.
        let _writing = self.committing.lock().await;
        let mut m = self.load_manifest(tenant, signal, date).await?;
        m.files.insert(name, entry);
        let mpath = ObjPath::from(format!("{dir}/{MANIFEST}"));
        self.store.put(&mpath, PutPayload::from(m.encode())).await?;
        self.sync(&mpath).await?;
        self.manifests
            .lock()
            .await
            .insert((tenant.clone(), signal, date.to_string()), m);
        self.add_date(tenant, signal, date.to_string()).await;
        Ok(())
    }
}

/// Enters the Parquet files of every day directory under `root` that has
/// no manifest (an archive written before manifests) in a new manifest,
/// with their size, rows and checksum; returns the files entered. Files
/// still being staged (`.partial`) are left out.
pub(crate) fn adopt_unlisted_days(root: &Path) -> Result<usize, ArchiveError> {
    let mut adopted = 0;
    for tenant in subdirs(root, "tenant=")? {
        for signal in subdirs(&tenant, "signal=")? {
            for day in subdirs(&signal, "date=")? {
                if day.join(MANIFEST).exists() {
                    continue;
                }
                let mut m = DayManifest::default();
                for f in std::fs::read_dir(&day)? {
                    let p = f?.path();
                    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    if !name.ends_with(".parquet") {
                        continue;
                    }
                    m.files.insert(name.to_string(), describe(&p)?);
                }
                if m.files.is_empty() {
                    continue;
                }
                adopted += m.files.len();
                write_synced(&day.join(MANIFEST), &m.encode())?;
                tracing::info!(dir = %day.display(), files = m.files.len(), "archive day entered in a new manifest");
            }
        }
    }
    Ok(adopted)
}

/// A file's manifest entry from its bytes and Parquet footer.
pub(crate) fn describe(p: &Path) -> Result<FileEntry, ArchiveError> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let bytes = bytes::Bytes::from(std::fs::read(p)?);
    let reader = SerializedFileReader::new(bytes.clone())
        .map_err(|e| ArchiveError::Corrupt(format!("{}: {e}", p.display())))?;
    let rows = u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
    Ok(FileEntry {
        rows,
        bytes: bytes.len() as u64,
        min_ms: None,
        max_ms: None,
        schema_version: SCHEMA_VERSION,
        sha256: sha256_hex(&bytes),
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("json.partial");
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(d) = path.parent() {
        std::fs::File::open(d)?.sync_all()?;
    }
    Ok(())
}

/// The subdirectories of `dir` whose names start with `prefix`, sorted.
pub(crate) fn subdirs(dir: &Path, prefix: &str) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir()
            && e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(prefix))
        {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::time::DAY_MS;
    use sightline_core::{Labels, MatchOp, Matcher, Sample};

    fn up() -> Vec<Matcher> {
        vec![Matcher::new("__name__", MatchOp::Equal, "up").expect("valid")]
    }

    async fn write(ar: &Archive, tenant: &TenantId, stem: &str, t: i64) {
        let l = Labels::from_pairs([("__name__", "up"), ("job", stem)]).expect("labels");
        let xs = [
            Sample { t, v: 1.0 },
            Sample {
                t: t + 15_000,
                v: 2.0,
            },
        ];
        ar.write_metrics(tenant, [(&l, &xs[..])].into_iter(), stem)
            .await
            .expect("write");
    }

    /// A committed file is listed with its facts; a file the manifest does
    /// not list (a crash before its entry, a staged one, a stray copy) is
    /// never read.
    #[tokio::test]
    async fn readers_see_listed_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ar = Archive::open_local(dir.path()).expect("open");
        let a = TenantId::new("a").expect("tenant");
        let t = 3 * DAY_MS + 1000;
        write(&ar, &a, "p1", t).await;
        let date = sightline_core::time::utc_date(t);
        let m = ar
            .manifest(&a, Signal::Metrics, &date)
            .await
            .expect("manifest");
        let e = &m.files["p1.parquet"];
        let day = dir.path().join(day_dir(&a, Signal::Metrics, &date));
        let bytes = std::fs::read(day.join("p1.parquet")).expect("file");
        assert_eq!((e.rows, e.bytes), (2, bytes.len() as u64));
        assert_eq!((e.min_ms, e.max_ms), (Some(t), Some(t + 15_000)));
        assert_eq!(e.sha256, sha256_hex(&bytes));
        assert_eq!(e.schema_version, SCHEMA_VERSION);
        let on_disk: DayManifest =
            serde_json::from_slice(&std::fs::read(day.join(MANIFEST)).expect("read"))
                .expect("json");
        assert_eq!(on_disk, m);

        // Files nobody committed, beside the listed one: another series'
        // complete file, and a staged one.
        let other_dir = tempfile::tempdir().expect("tempdir");
        let other = Archive::open_local(other_dir.path()).expect("open");
        write(&other, &a, "stray", t).await;
        let stray = other_dir
            .path()
            .join(day_dir(&a, Signal::Metrics, &date))
            .join("stray.parquet");
        std::fs::copy(&stray, day.join("stray.parquet")).expect("stray");
        std::fs::copy(&stray, day.join("p2.parquet.partial")).expect("staged");
        let got = ar.select(&a, &up(), 0, 5 * DAY_MS).await.expect("select");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0.get("job"), Some("p1"));
        assert_eq!(got[0].1.len(), 2);
        // A reopened archive reads the manifest from disk, the same way.
        let again = Archive::open_local(dir.path()).expect("reopen");
        assert_eq!(
            again
                .select(&a, &up(), 0, 5 * DAY_MS)
                .await
                .expect("select"),
            got
        );
        // A retried flush replaces its own entry.
        write(&ar, &a, "p1", t).await;
        assert_eq!(
            ar.manifest(&a, Signal::Metrics, &date)
                .await
                .expect("m")
                .files
                .len(),
            1
        );
    }

    /// An archive written before manifests: each day gets one on opening,
    /// listing its Parquet files with rows, size and checksum.
    #[tokio::test]
    async fn days_without_a_manifest_are_entered_on_opening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = TenantId::new("a").expect("tenant");
        let t = 5 * DAY_MS;
        let date = sightline_core::time::utc_date(t);
        {
            let ar = Archive::open_local(dir.path()).expect("open");
            write(&ar, &a, "p1", t).await;
            write(&ar, &a, "p2", t + 60_000).await;
        }
        let day = dir.path().join(day_dir(&a, Signal::Metrics, &date));
        let before: DayManifest =
            serde_json::from_slice(&std::fs::read(day.join(MANIFEST)).expect("read"))
                .expect("json");
        std::fs::remove_file(day.join(MANIFEST)).expect("remove");
        std::fs::write(day.join("p3.parquet.partial"), b"half").expect("staged");
        let ar = Archive::open_local(dir.path()).expect("reopen");
        let after = ar
            .manifest(&a, Signal::Metrics, &date)
            .await
            .expect("manifest");
        assert_eq!(
            after.files.keys().collect::<Vec<_>>(),
            ["p1.parquet", "p2.parquet"]
        );
        for (name, e) in &after.files {
            let b = &before.files[name];
            assert_eq!(
                (e.rows, e.bytes, &e.sha256),
                (b.rows, b.bytes, &b.sha256),
                "{name}"
            );
            assert_eq!(e.min_ms, None, "times are not known for adopted files");
        }
        assert_eq!(
            ar.select(&a, &up(), 0, 7 * DAY_MS)
                .await
                .expect("select")
                .len(),
            2
        );
    }
}
