//! Binary operators: between scalars, between a vector and a scalar, and
//! between vectors with one-to-one, many-to-one or one-to-many matching
//! (and the set operators, which match many-to-many).
//!
//! Arithmetic between vectors drops `__name__` at once; arithmetic with a
//! scalar and `bool` comparisons mark it for removal at the end of the query;
//! filtering comparisons keep it.
//!
//! A tree of binary operators is evaluated from a work list
//! ([`eval_binary`]), so that chains such as `a or b or ... or z` of any
//! length cost no stack.

use std::collections::{HashMap, HashSet};

use sightline_core::Labels;

use crate::EvalError;
use crate::ast::{BinOp, BinaryExpr, Expr, GroupSide, ValueType, VectorMatching};
use crate::evaluator::{Elem, Ev, Matrix, Vector};
use crate::types::value_type;
use crate::util::{del_labels, drop_metadata, keep_labels, labels_string, match_labels};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

fn card(op: BinOp, m: &VectorMatching) -> Card {
    if op.is_set() {
        return Card::ManyToMany;
    }
    match &m.group {
        Some(g) if g.side == GroupSide::Left => Card::ManyToOne,
        Some(_) => Card::OneToMany,
        None => Card::OneToOne,
    }
}

/// Whether an operator changes what a value means (so the name goes).
fn changes_schema(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Pow | BinOp::Mod | BinOp::Atan2
    )
}

