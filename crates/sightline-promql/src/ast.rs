//! The PromQL abstract syntax tree.
//!
//! Every node that can be named in an error carries a [`Span`]. Spans never
//! take part in equality (`Span::eq` is always true), so a tree parsed from
//! printed text compares equal to the original.
//!
//! Binary operators chain without limit (`a + b + ... + z` is a tree as tall
//! as the chain is long), so nothing walks a chain by recursion:
//! [`BinaryExpr`]'s `Clone`, `PartialEq`, `Debug` and `Drop` keep the nodes
//! of a tree of binary operators on a work list, as does [`Expr::walk`].
//! Recursion is left to real nesting (parentheses, calls, aggregations,
//! unary signs, subqueries), which the parser bounds by
//! [`crate::MAX_DEPTH`].

use std::fmt;

use sightline_core::Matcher;

pub use crate::functions::Function;

/// Byte offsets into the query text, `start..end`.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl PartialEq for Span {
    /// Positions are not part of a tree's meaning.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The type of a PromQL expression's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal. `NaN` compares unequal to itself, so round-trip
    /// tests compare printed forms for NaN literals.
    Number {
        value: f64,
        span: Span,
    },
    String {
        value: String,
        span: Span,
    },
    Vector(VectorSelector),
    Matrix(MatrixSelector),
    Subquery(Subquery),
    Paren {
        expr: Box<Expr>,
        span: Span,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
        span: Span,
    },
    Binary(BinaryExpr),
    Aggregate(AggregateExpr),
    Call(Call),
}

/// `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    /// A fixed time in milliseconds.
    Timestamp(i64),
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name written before the braces, if any. It is also present
    /// in `matchers` as a `__name__` equality matcher.
    pub name: Option<String>,
    pub matchers: Vec<Matcher>,
    /// Offset in milliseconds (negative allowed); `None` when not written.
    pub offset: Option<i64>,
    pub at: Option<At>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    pub vector: VectorSelector,
    /// Range in milliseconds.
    pub range: i64,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    pub expr: Box<Expr>,
    /// Range in milliseconds.
    pub range: i64,
    /// Step in milliseconds; `None` means the default evaluation interval.
    pub step: Option<i64>,
    pub offset: Option<i64>,
    pub at: Option<At>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    And,
    Or,
    Unless,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Atan2 => "atan2",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Gt => ">",
            BinOp::Lt => "<",
            BinOp::Ge => ">=",
            BinOp::Le => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Lt | BinOp::Ge | BinOp::Le
        )
    }

    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    /// Precedence as in Prometheus: higher binds tighter.
    /// `or` 1, `and`/`unless` 2, comparisons 3, `+ -` 4, `* / % atan2` 5, `^` 6.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Lt | BinOp::Ge | BinOp::Le => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Atan2 => 5,
            BinOp::Pow => 6,
        }
    }

    pub fn is_right_associative(self) -> bool {
        self == BinOp::Pow
    }
}

