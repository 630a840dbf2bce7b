//! What a token's scope does to the records it writes: labels of its scope
//! set from the token, services outside its allowed list refused, and
//! values under sensitive keys redacted. Applied before anything is
//! written, so a refused request writes nothing.

use sightline_control::Authenticated;
use sightline_core::Labels;
use sightline_ingest::otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use sightline_ingest::otlp::traces::{self, SpanPolicy};
use sightline_ingest::otlp::{attribute, value_string};
use sightline_ingest::{LogBatch, SpanBatch, WriteBatch};

use crate::Refusal;

/// The replacement of every value under a sensitive key.
pub const REDACTED: &str = "[REDACTED]";

/// Keys whose values are always redacted.
pub const SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "set-cookie",
];

/// The write rules of one token.
#[derive(Debug, Clone, Default)]
pub struct WritePolicy {
    /// Labels set on every series, overwriting what the producer sent
    /// (`project`, `application`, `environment` of a scoped token).
    pub scope_labels: Vec<(String, String)>,
    /// Services the token may write for; empty means any.
    pub allowed_services: Vec<String>,
    /// Sensitive keys, lowercase: [`SENSITIVE_KEYS`] plus configured ones.
    pub redact_keys: Vec<String>,
}

/// The sensitive keys in force: the built-in ones and `extra`, lowercase.
pub fn sensitive_keys(extra: &[String]) -> Vec<String> {
    let mut v: Vec<String> = SENSITIVE_KEYS.iter().map(|s| s.to_string()).collect();
    v.extend(extra.iter().map(|s| s.trim().to_ascii_lowercase()));
    v.retain(|s| !s.is_empty());
    v.sort();
    v.dedup();
    v
}

/// Whether a label or attribute key is sensitive: it is one of `keys`, or
/// ends in one after a `_`, `.` or `-` (`db_password`, `http.cookie`),
/// ignoring case.
pub fn is_sensitive(key: &str, keys: &[String]) -> bool {
    // `keys` are lowercase; the key is compared without copying it.
    let k = key.as_bytes();
    keys.iter().any(|s| {
        let s = s.as_bytes();
        k.len() >= s.len()
            && k[k.len() - s.len()..].eq_ignore_ascii_case(s)
            && (k.len() == s.len() || matches!(k[k.len() - s.len() - 1], b'_' | b'.' | b'-'))
    })
}

/// The service a series is written for: its `service` label, else its
/// `job` after the last `/`. OTLP writes `job` as
/// `service.namespace/service.name`, and a service name cannot hold a `/`
/// (a token's list could never name `ns/name`), so the part after it is
/// the service.
pub fn service_of(labels: &sightline_core::Labels) -> Option<&str> {
    labels.get("service").or_else(|| {
        labels
            .get("job")
            .map(|j| j.rsplit_once('/').map_or(j, |(_, name)| name))
    })
}

impl WritePolicy {
    /// The rules of `auth`'s token: its scope labels and allowed services,
    /// and the server's sensitive keys.
    pub fn for_token(auth: &Authenticated, redact_keys: &[String]) -> WritePolicy {
        WritePolicy {
            scope_labels: auth.scope.labels(),
            allowed_services: auth.allowed_services.clone(),
            redact_keys: redact_keys.to_vec(),
        }
    }

    /// Applies the rules to every series, or refuses the whole batch
    /// ([`Refusal::ServiceNotAllowed`]) and leaves it unchanged.
    pub fn apply(&self, batch: &mut WriteBatch) -> Result<(), Refusal> {
        self.check_services(
            batch.series.iter().map(|s| service_of(&s.labels)),
            "a series",
            "no service or job label",
        )?;
        for s in &mut batch.series {
            self.redact(&mut s.labels);
            self.scope(&mut s.labels);
            for e in &mut s.exemplars {
                self.redact(&mut e.labels);
            }
        }
        Ok(())
    }

    /// Applies the rules to every log stream (its service is
    /// [`service_of_stream`]): scope labels over the stream labels, values
    /// under sensitive keys redacted in stream labels and structured
    /// metadata; or refuses the whole batch and leaves it unchanged.
    /// Two streams that become one label set are merged.
    pub fn apply_logs(&self, batch: &mut LogBatch) -> Result<(), Refusal> {
        self.check_services(
            batch.streams.iter().map(|s| service_of_stream(&s.labels)),
            "a log stream",
            "no service_name, service or job label",
        )?;
        for s in &mut batch.streams {
            self.redact(&mut s.labels);
            self.scope(&mut s.labels);
            for e in &mut s.entries {
                self.redact(&mut e.metadata);
            }
        }
        let mut seen: std::collections::HashMap<Labels, usize> = std::collections::HashMap::new();
        let mut merged: Vec<sightline_core::LogStream> = Vec::with_capacity(batch.streams.len());
        for s in std::mem::take(&mut batch.streams) {
            match seen.get(&s.labels) {
                Some(&i) => merged[i].entries.extend(s.entries),
                None => {
                    seen.insert(s.labels.clone(), merged.len());
                    merged.push(s);
                }
            }
        }
        batch.streams = merged;
        Ok(())
    }