fn btos(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Arithmetic and comparison between two scalars (comparisons give 0 or 1).
/// `nan_div`: a division by zero is NaN (LogQL's rule) instead of ±Inf.
fn scalar_op(op: BinOp, l: f64, r: f64, nan_div: bool) -> Result<f64, EvalError> {
    Ok(match op {
        BinOp::Add => l + r,
        BinOp::Sub => l - r,
        BinOp::Mul => l * r,
        BinOp::Div if nan_div && r == 0.0 => f64::NAN,
        BinOp::Div => l / r,
        BinOp::Pow => l.powf(r),
        BinOp::Mod => l % r,
        BinOp::Atan2 => l.atan2(r),
        BinOp::Eq => btos(l == r),
        BinOp::Ne => btos(l != r),
        BinOp::Gt => btos(l > r),
        BinOp::Lt => btos(l < r),
        BinOp::Ge => btos(l >= r),
        BinOp::Le => btos(l <= r),
        BinOp::And | BinOp::Or | BinOp::Unless => {
            return Err(EvalError::bad(format!(
                "operator {:?} not allowed for Scalar operations",
                op.as_str()
            )));
        }
    })
}

/// An operation between two vector elements: (value, keep).
fn elem_op(op: BinOp, l: f64, r: f64, nan_div: bool) -> Result<(f64, bool), EvalError> {
    Ok(match op {
        BinOp::Eq => (l, l == r),
        BinOp::Ne => (l, l != r),
        BinOp::Gt => (l, l > r),
        BinOp::Lt => (l, l < r),
        BinOp::Ge => (l, l >= r),
        BinOp::Le => (l, l <= r),
        _ => (scalar_op(op, l, r, nan_div)?, true),
    })
}

/// Static types of the binary nodes of one tree of binary operators, by
/// node address.
type NodeTypes = HashMap<*const BinaryExpr, ValueType>;

/// The type of an operand: looked up for a binary node, computed for any
/// other expression.
fn operand_type(types: &NodeTypes, e: &Expr) -> ValueType {
    match e {
        Expr::Binary(b) => types
            .get(&std::ptr::from_ref(b))
            .copied()
            .unwrap_or(ValueType::Vector),
        other => value_type(other),
    }
}

/// The type of every binary node of the tree under `top`, bottom-up from
/// a work list (each looked at once, so a long chain costs linear time and
/// no stack).
fn node_types(top: &BinaryExpr) -> NodeTypes {
    let mut types = NodeTypes::new();
    let mut todo: Vec<(&BinaryExpr, bool)> = vec![(top, false)];
    while let Some((b, operands_typed)) = todo.pop() {
        if operands_typed {
            let scalar = operand_type(&types, &b.lhs) == ValueType::Scalar
                && operand_type(&types, &b.rhs) == ValueType::Scalar;
            let t = if scalar {
                ValueType::Scalar
            } else {
                ValueType::Vector
            };
            types.insert(std::ptr::from_ref(b), t);
            continue;
        }
        todo.push((b, true));
        for side in [&*b.rhs, &*b.lhs] {
            if let Expr::Binary(inner) = side {
                todo.push((inner, false));
            }
        }
    }
    types
}

/// One piece of work in [`eval_binary`].
enum Step<'e> {
    /// Evaluate an operand.
    Visit(&'e Expr),
    /// Apply a node's operator to its two evaluated operands, the last two
    /// results; `original` is the count of samples held before the first
    /// operand was evaluated.
    Apply {
        b: &'e BinaryExpr,
        lt: ValueType,
        rt: ValueType,
        original: usize,
    },
}

/// Evaluates a tree of binary operators (a chain such as `a + b + ... + z`
/// is one): operands in written order, each node after its operands, with
/// the checks a node makes before its operands are evaluated made first,
/// as a recursive evaluation would do them, so errors and sample counts
/// come out the same. The work waits on a list rather than on the stack,
/// so a chain of any length costs no stack; only operands that are not
/// binary expressions are evaluated by recursion ([`Ev::eval`]).
pub(crate) fn eval_binary(ev: &Ev, top: &BinaryExpr) -> Result<Matrix, EvalError> {
    if ev.end < ev.start {
        return Ok(Vec::new());
    }
    let types = node_types(top);
    let mut todo: Vec<Step<'_>> = Vec::new();
    let mut done: Vec<Matrix> = Vec::new();
    schedule(ev, top, &types, &mut todo)?;
    while let Some(step) = todo.pop() {
        match step {
            Step::Visit(Expr::Binary(b)) => schedule(ev, b, &types, &mut todo)?,
            Step::Visit(e) => done.push(ev.eval_matrix(e)?),
            Step::Apply {
                b,
                lt,
                rt,
                original,
            } => {
                // Both operands were evaluated, and so pushed, before this.
                let rhs = done.pop().unwrap_or_default();
                let lhs = done.pop().unwrap_or_default();
                let m = apply(ev, b, lt, rt, &[lhs, rhs], original)?;
                // `top` is applied last; `Ev::eval` settles its names, as it
                // does for every node it evaluates itself.
                let m = if todo.is_empty() {
                    m
                } else {
                    ev.settle_names(m)?
                };
                done.push(m);
            }
        }
    }
    Ok(done.pop().unwrap_or_default())
}

/// Checks `b`'s operand types, then queues its application after its
/// operands.
fn schedule<'e>(
    ev: &Ev,
    b: &'e BinaryExpr,
    types: &NodeTypes,
    todo: &mut Vec<Step<'e>>,
) -> Result<(), EvalError> {
    let lt = operand_type(types, &b.lhs);
    let rt = operand_type(types, &b.rhs);
    check_operands(b, lt, rt)?;
    todo.push(Step::Apply {
        b,
        lt,
        rt,
        original: ev.ctx.samples(),
    });
    todo.push(Step::Visit(&b.rhs));
    todo.push(Step::Visit(&b.lhs));
    Ok(())
}

/// What a binary expression refuses before its operands are evaluated.
fn check_operands(b: &BinaryExpr, lt: ValueType, rt: ValueType) -> Result<(), EvalError> {
    let op = b.op;
    match (lt, rt) {
        (ValueType::Scalar, ValueType::Scalar) => {
            if op.is_comparison() && !b.return_bool {
                return Err(EvalError::bad(
                    "comparisons between scalars must use BOOL modifier",
                ));
            }
        }
        (ValueType::Vector, ValueType::Vector) => {
            let many_to_many = match &b.matching {
                Some(m) => card(op, m) == Card::ManyToMany,
                None => card(op, &VectorMatching::default()) == Card::ManyToMany,
            };
            if many_to_many && !op.is_set() {
                return Err(EvalError::bad(
                    "many-to-many only allowed for set operators",
                ));
            }
        }
        (ValueType::Vector, ValueType::Scalar) | (ValueType::Scalar, ValueType::Vector) => {
            if op.is_set() {
                return Err(EvalError::bad(format!(
                    "set operator {:?} not allowed in binary scalar expression",
                    op.as_str()
                )));
            }
        }
        _ => return Err(operand_types_error(lt, rt)),
    }
    Ok(())
}