/// `on(...)`/`ignoring(...)` and `group_left(...)`/`group_right(...)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorMatching {
    /// `true` for `on(...)`, `false` for `ignoring(...)`. When no clause was
    /// written, `on` is false and `labels` empty.
    pub on: bool,
    pub labels: Vec<String>,
    /// Whether an `on`/`ignoring` clause was written at all.
    pub explicit: bool,
    pub group: Option<GroupModifier>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupModifier {
    pub side: GroupSide,
    /// Extra labels to copy from the "one" side.
    pub include: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSide {
    Left,
    Right,
}

/// A binary operation. `Clone`, `PartialEq`, `Debug` and `Drop` are written
/// out so that a chain of any length is handled without recursion along
/// its operators; because of the `Drop`, fields cannot be moved out (clone
/// them, or take them with `std::mem::replace`).
pub struct BinaryExpr {
    pub op: BinOp,
    pub lhs: Box<Expr>,
    pub rhs: Box<Expr>,
    /// `bool` modifier on a comparison.
    pub return_bool: bool,
    /// Present when the expression has a vector on both sides or a clause
    /// was written.
    pub matching: Option<VectorMatching>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    Quantile,
    CountValues,
    Limitk,
    LimitRatio,
}

impl AggOp {
    pub fn as_str(self) -> &'static str {
        match self {
            AggOp::Sum => "sum",
            AggOp::Avg => "avg",
            AggOp::Count => "count",
            AggOp::Min => "min",
            AggOp::Max => "max",
            AggOp::Group => "group",
            AggOp::Stddev => "stddev",
            AggOp::Stdvar => "stdvar",
            AggOp::Topk => "topk",
            AggOp::Bottomk => "bottomk",
            AggOp::Quantile => "quantile",
            AggOp::CountValues => "count_values",
            AggOp::Limitk => "limitk",
            AggOp::LimitRatio => "limit_ratio",
        }
    }

    pub fn from_name(s: &str) -> Option<AggOp> {
        Some(match s {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "count" => AggOp::Count,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "group" => AggOp::Group,
            "stddev" => AggOp::Stddev,
            "stdvar" => AggOp::Stdvar,
            "topk" => AggOp::Topk,
            "bottomk" => AggOp::Bottomk,
            "quantile" => AggOp::Quantile,
            "count_values" => AggOp::CountValues,
            "limitk" => AggOp::Limitk,
            "limit_ratio" => AggOp::LimitRatio,
            _ => return None,
        })
    }

    /// Whether the operator takes a parameter before the vector.
    pub fn takes_param(self) -> bool {
        matches!(
            self,
            AggOp::Topk
                | AggOp::Bottomk
                | AggOp::Quantile
                | AggOp::CountValues
                | AggOp::Limitk
                | AggOp::LimitRatio
        )
    }
}

/// `by (...)` or `without (...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    pub op: AggOp,
    pub expr: Box<Expr>,
    pub param: Option<Box<Expr>>,
    pub grouping: Option<Grouping>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function called, resolved from its name by the parser.
    pub func: Function,
    pub args: Vec<Expr>,
    pub span: Span,
}

impl Expr {
    /// A stand-in for a node taken out of a tree for a moment.
    pub(crate) const fn placeholder() -> Expr {
        Expr::Number {
            value: 0.0,
            span: Span { start: 0, end: 0 },
        }
    }

    /// Every node of the tree, each before its operands and operands in
    /// the order they are written (an aggregation's parameter before its
    /// expression). Walks without recursion, so any tree can be walked on
    /// a small stack.
    pub fn walk(&self) -> Walk<'_> {
        Walk { todo: vec![self] }
    }

    pub fn span(&self) -> Span {
        match self {
            Expr::Number { span, .. }
            | Expr::String { span, .. }
            | Expr::Paren { span, .. }
            | Expr::Unary { span, .. } => *span,
            Expr::Vector(v) => v.span,
            Expr::Matrix(m) => m.span,
            Expr::Subquery(s) => s.span,
            Expr::Binary(b) => b.span,
            Expr::Aggregate(a) => a.span,
            Expr::Call(c) => c.span,
        }
    }
}

/// The iterator of [`Expr::walk`].
pub struct Walk<'a> {
    todo: Vec<&'a Expr>,
}

impl<'a> Iterator for Walk<'a> {
    type Item = &'a Expr;

    fn next(&mut self) -> Option<&'a Expr> {
        let e = self.todo.pop()?;
        match e {
            Expr::Number { .. } | Expr::String { .. } | Expr::Vector(_) | Expr::Matrix(_) => {}
            Expr::Subquery(s) => self.todo.push(&s.expr),
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => self.todo.push(expr),
            Expr::Binary(b) => {
                self.todo.push(&b.rhs);
                self.todo.push(&b.lhs);
            }
            Expr::Aggregate(a) => {
                self.todo.push(&a.expr);
                if let Some(p) = &a.param {
                    self.todo.push(p);
                }
            }
            Expr::Call(c) => self.todo.extend(c.args.iter().rev()),
        }
        Some(e)
    }
}

impl BinaryExpr {
    /// A node with this one's operator and modifiers over other operands.
    fn with_operands(&self, lhs: Expr, rhs: Expr) -> BinaryExpr {
        BinaryExpr {
            op: self.op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            return_bool: self.return_bool,
            matching: self.matching.clone(),
            span: self.span,
        }
    }

    /// Moves the operands that are themselves binary expressions to `out`,
    /// leaving placeholders.
    fn detach_binary_operands(&mut self, out: &mut Vec<Expr>) {
        for side in [&mut self.lhs, &mut self.rhs] {
            if matches!(**side, Expr::Binary(_)) {
                out.push(std::mem::replace(&mut **side, Expr::placeholder()));
            }
        }
    }
}