    /// Applies the rules to an OTLP trace export and translates it into
    /// `tenant`'s spans (`sightline_ingest::otlp::traces`): each
    /// resource's service is its `service.name`; the token's scope is
    /// written over the producer's resource attributes; values under
    /// sensitive keys are redacted at any depth in resource, scope, span,
    /// event and link attributes. A service outside the token's list or a
    /// malformed span refuses the whole export.
    pub fn apply_traces(
        &self,
        tenant: &sightline_core::TenantId,
        req: ExportTraceServiceRequest,
    ) -> Result<SpanBatch, Refusal> {
        let services: Vec<Option<String>> = req
            .resource_spans
            .iter()
            .map(|rs| {
                let attrs = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
                attribute(attrs, "service.name")
                    .map(|v| value_string(Some(v)))
                    .filter(|v| !v.is_empty())
            })
            .collect();
        self.check_services(
            services.iter().map(Option::as_deref),
            "a resource",
            "no service.name attribute",
        )?;
        let keys = &self.redact_keys;
        let sensitive = |k: &str| is_sensitive(k, keys);
        let policy = SpanPolicy {
            scope: &self.scope_labels,
            redact: &sensitive,
            redacted: REDACTED,
        };
        traces::translate(tenant, req, &policy).map_err(Refusal::from)
    }

    fn check_services<'a>(
        &self,
        services: impl Iterator<Item = Option<&'a str>>,
        what: &str,
        what_names: &str,
    ) -> Result<(), Refusal> {
        if self.allowed_services.is_empty() {
            return Ok(());
        }
        for svc in services {
            match svc {
                Some(svc) if self.allowed_services.iter().any(|a| a == svc) => {}
                Some(svc) => {
                    return Err(Refusal::ServiceNotAllowed(format!(
                        "service {:?} is not among this token's allowed services",
                        svc.chars().take(64).collect::<String>()
                    )));
                }
                None => {
                    return Err(Refusal::ServiceNotAllowed(format!(
                        "this token may write only for its allowed services, and {what} \
                         names none ({what_names})"
                    )));
                }
            }
        }
        Ok(())
    }

    fn redact(&self, labels: &mut Labels) {
        let hits: Vec<String> = labels
            .iter()
            .filter(|l| {
                l.name != "__name__"
                    && l.value != REDACTED
                    && is_sensitive(&l.name, &self.redact_keys)
            })
            .map(|l| l.name.clone())
            .collect();
        for name in hits {
            labels.set(&name, REDACTED);
        }
    }

    fn scope(&self, labels: &mut Labels) {
        for (k, v) in &self.scope_labels {
            labels.set(k, v);
        }
    }
}

/// The service a log stream is written for: `service_name` (which Loki's
/// push adds when a stream has none), else `service`, else `job`.
pub fn service_of_stream(labels: &Labels) -> Option<&str> {
    labels.get("service_name").or_else(|| service_of(labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{Labels, Sample, TenantId};
    use sightline_ingest::SeriesRecord;

    fn batch(sets: &[&[(&str, &str)]]) -> WriteBatch {
        WriteBatch {
            tenant: TenantId::new("t").expect("tenant"),
            series: sets
                .iter()
                .map(|l| SeriesRecord {
                    labels: Labels::from_pairs(l.iter().copied()).expect("labels"),
                    samples: vec![Sample { t: 1, v: 1.0 }],
                    exemplars: Vec::new(),
                })
                .collect(),
            metadata: vec![],
        }
    }

    #[test]
    fn scope_labels_overwrite_and_sensitive_values_are_redacted() {
        let p = WritePolicy {
            scope_labels: vec![("application".into(), "shop".into())],
            allowed_services: vec![],
            redact_keys: sensitive_keys(&["x-internal".into()]),
        };
        let mut b = batch(&[&[
            ("__name__", "up"),
            ("application", "other"),
            ("db_password", "hunter2"),
            ("Authorization", "Bearer x"),
            ("x-internal", "v"),
            ("tokens_total", "3"),
            ("job", "api"),
        ]]);
        p.apply(&mut b).expect("applied");
        let l = &b.series[0].labels;
        assert_eq!(l.get("application"), Some("shop"));
        assert_eq!(l.get("db_password"), Some(REDACTED));
        assert_eq!(l.get("Authorization"), Some(REDACTED));
        assert_eq!(l.get("x-internal"), Some(REDACTED));
        assert_eq!(l.get("tokens_total"), Some("3"), "not a sensitive key");
        assert_eq!(l.get("job"), Some("api"));
        assert_eq!(l.get("__name__"), Some("up"));
    }

    #[test]
    fn sensitive_keys_match_whole_or_after_a_separator_in_any_case() {
        let keys = sensitive_keys(&[]);
        for k in [
            "password",
            "PASSWORD",
            "db_password",
            "http.Cookie",
            "x-Auth-Token",
            "token",
        ] {
            assert!(is_sensitive(k, &keys), "{k}");
        }
        for k in [
            "passwordless",
            "dbpassword",
            "tokens",
            "tokens_total",
            "",
            "ß_token_x",
            "Ωtoken",
        ] {
            assert!(!is_sensitive(k, &keys), "{k}");
        }
        assert!(
            is_sensitive("ß_token", &keys),
            "a separator after non-ASCII"
        );
    }

    #[test]
    fn services_outside_the_list_refuse_the_whole_batch() {
        let p = WritePolicy {
            allowed_services: vec!["api".into()],
            ..WritePolicy::default()
        };
        let mut ok = batch(&[&[("job", "api")], &[("service", "api"), ("job", "x")]]);
        assert!(p.apply(&mut ok).is_ok());
        let mut bad = batch(&[&[("job", "api")], &[("job", "billing")]]);
        let before = bad.clone();
        assert!(
            matches!(p.apply(&mut bad), Err(Refusal::ServiceNotAllowed(m)) if m.contains("billing"))
        );
        assert_eq!(bad, before, "nothing changed");
        let mut none = batch(&[&[("__name__", "up")]]);
        assert!(matches!(
            p.apply(&mut none),
            Err(Refusal::ServiceNotAllowed(_))
        ));
    }
}