fn operand_types_error(lt: ValueType, rt: ValueType) -> EvalError {
    EvalError::bad(format!(
        "binary expression must contain only scalar and instant vector types, got {} and {}",
        lt.name(),
        rt.name()
    ))
}

/// Applies `b`'s operator at every step to its evaluated operands
/// (`inputs`: left, right), whose types [`check_operands`] accepted.
fn apply(
    ev: &Ev,
    b: &BinaryExpr,
    lt: ValueType,
    rt: ValueType,
    inputs: &[Matrix],
    original: usize,
) -> Result<Matrix, EvalError> {
    let op = b.op;
    let bool_mod = b.return_bool;
    let nan_div = ev.ctx.zero_division_nan;
    match (lt, rt) {
        (ValueType::Scalar, ValueType::Scalar) => {
            ev.range_eval_inputs(original, inputs, |v, ts| {
                let (Some(l), Some(r)) = (v[0].first(), v[1].first()) else {
                    return Ok(Vec::new());
                };
                Ok(vec![Elem {
                    labels: Labels::empty(),
                    v: scalar_op(op, l.v, r.v, nan_div)?,
                    t: ts,
                    drop_name: false,
                }])
            })
        }
        (ValueType::Vector, ValueType::Vector) => {
            let matching = b.matching.clone().unwrap_or_default();
            let card = card(op, &matching);
            ev.range_eval_inputs(original, inputs, |v, _| match op {
                BinOp::And => Ok(vector_and(&v[0], &v[1], &matching)),
                BinOp::Or => Ok(vector_or(&v[0], &v[1], &matching)),
                BinOp::Unless => Ok(vector_unless(&v[0], &v[1], &matching)),
                _ => vector_binop(op, &v[0], &v[1], &matching, card, bool_mod, nan_div),
            })
        }
        (ValueType::Vector, ValueType::Scalar) | (ValueType::Scalar, ValueType::Vector) => {
            let swap = lt == ValueType::Scalar;
            ev.range_eval_inputs(original, inputs, |v, _| {
                let (vec, sc) = if swap { (&v[1], &v[0]) } else { (&v[0], &v[1]) };
                let Some(s) = sc.first() else {
                    return Ok(Vec::new());
                };
                vector_scalar(op, vec, s.v, swap, bool_mod, nan_div)
            })
        }
        _ => Err(operand_types_error(lt, rt)),
    }
}

fn vector_scalar(
    op: BinOp,
    vec: &Vector,
    scalar: f64,
    swap: bool,
    bool_mod: bool,
    nan_div: bool,
) -> Result<Vector, EvalError> {
    let mut out = Vec::with_capacity(vec.len());
    for e in vec {
        let (l, r) = if swap { (scalar, e.v) } else { (e.v, scalar) };
        let (mut v, mut keep) = elem_op(op, l, r, nan_div)?;
        if op.is_comparison() && swap {
            v = r;
        }
        if bool_mod {
            v = btos(keep);
            keep = true;
        }
        if keep {
            out.push(Elem {
                labels: e.labels.clone(),
                v,
                t: e.t,
                drop_name: e.drop_name || changes_schema(op) || bool_mod,
            });
        }
    }
    Ok(out)
}

fn sig(l: &Labels, m: &VectorMatching) -> Labels {
    match_labels(l, m.on, &m.labels)
}

fn vector_and(lhs: &Vector, rhs: &Vector, m: &VectorMatching) -> Vector {
    if lhs.is_empty() || rhs.is_empty() {
        return Vec::new();
    }
    let right: HashSet<Labels> = rhs.iter().map(|e| sig(&e.labels, m)).collect();
    lhs.iter()
        .filter(|e| right.contains(&sig(&e.labels, m)))
        .cloned()
        .collect()
}