impl Drop for BinaryExpr {
    /// Takes a tree of binary operators apart node by node, so that
    /// dropping a long chain does not recurse once per operator.
    fn drop(&mut self) {
        if !matches!(*self.lhs, Expr::Binary(_)) && !matches!(*self.rhs, Expr::Binary(_)) {
            return;
        }
        let mut todo = Vec::new();
        self.detach_binary_operands(&mut todo);
        while let Some(e) = todo.pop() {
            if let Expr::Binary(mut b) = e {
                b.detach_binary_operands(&mut todo);
                // `b` now holds no binary operands and drops shallowly.
            }
        }
    }
}

impl Clone for BinaryExpr {
    /// Copies a tree of binary operators bottom-up from a work list.
    fn clone(&self) -> Self {
        enum Step<'a> {
            Visit(&'a Expr),
            Build(&'a BinaryExpr),
        }
        let mut todo = vec![Step::Visit(&self.rhs), Step::Visit(&self.lhs)];
        let mut done: Vec<Expr> = Vec::new();
        while let Some(step) = todo.pop() {
            match step {
                Step::Visit(Expr::Binary(b)) => {
                    todo.push(Step::Build(b));
                    todo.push(Step::Visit(&b.rhs));
                    todo.push(Step::Visit(&b.lhs));
                }
                Step::Visit(e) => done.push(e.clone()),
                Step::Build(b) => {
                    let (lhs, rhs) = pop_operands(&mut done);
                    done.push(Expr::Binary(b.with_operands(lhs, rhs)));
                }
            }
        }
        let (lhs, rhs) = pop_operands(&mut done);
        self.with_operands(lhs, rhs)
    }
}

/// The two operands a node's `Step::Build` finds on top of `done`.
fn pop_operands(done: &mut Vec<Expr>) -> (Expr, Expr) {
    // Both operands of a node are always copied before the node is built,
    // so the placeholders are never used.
    let rhs = done.pop().unwrap_or_else(Expr::placeholder);
    let lhs = done.pop().unwrap_or_else(Expr::placeholder);
    (lhs, rhs)
}

impl PartialEq for BinaryExpr {
    /// Compares two trees of binary operators pair of nodes by pair of
    /// nodes from a work list.
    fn eq(&self, other: &Self) -> bool {
        let mut todo: Vec<(&BinaryExpr, &BinaryExpr)> = vec![(self, other)];
        while let Some((a, b)) = todo.pop() {
            if a.op != b.op
                || a.return_bool != b.return_bool
                || a.matching != b.matching
                || a.span != b.span
            {
                return false;
            }
            for (x, y) in [(&*a.lhs, &*b.lhs), (&*a.rhs, &*b.rhs)] {
                match (x, y) {
                    (Expr::Binary(x), Expr::Binary(y)) => todo.push((x, y)),
                    (x, y) => {
                        if x != y {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }
}

impl fmt::Debug for BinaryExpr {
    /// The derived form (`BinaryExpr { op: .., lhs: .., rhs: .., .. }`),
    /// written from a work list. A tree of binary operators is always
    /// written on one line, also under `{:#?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Part<'a> {
            Node(&'a BinaryExpr),
            Operand(&'a Expr),
            Tail(&'a BinaryExpr),
            Text(&'static str),
        }
        let mut todo = vec![Part::Node(self)];
        while let Some(part) = todo.pop() {
            match part {
                Part::Node(b) => {
                    write!(f, "BinaryExpr {{ op: {:?}, lhs: ", b.op)?;
                    todo.push(Part::Tail(b));
                    todo.push(Part::Operand(&b.rhs));
                    todo.push(Part::Text(", rhs: "));
                    todo.push(Part::Operand(&b.lhs));
                }
                Part::Operand(Expr::Binary(b)) => {
                    f.write_str("Binary(")?;
                    todo.push(Part::Text(")"));
                    todo.push(Part::Node(b));
                }
                Part::Operand(e) => write!(f, "{e:?}")?,
                Part::Tail(b) => write!(
                    f,
                    ", return_bool: {:?}, matching: {:?}, span: {:?} }}",
                    b.return_bool, b.matching, b.span
                )?,
                Part::Text(s) => f.write_str(s)?,
            }
        }
        Ok(())
    }
}
