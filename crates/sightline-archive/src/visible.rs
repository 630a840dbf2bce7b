//! The store a read sees: the archive's store, read-only, holding only the
//! files the manifests of the read's days list. DataFusion lists and opens
//! files through it, so a file not (yet) entered in its manifest, a staged
//! `.partial` one or another tenant's is never read.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

/// The URL DataFusion reaches a read's view under.
pub(crate) const READ_URL: &str = "sightline-archive://read";

pub(crate) struct Visible {
    inner: Arc<dyn ObjectStore>,
    listed: Arc<HashSet<Path>>,
}

impl Visible {
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, listed: HashSet<Path>) -> Self {
        Visible {
            inner,
            listed: Arc::new(listed),
        }
    }

    fn check(&self, location: &Path) -> Result<()> {
        if self.listed.contains(location) {
            Ok(())
        } else {
            Err(object_store::Error::NotFound {
                path: location.to_string(),
                source: "not listed in a manifest".into(),
            })
        }
    }
}

impl fmt::Debug for Visible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Visible({} files)", self.listed.len())
    }
}

impl fmt::Display for Visible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

fn read_only() -> object_store::Error {
    object_store::Error::NotSupported {
        source: "the archive is read-only to queries".into(),
    }
}

#[async_trait]
impl ObjectStore for Visible {
    async fn put_opts(&self, _: &Path, _: PutPayload, _: PutOptions) -> Result<PutResult> {
        Err(read_only())
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        Err(read_only())
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.check(location)?;
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        locations.map(|_| Err(read_only())).boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let listed = Arc::clone(&self.listed);
        self.inner
            .list(prefix)
            .filter(move |m| {
                let keep = m.as_ref().map_or(true, |m| listed.contains(&m.location));
                std::future::ready(keep)
            })
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let mut r = self.inner.list_with_delimiter(prefix).await?;
        r.objects.retain(|m| self.listed.contains(&m.location));
        r.common_prefixes.retain(|p| {
            let dir = format!("{p}/");
            self.listed.iter().any(|f| f.as_ref().starts_with(&dir))
        });
        Ok(r)
    }

    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> Result<()> {
        Err(read_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn only_listed_files_are_seen_and_nothing_is_written() {
        let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        for p in [
            "t=a/d=1/x.parquet",
            "t=a/d=1/y.parquet",
            "t=a/d=2/z.parquet",
            "t=b/d=1/x.parquet",
        ] {
            inner
                .put(&Path::from(p), PutPayload::from_static(b"v"))
                .await
                .expect("put");
        }
        let v = Visible::new(
            Arc::clone(&inner),
            [Path::from("t=a/d=1/x.parquet")].into_iter().collect(),
        );
        let all: Vec<_> = v
            .list(None)
            .map(|m| m.expect("meta").location.to_string())
            .collect()
            .await;
        assert_eq!(all, ["t=a/d=1/x.parquet"]);
        let top = v
            .list_with_delimiter(Some(&Path::from("t=a")))
            .await
            .expect("list");
        assert_eq!(
            top.common_prefixes,
            [Path::from("t=a/d=1")],
            "a day with nothing listed is hidden"
        );
        assert!(v.get(&Path::from("t=a/d=1/x.parquet")).await.is_ok());
        for p in ["t=a/d=1/y.parquet", "t=b/d=1/x.parquet"] {
            assert!(matches!(
                v.get(&Path::from(p)).await,
                Err(object_store::Error::NotFound { .. })
            ));
        }
        assert!(
            v.put(&Path::from("t=a/d=1/w"), PutPayload::from_static(b"v"))
                .await
                .is_err()
        );
    }
}
