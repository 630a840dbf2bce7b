//! Type checks that run over a complete tree, after parsing.
//!
//! They follow Prometheus's parser: operand types of binary and unary
//! operators, aggregation and function argument types and counts, subquery
//! operands. The pass also settles `BinaryExpr::matching`: `Some` exactly
//! when both operands are instant vectors.
//!
//! The walk recurses into nested expressions only; a tree of binary
//! operators (a chain such as `a + b + ... + z`, of any length) is checked
//! from a work list in the order recursion would take.

use crate::ast::{
    AggregateExpr, BinaryExpr, Call, Expr, Span, ValueType, VectorMatching, VectorSelector,
};
use crate::error::ParseError;
use crate::functions::Function;

pub(crate) fn check(src: &str, expr: &mut Expr) -> Result<ValueType, ParseError> {
    Checker { src }.check(expr)
}

struct Checker<'a> {
    src: &'a str,
}

/// Go's names for value types, as used in some of Prometheus's messages.
fn go_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Scalar => "scalar",
        ValueType::Vector => "vector",
        ValueType::Matrix => "matrix",
        ValueType::String => "string",
    }
}

impl Checker<'_> {
    fn err(&self, span: Span, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.src, span, msg)
    }

    fn check(&self, e: &mut Expr) -> Result<ValueType, ParseError> {
        match e {
            Expr::Number { .. } => Ok(ValueType::Scalar),
            Expr::String { .. } => Ok(ValueType::String),
            Expr::Vector(v) => self.check_selector(v),
            Expr::Matrix(_) => Ok(ValueType::Matrix),
            Expr::Subquery(s) => {
                let t = self.check(&mut s.expr)?;
                if t != ValueType::Vector {
                    return Err(self.subquery_error(s.span, t));
                }
                Ok(ValueType::Matrix)
            }
            Expr::Paren { expr, .. } => self.check(expr),
            Expr::Unary { expr, span, .. } => {
                let t = self.check(expr)?;
                if t != ValueType::Scalar && t != ValueType::Vector {
                    return Err(self.unary_error(*span, t));
                }
                Ok(t)
            }
            Expr::Binary(_) => self.check_binary_tree(e),
            Expr::Aggregate(a) => self.check_aggregate(a),
            Expr::Call(c) => self.check_call(c),
        }
    }

    fn check_selector(&self, v: &VectorSelector) -> Result<ValueType, ParseError> {
        // An explicit metric name is a non-empty matcher.
        if v.name.is_none() && v.matchers.iter().all(|m| m.matches_empty()) {
            return Err(self.err(
                v.span,
                "vector selector must contain at least one non-empty matcher",
            ));
        }
        Ok(ValueType::Vector)
    }

    #[cold]
    #[inline(never)]
    fn subquery_error(&self, span: Span, t: ValueType) -> ParseError {
        self.err(
            span,
            format!(
                "subquery is only allowed on instant vector, got {} instead",
                go_name(t)
            ),
        )
    }

    #[cold]
    #[inline(never)]
    fn unary_error(&self, span: Span, t: ValueType) -> ParseError {
        self.err(
            span,
            format!(
                "unary expression only allowed on expressions of type scalar \
                 or instant vector, got {:?}",
                t.name()
            ),
        )
    }

    fn check_aggregate(&self, a: &mut AggregateExpr) -> Result<ValueType, ParseError> {
        self.expect_type(&mut a.expr, ValueType::Vector, "aggregation expression")?;
        if let Some(p) = a.param.as_mut() {
            let want = if a.op == crate::ast::AggOp::CountValues {
                ValueType::String
            } else {
                ValueType::Scalar
            };
            self.expect_type(p, want, "aggregation parameter")?;
        }
        Ok(ValueType::Vector)
    }

    fn check_call(&self, c: &mut Call) -> Result<ValueType, ParseError> {
        let f = c.func.info();
        let n = c.args.len();
        if f.variadic == 0 {
            if n != f.arg_types.len() {
                return Err(self.err(
                    c.span,
                    format!(
                        "expected {} argument(s) in call to {:?}, got {n}",
                        f.arg_types.len(),
                        f.name
                    ),
                ));
            }
        } else if n < f.min_args() {
            return Err(self.err(
                c.span,
                format!(
                    "expected at least {} argument(s) in call to {:?}, got {n}",
                    f.min_args(),
                    f.name
                ),
            ));
        } else if let Some(max) = f.max_args().filter(|&m| n > m) {
            return Err(self.err(
                c.span,
                format!(
                    "expected at most {max} argument(s) in call to {:?}, got {n}",
                    f.name
                ),
            ));
        }
        let context = format!("call to function {:?}", f.name);
        for (i, arg) in c.args.iter_mut().enumerate() {
            if c.func == Function::Info && i == 1 {
                // info()'s second argument is a label selector, which
                // may consist of empty matchers only.
                if !matches!(arg, Expr::Vector(v) if v.offset.is_none() && v.at.is_none()) {
                    return Err(self.err(
                        arg.span(),
                        "expected label selectors as the second argument to \"info\" function",
                    ));
                }
                continue;
            }
            if let Some(want) = f.arg_type(i) {
                self.expect_type(arg, want, &context)?;
            }
        }
        Ok(f.return_type)
    }

    fn expect_type(&self, e: &mut Expr, want: ValueType, context: &str) -> Result<(), ParseError> {
        let t = self.check(e)?;
        if t != want {
            return Err(self.type_error(e.span(), want, context, t));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn type_error(&self, span: Span, want: ValueType, context: &str, got: ValueType) -> ParseError {
        self.err(
            span,
            format!(
                "expected type {} in {context}, got {}",
                want.name(),
                got.name()
            ),
        )
    }

    /// A tree of binary operators, checked as a recursive walk would check
    /// it (operands in written order, each node after its operands, so the
    /// first error is the same) but from a work list: its nodes are lifted
    /// out of the tree and put back once checked. After an error the rest
    /// is put back unchecked.
    fn check_binary_tree(&self, e: &mut Expr) -> Result<ValueType, ParseError> {
        enum Step {
            Enter(Expr),
            Exit(BinaryExpr),
        }
        let mut todo = vec![Step::Enter(std::mem::replace(e, Expr::placeholder()))];
        let mut done: Vec<(Expr, ValueType)> = Vec::new();
        let mut error: Option<ParseError> = None;
        while let Some(step) = todo.pop() {
            match step {
                Step::Enter(Expr::Binary(mut b)) => {
                    let lhs = std::mem::replace(&mut *b.lhs, Expr::placeholder());
                    let rhs = std::mem::replace(&mut *b.rhs, Expr::placeholder());
                    todo.push(Step::Exit(b));
                    todo.push(Step::Enter(rhs));
                    todo.push(Step::Enter(lhs));
                }
                Step::Enter(mut operand) => {
                    let mut t = ValueType::Scalar;
                    if error.is_none() {
                        match self.check(&mut operand) {
                            Ok(got) => t = got,
                            Err(err) => error = Some(err),
                        }
                    }
                    done.push((operand, t));
                }
                Step::Exit(mut b) => {
                    // Both operands were entered, and so pushed, before this.
                    let (rhs, rt) = done
                        .pop()
                        .unwrap_or((Expr::placeholder(), ValueType::Scalar));
                    let (lhs, lt) = done
                        .pop()
                        .unwrap_or((Expr::placeholder(), ValueType::Scalar));
                    *b.lhs = lhs;
                    *b.rhs = rhs;
                    let mut t = ValueType::Scalar;
                    if error.is_none() {
                        match self.binary_rules(&mut b, lt, rt) {
                            Ok(got) => t = got,
                            Err(err) => error = Some(err),
                        }
                    }
                    done.push((Expr::Binary(b), t));
                }
            }
        }
        // The tree itself is the one result left.
        let (tree, t) = done
            .pop()
            .unwrap_or((Expr::placeholder(), ValueType::Scalar));
        *e = tree;
        match error {
            Some(err) => Err(err),
            None => Ok(t),
        }
    }

    /// Prometheus's rules for a binary expression whose operand types are
    /// known.
    fn binary_rules(
        &self,
        b: &mut BinaryExpr,
        lt: ValueType,
        rt: ValueType,
    ) -> Result<ValueType, ParseError> {
        let op_span = self.op_span(b);
        if b.return_bool && !b.op.is_comparison() {
            return Err(self.err(
                op_span,
                "bool modifier can only be used on comparison operators",
            ));
        }
        if b.op.is_comparison()
            && !b.return_bool
            && lt == ValueType::Scalar
            && rt == ValueType::Scalar
        {
            return Err(self.err(
                op_span,
                "comparisons between scalars must use BOOL modifier",
            ));
        }
        if let Some(vm) = &b.matching
            && vm.on
            && let Some(g) = &vm.group
            && let Some(l) = vm.labels.iter().find(|l| g.include.contains(l))
        {
            return Err(self.err(
                op_span,
                format!("label {l:?} must not occur in ON and GROUP clause at once"),
            ));
        }
        for (t, side) in [(lt, &b.lhs), (rt, &b.rhs)] {
            if t != ValueType::Scalar && t != ValueType::Vector {
                return Err(self.err(
                    side.span(),
                    "binary expression must contain only scalar and instant vector types",
                ));
            }
        }
        if lt == ValueType::Vector && rt == ValueType::Vector {
            let vm = b.matching.get_or_insert_with(VectorMatching::default);
            if b.op.is_set() && vm.group.is_some() {
                return Err(self.err(
                    b.span,
                    format!("no grouping allowed for {:?} operation", b.op.as_str()),
                ));
            }
        } else {
            if b.matching.as_ref().is_some_and(|vm| !vm.labels.is_empty()) {
                return Err(self.err(
                    b.span,
                    "vector matching only allowed between instant vectors",
                ));
            }
            b.matching = None;
            if b.op.is_set() {
                return Err(self.err(
                    b.span,
                    format!(
                        "set operator {:?} not allowed in binary scalar expression",
                        b.op.as_str()
                    ),
                ));
            }
        }
        Ok(if lt == ValueType::Scalar && rt == ValueType::Scalar {
            ValueType::Scalar
        } else {
            ValueType::Vector
        })
    }

    /// The operator's text: from the first non-blank character after the
    /// left operand to the start of the right operand.
    fn op_span(&self, b: &BinaryExpr) -> Span {
        let from = b.lhs.span().end;
        let to = b.rhs.span().start.max(from);
        let gap = self.src.get(from..to).unwrap_or("");
        let start = from + (gap.len() - gap.trim_start().len());
        let end = from + gap.trim_end().len();
        Span {
            start,
            end: end.max(start),
        }
    }
}
