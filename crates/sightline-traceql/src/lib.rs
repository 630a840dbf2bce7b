//! TraceQL, the part a trace search answers: span-set filters
//! (`{ resource.service.name = "checkout" && duration > 100ms }`) over
//! intrinsics and resource, span or unscoped attributes, with `=`, `!=`,
//! `<`, `<=`, `>`, `>=`, `=~`, `!~` and `nil`, combined by `&&` and `||`
//! within a span set and between span sets, and `| select(…)`.
//!
//! Invariants: the crate is pure (no I/O, no clock); everything else of
//! the language (structural operators, aggregates, metrics functions,
//! event, link and instrumentation scopes) is refused with a message that
//! names it, never answered approximately; regular expressions are
//! anchored at both ends and size-limited; nesting and the number of
//! conditions are bounded, so evaluation's recursion is too.

pub mod ast;
pub mod eval;
mod parser;

pub use ast::{AttrScope, Field, Intrinsic, Op, Operand, Query, SpanExpr, SpansetExpr, Value};
pub use eval::{SpanView, TraceFacts, field_value, matches, spanset};
pub use parser::{MAX_TERMS, parse, parse_field};

/// What can go wrong with a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceqlError {
    /// The text is not a query this crate answers (a 400).
    #[error("invalid TraceQL query: {0}")]
    Parse(String),
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A span for tests: intrinsics and attributes by name.
    struct S {
        name: &'static str,
        status: i32,
        kind: i32,
        duration_ns: i64,
        span: HashMap<&'static str, Value>,
        resource: HashMap<&'static str, Value>,
    }

    impl SpanView for S {
        fn intrinsic(&self, i: Intrinsic) -> Option<Value> {
            match i {
                Intrinsic::Name => Some(Value::Str(self.name.into())),
                Intrinsic::Status => Some(Value::Status(self.status)),
                Intrinsic::Kind => Some(Value::Kind(self.kind)),
                Intrinsic::Duration => Some(Value::Duration(self.duration_ns)),
                _ => None,
            }
        }

        fn attribute(&self, scope: AttrScope, key: &str) -> Option<Value> {
            match scope {
                AttrScope::Span => self.span.get(key).cloned(),
                AttrScope::Resource => self.resource.get(key).cloned(),
                AttrScope::Any => self
                    .span
                    .get(key)
                    .or_else(|| self.resource.get(key))
                    .cloned(),
            }
        }
    }

    fn spans() -> Vec<S> {
        let svc = |s: &str| HashMap::from([("service.name", Value::Str(s.into()))]);
        vec![
            S {
                name: "GET /cart",
                status: 0,
                kind: 2,
                duration_ns: 150_000_000,
                span: HashMap::from([
                    ("http.status_code", Value::Int(200)),
                    ("http.method", Value::Str("GET".into())),
                ]),
                resource: svc("checkout"),
            },
            S {
                name: "SELECT cart",
                status: 2,
                kind: 3,
                duration_ns: 40_000_000,
                span: HashMap::from([("db.rows", Value::Float(2.5)), ("retry", Value::Bool(true))]),
                resource: svc("postgres"),
            },
        ]
    }

    fn hits(q: &str) -> Option<Vec<usize>> {
        let query = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let facts = TraceFacts {
            root_name: Some("GET /cart".into()),
            root_service: Some("checkout".into()),
            duration_ns: 150_000_000,
        };
        spanset(&query.spansets, &spans(), &facts)
    }

    #[test]
    fn filters_keep_traceql_types() {
        for (q, want) in [
            ("{}", Some(vec![0, 1])),
            ("{ true }", Some(vec![0, 1])),
            ("{ false }", None),
            (r#"{ resource.service.name = "checkout" }"#, Some(vec![0])),
            (r#"{ .service.name = "postgres" }"#, Some(vec![1])),
            (r#"{ span.service.name = "postgres" }"#, None),
            ("{ span.http.status_code = 200 }", Some(vec![0])),
            // A string never equals an integer.
            (r#"{ span.http.status_code = "200" }"#, None),
            ("{ span.http.status_code >= 200.0 }", Some(vec![0])),
            ("{ span.db.rows > 2 }", Some(vec![1])),
            ("{ span.retry = true }", Some(vec![1])),
            ("{ duration > 100ms }", Some(vec![0])),
            ("{ duration <= 40ms }", Some(vec![1])),
            ("{ traceDuration > 1s }", None),
            ("{ status = error }", Some(vec![1])),
            ("{ status != error }", Some(vec![0])),
            ("{ kind = client }", Some(vec![1])),
            (r#"{ name =~ "GET.*" }"#, Some(vec![0])),
            // Anchored: a part does not match.
            (r#"{ name =~ "cart" }"#, None),
            (r#"{ name !~ "GET.*" }"#, Some(vec![1])),
            // A missing attribute meets no comparison, `!=` included.
            (r#"{ span.http.method != "POST" }"#, Some(vec![0])),
            ("{ span.http.method = nil }", Some(vec![1])),
            ("{ span.http.method != nil }", Some(vec![0])),
            (
                r#"{ rootServiceName = "checkout" && kind = client }"#,
                Some(vec![1]),
            ),
            (
                r#"{ (status = error || duration > 1s) && resource.service.name = "postgres" }"#,
                Some(vec![1]),
            ),
            // Span sets: both present, union of their spans.
            (
                r#"{ kind = server } && { kind = client }"#,
                Some(vec![0, 1]),
            ),
            (r#"{ kind = server } && { kind = producer }"#, None),
            (
                r#"{ kind = producer } || { status = error }"#,
                Some(vec![1]),
            ),
            (r#"{ span."http.method" = "GET" }"#, Some(vec![0])),
        ] {
            assert_eq!(hits(q), want, "{q}");
        }
    }

    #[test]
    fn select_names_its_fields() {
        let q = parse(r#"{ status = error } | select(span.db.rows, resource.service.name)"#)
            .expect("parses");
        assert_eq!(
            q.select,
            [
                Field::Attr {
                    scope: AttrScope::Span,
                    key: "db.rows".into()
                },
                Field::Attr {
                    scope: AttrScope::Resource,
                    key: "service.name".into()
                },
            ]
        );
    }

    #[test]
    fn the_rest_of_the_language_is_refused_by_name() {
        for (q, says) in [
            ("{ kind = server } >> { kind = client }", "'>>'"),
            ("{ kind = server } > { kind = client }", "'>'"),
            ("{ kind = server } ~ { kind = client }", "'~'"),
            ("{ } | count() > 2", "\"count\""),
            ("{ } | rate()", "\"rate\""),
            ("{ event.name = \"x\" }", "event scope"),
            ("{ link.traceID = \"x\" }", "link scope"),
            ("{ http.method = \"GET\" }", "unknown intrinsic"),
            ("{ status = 2 }", "ok, error or unset"),
            ("{ kind > server }", "'=' and '!=' only"),
            ("{ duration > 5 }", "a duration"),
            ("{ name = ", "expected a value"),
            ("{ name = \"x\" ", "expected '}'"),
            ("{ name =~ \"(\" }", "invalid regular expression"),
            ("{ .a > nil }", "nil compares"),
            ("{ .a = 1 } extra", "after the query"),
            ("{ .a = 1 } | { .b = 2 }", "'&&' inside one"),
        ] {
            let e = parse(q).expect_err(q);
            assert!(e.to_string().contains(says), "{q}: {e}");
        }
        let deep = format!("{}{{}}{}", "(".repeat(100), ")".repeat(100));
        assert!(
            parse(&deep)
                .expect_err("deep")
                .to_string()
                .contains("too deeply")
        );
    }

    #[test]
    fn single_fields_parse_for_tag_values() {
        assert_eq!(
            parse_field("resource.service.name").expect("field"),
            Field::Attr {
                scope: AttrScope::Resource,
                key: "service.name".into()
            }
        );
        assert_eq!(
            parse_field("span:status").expect("field"),
            Field::Intrinsic(Intrinsic::Status)
        );
        assert!(parse_field("service.name").is_err());
        assert!(parse_field("name extra").is_err());
    }
}
