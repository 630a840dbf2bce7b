use std::fmt;

use crate::CoreError;

/// A tenant (workspace) identifier.
///
/// Only constructed through [`TenantId::new`], which accepts 1 to 64 ASCII
/// letters, digits, `_` and `-`. That makes a tenant id safe as a path
/// segment of the archive (`tenant=<id>/...`) and impossible to confuse with
/// SQL syntax, although it is still always bound as a parameter.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    pub fn new(id: impl Into<String>) -> Result<Self, CoreError> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(TenantId(id))
        } else {
            Err(CoreError::InvalidTenant(id))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids_and_refuses_anything_else() {
        assert!(TenantId::new("acme-prod_1").is_ok());
        for bad in [
            "",
            "a/b",
            "a'b",
            "tenant=x",
            "..",
            "a b",
            &"x".repeat(65),
            "é",
        ] {
            assert!(TenantId::new(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
