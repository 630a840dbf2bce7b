//! A statement (SQL text and its bound parameters) and the one builder that
//! writes statements, which opens every `WHERE` with the tenant predicate.

use sightline_plan::Selection;

use crate::dialect::Dialect;

/// The tenant column of every table a statement reads.
const TENANT_COLUMN: &str = "tenant";

/// The name the tenant is bound under.
const TENANT_PARAM: &str = "tenant";

/// A bound parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Str(String),
    StrArray(Vec<String>),
    I64(i64),
    U16(u16),
}

/// One SQL statement: text with placeholders spelled as its dialect spells
/// them (`{name:Type}` for ClickHouse, `$1, $2, …` for DataFusion) and the
/// parameters they stand for, in placeholder order (`$n` is the n-th).
///
/// The fields are private and only this crate's lowering functions build
/// one, each from a [`Selection`], which cannot exist without a tenant: the
/// tenant is always the first parameter, and every `WHERE` of the text,
/// nested ones too, starts with `tenant = ` and its placeholder. Building
/// one by hand does not compile:
///
/// ```compile_fail
/// let s = sightline_sql::Statement { sql: "SELECT 1".into(), params: vec![] };
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sql: String,
    params: Vec<(String, Param)>,
}

impl Statement {
    /// The text: constants and placeholders only, never a value.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The parameters by name, in placeholder order, the tenant first.
    /// ClickHouse binds them by name, DataFusion by position.
    pub fn params(&self) -> &[(String, Param)] {
        &self.params
    }
}

/// Writes one statement scoped to one selection's tenant.
///
/// Text goes in through [`Builder::push`] (constants, placeholders from
/// [`Builder::bind`] and the dialect's fragments over them) and
/// [`Builder::from_where_tenant`], the only way to open a `WHERE`.
pub(crate) struct Builder<'d> {
    dialect: &'d dyn Dialect,
    /// The tenant's placeholder.
    tenant: String,
    sql: String,
    params: Vec<(String, Param)>,
}

impl<'d> Builder<'d> {
    /// A statement for `sel`'s tenant, bound as the first parameter.
    pub(crate) fn new(dialect: &'d dyn Dialect, sel: &Selection) -> Self {
        let mut b = Builder {
            dialect,
            tenant: String::new(),
            sql: String::new(),
            params: Vec::new(),
        };
        b.tenant = b.bind(TENANT_PARAM, Param::Str(sel.tenant().as_str().to_string()));
        b
    }

    pub(crate) fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }

    /// Appends text made of constants, placeholders and the dialect's
    /// fragments over them.
    pub(crate) fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    /// ` FROM <table> WHERE tenant = <tenant>`.
    pub(crate) fn from_where_tenant(&mut self, table: &'static str) {
        self.sql.push_str(" FROM ");
        self.sql.push_str(table);
        self.sql.push_str(" WHERE ");
        self.sql.push_str(TENANT_COLUMN);
        self.sql.push_str(" = ");
        self.sql.push_str(&self.tenant);
    }

    /// Binds `param` under `name` and returns its placeholder. The same
    /// name bound again to the same value is the same parameter (the
    /// tenant of a nested query, the days and matchers of both halves of a
    /// join); another value gets a fresh name.
    pub(crate) fn bind(&mut self, name: &str, param: Param) -> String {
        let (index, name, fresh) = self.slot(name, &param);
        let placeholder = self.dialect.placeholder(index, &name, &param);
        if fresh {
            self.params.push((name, param));
        }
        placeholder
    }

    /// Renders `render(placeholder)` for `param` bound under `name`, and
    /// binds it only when `render` gives text (so a fragment the dialect
    /// cannot write leaves no unused parameter behind).
    pub(crate) fn bind_with(
        &mut self,
        name: &str,
        param: Param,
        render: impl FnOnce(&str) -> Option<String>,
    ) -> Option<String> {
        let (index, name, fresh) = self.slot(name, &param);
        let text = render(&self.dialect.placeholder(index, &name, &param))?;
        if fresh {
            self.params.push((name, param));
        }
        Some(text)
    }

    /// Where `param` under `name` goes: its 1-based index, its name, and
    /// whether it is new.
    fn slot(&self, name: &str, param: &Param) -> (usize, String, bool) {
        let mut candidate = name.to_string();
        let mut n = 0;
        loop {
            match self.params.iter().position(|(m, _)| *m == candidate) {
                None => return (self.params.len() + 1, candidate, true),
                Some(i) if self.params[i].1 == *param => return (i + 1, candidate, false),
                Some(_) => {
                    n += 1;
                    candidate = format!("{name}_{n}");
                }
            }
        }
    }

    pub(crate) fn finish(self) -> Statement {
        Statement {
            sql: self.sql,
            params: self.params,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{ClickHouseDialect, DataFusionDialect};
    use sightline_core::TenantId;

    fn sel() -> Selection {
        Selection::new(TenantId::new("acme").expect("valid"), vec![], 0, 1).expect("valid")
    }

    #[test]
    fn the_tenant_is_the_first_parameter_and_opens_the_where() {
        let s = sel();
        let mut b = Builder::new(&ClickHouseDialect, &s);
        b.push("SELECT 1");
        b.from_where_tenant("t");
        let st = b.finish();
        assert_eq!(st.sql(), "SELECT 1 FROM t WHERE tenant = {tenant:String}");
        assert_eq!(
            st.params(),
            &[("tenant".to_string(), Param::Str("acme".into()))]
        );
        let mut b = Builder::new(&DataFusionDialect, &s);
        b.push("SELECT 1");
        b.from_where_tenant("t");
        assert_eq!(b.finish().sql(), "SELECT 1 FROM t WHERE tenant = $1");
    }

    #[test]
    fn a_name_is_one_parameter_per_value() {
        let s = sel();
        let mut b = Builder::new(&DataFusionDialect, &s);
        assert_eq!(b.bind("x", Param::I64(1)), "$2");
        assert_eq!(b.bind("x", Param::I64(1)), "$2");
        assert_eq!(b.bind("x", Param::I64(2)), "$3");
        assert_eq!(b.bind("x", Param::I64(2)), "$3");
        assert_eq!(b.bind("tenant", Param::Str("acme".into())), "$1");
        assert_eq!(b.bind_with("y", Param::I64(3), |_| None), None);
        assert_eq!(
            b.bind_with("y", Param::I64(4), |p| Some(format!("f({p})"))),
            Some("f($4)".to_string())
        );
        let st = b.finish();
        let names: Vec<&str> = st.params().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["tenant", "x", "x_1", "y"]);
        let mut b = Builder::new(&ClickHouseDialect, &s);
        assert_eq!(b.bind("x", Param::I64(1)), "{x:Int64}");
        assert_eq!(b.bind("x", Param::U16(1)), "{x_1:UInt16}");
    }
}