fn vector_or(lhs: &Vector, rhs: &Vector, m: &VectorMatching) -> Vector {
    if lhs.is_empty() {
        return rhs.clone();
    }
    if rhs.is_empty() {
        return lhs.clone();
    }
    let left: HashSet<Labels> = lhs.iter().map(|e| sig(&e.labels, m)).collect();
    let mut out = lhs.clone();
    out.extend(
        rhs.iter()
            .filter(|e| !left.contains(&sig(&e.labels, m)))
            .cloned(),
    );
    out
}

fn vector_unless(lhs: &Vector, rhs: &Vector, m: &VectorMatching) -> Vector {
    if lhs.is_empty() || rhs.is_empty() {
        return lhs.clone();
    }
    let right: HashSet<Labels> = rhs.iter().map(|e| sig(&e.labels, m)).collect();
    lhs.iter()
        .filter(|e| !right.contains(&sig(&e.labels, m)))
        .cloned()
        .collect()
}

/// The labels of a result element: the "many" side's labels, without the
/// name for arithmetic, reduced to the matching labels for one-to-one
/// matching, plus `group_x(...)` labels copied from the "one" side.
fn result_labels(l: &Labels, r: &Labels, op: BinOp, m: &VectorMatching, card: Card) -> Labels {
    let mut out = if changes_schema(op) {
        drop_metadata(l)
    } else {
        l.clone()
    };
    if card == Card::OneToOne {
        out = if m.on {
            keep_labels(&out, &m.labels)
        } else {
            del_labels(&out, &m.labels)
        };
    }
    if let Some(g) = &m.group {
        for name in &g.include {
            out.set(name, r.get(name).unwrap_or(""));
        }
    }
    out
}

fn vector_binop(
    op: BinOp,
    lhs: &Vector,
    rhs: &Vector,
    m: &VectorMatching,
    card: Card,
    bool_mod: bool,
    nan_div: bool,
) -> Result<Vector, EvalError> {
    if lhs.is_empty() || rhs.is_empty() {
        return Ok(Vec::new());
    }
    // The "one" side goes on the right.
    let (many, one) = if card == Card::OneToMany {
        (rhs, lhs)
    } else {
        (lhs, rhs)
    };
    let mut right: HashMap<Labels, &Elem> = HashMap::with_capacity(one.len());
    for e in one {
        let s = sig(&e.labels, m);
        if let Some(prev) = right.get(&s) {
            let side = if card == Card::OneToMany {
                "left"
            } else {
                "right"
            };
            let (a, b) = if prev.labels <= e.labels {
                (&prev.labels, &e.labels)
            } else {
                (&e.labels, &prev.labels)
            };
            return Err(EvalError::exec(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                labels_string(&match_labels(&e.labels, m.on, &m.labels)),
                labels_string(a),
                labels_string(b),
            )));
        }
        right.insert(s, e);
    }
    let mut matched_one: HashSet<Labels> = HashSet::new();
    let mut matched_many: HashMap<Labels, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for ls in many {
        let s = sig(&ls.labels, m);
        let Some(rs) = right.get(&s) else {
            continue;
        };
        let (fl, fr) = if card == Card::OneToMany {
            (rs.v, ls.v)
        } else {
            (ls.v, rs.v)
        };
        let (mut v, keep) = elem_op(op, fl, fr, nan_div)?;
        if bool_mod {
            v = btos(keep);
        }
        let labels = result_labels(&ls.labels, &rs.labels, op, m, card);
        if card == Card::OneToOne {
            if !matched_one.insert(s) {
                return Err(EvalError::exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if !matched_many.entry(s).or_default().insert(labels.clone()) {
            return Err(EvalError::exec(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        if !keep && !bool_mod {
            continue;
        }
        out.push(Elem {
            labels,
            v,
            t: ls.t,
            drop_name: bool_mod,
        });
    }
    Ok(out)
}
