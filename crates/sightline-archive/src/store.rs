//! The archive handle: the object store under it, each tenant's prefix and
//! the dates it has files for, and the small JSON documents kept beside
//! the data.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sightline_core::{Signal, TenantId};
use tokio::sync::Mutex;

use crate::ArchiveError;
use crate::manifest::DayManifest;
use crate::schema::metrics_schema;

/// The metrics archive of all tenants.
pub struct Archive {
    pub(crate) store: Arc<dyn ObjectStore>,
    /// Absolute filesystem root of the archive, used for DataFusion's table URLs.
    pub(crate) root: String,
    pub(crate) schema: SchemaRef,
    /// Dates each tenant has files of each signal for, loaded lazily from
    /// a listing.
    pub(crate) dates: Mutex<HashMap<(TenantId, Signal), BTreeSet<String>>>,
    /// Manifests read or written so far, by tenant, signal and date.
    pub(crate) manifests: Mutex<HashMap<(TenantId, Signal, String), DayManifest>>,
    /// Held while a manifest is read, changed and written back.
    pub(crate) committing: Mutex<()>,
}

impl Archive {
    /// Opens (creating it if needed) an archive on the local filesystem.
    /// Days written before manifests existed get one, listing their files.
    pub fn open_local(dir: &Path) -> Result<Self, ArchiveError> {
        std::fs::create_dir_all(dir)?;
        crate::manifest::adopt_unlisted_days(dir)?;
        Self::at_local(dir)
    }

    /// An existing archive on the local filesystem, as it is: nothing is
    /// created or entered in a manifest (operators' commands read through
    /// this).
    pub fn at_local(dir: &Path) -> Result<Self, ArchiveError> {
        if !dir.is_dir() {
            return Err(ArchiveError::Corrupt(format!(
                "no archive at {}: not a directory",
                dir.display()
            )));
        }
        let abs = std::fs::canonicalize(dir)?;
        let root = abs
            .to_str()
            .ok_or_else(|| ArchiveError::Corrupt(format!("archive path {abs:?} is not UTF-8")))?
            .trim_end_matches('/')
            .to_string();
        Ok(Archive {
            store: Arc::new(LocalFileSystem::new_with_prefix(&abs)?),
            root,
            schema: metrics_schema(),
            dates: Mutex::new(HashMap::new()),
            manifests: Mutex::new(HashMap::new()),
            committing: Mutex::new(()),
        })
    }

    /// Where a tenant's files of `signal` live: `tenant=<id>/signal=<s>`.
    pub(crate) fn signal_prefix(tenant: &TenantId, signal: Signal) -> String {
        format!("tenant={}/signal={}", tenant.as_str(), signal.as_str())
    }

    /// The dates (`YYYY-MM-DD`) a tenant has metric files for.
    #[cfg(test)]
    pub(crate) async fn tenant_dates(
        &self,
        tenant: &TenantId,
    ) -> Result<BTreeSet<String>, ArchiveError> {
        self.signal_dates(tenant, Signal::Metrics).await
    }

    /// Records that a tenant now has a file of `signal` on `date`.
    pub(crate) async fn add_date(&self, tenant: &TenantId, signal: Signal, date: String) {
        self.dates
            .lock()
            .await
            .entry((tenant.clone(), signal))
            .or_default()
            .insert(date);
    }

    /// The dates (`YYYY-MM-DD`) a tenant has files of `signal` for.
    pub(crate) async fn signal_dates(
        &self,
        tenant: &TenantId,
        signal: Signal,
    ) -> Result<BTreeSet<String>, ArchiveError> {
        let key = (tenant.clone(), signal);
        let mut g = self.dates.lock().await;
        if let Some(d) = g.get(&key) {
            return Ok(d.clone());
        }
        let prefix = ObjPath::from(Self::signal_prefix(tenant, signal));
        let listing = self.store.list_with_delimiter(Some(&prefix)).await?;
        let mut set = BTreeSet::new();
        for p in listing.common_prefixes {
            if let Some(d) = p.filename().and_then(|f| f.strip_prefix("date=")) {
                set.insert(d.to_string());
            }
        }
        g.insert(key, set.clone());
        Ok(set)
    }

    /// Stores a small JSON document for a tenant (metadata).
    pub async fn put_json(
        &self,
        tenant: &TenantId,
        name: &str,
        body: Vec<u8>,
    ) -> Result<(), ArchiveError> {
        let path = ObjPath::from(format!("tenant={}/signal=metadata/{name}", tenant.as_str()));
        self.store.put(&path, PutPayload::from(body)).await?;
        Ok(())
    }

    /// Every tenant with a prefix in the archive, sorted.
    pub(crate) async fn tenants(&self) -> Result<Vec<TenantId>, ArchiveError> {
        let top = self.store.list_with_delimiter(None).await?;
        let mut out: Vec<TenantId> = top
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename()?.strip_prefix("tenant="))
            .filter_map(|t| TenantId::new(t).ok())
            .collect();
        out.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(out)
    }

    /// Reads every tenant's JSON document of that name.
    pub async fn all_json(&self, name: &str) -> Result<Vec<(TenantId, Vec<u8>)>, ArchiveError> {
        let mut out = Vec::new();
        for tenant in self.tenants().await? {
            let path = ObjPath::from(format!("tenant={}/signal=metadata/{name}", tenant.as_str()));
            match self.store.get(&path).await {
                Ok(r) => out.push((tenant, r.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }
}
