//! Nesting limits and chains of binary operators, which are not nesting.

use super::*;

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = |open: &str, core: &str, close: &str, n: usize| {
        format!("{}{core}{}", open.repeat(n), close.repeat(n))
    };
    // Within the limit: parses.
    check(&deep("(", "1", ")", 100), &deep("(", "1", ")", 100));
    assert!(parse(&deep("-", "foo", "", 100)).is_ok());
    // Exactly at the limit, and one past it.
    let limit = sightline_promql::MAX_DEPTH;
    assert_eq!(limit, 200);
    check(&deep("(", "1", ")", limit), &deep("(", "1", ")", limit));
    for q in [
        deep("(", "1", ")", limit + 1),
        deep("-", "foo", "", limit + 1),
        deep("abs(", "foo", ")", limit + 1),
        deep("sum(", "foo", ")", limit + 1),
        format!("foo{}", "[1m:]".repeat(limit + 1)),
        format!("{}foo{}", "(".repeat(limit), ")[1m:]".repeat(limit)),
    ] {
        let e = parse(&q).expect_err("too deep");
        assert!(e.message.contains("nested too deeply"), "{e}");
    }
    // Far past the limit: a clean error, for every way of nesting.
    for q in [
        deep("(", "1", ")", 20_000),
        deep("-", "1", "", 20_000),
        deep("sum(", "x", ")", 20_000),
        deep("abs(", "x", ")", 20_000),
        format!("x{}", "[1m:]".repeat(20_000)),
        format!("foo[{}1m{}]", "(".repeat(20_000), ")".repeat(20_000)),
        format!("foo offset {}1m{}", "(".repeat(20_000), ")".repeat(20_000)),
    ] {
        let e = parse(&q).expect_err("too deep");
        assert!(e.message.contains("nested too deeply"), "{e}");
    }
    // Operators inside nesting do not add to it: 150 parentheses, each
    // holding a sum, are 151 levels.
    let q = format!(
        "sum({})",
        "(foo + ".repeat(150) + "foo" + &" + foo)".repeat(150)
    );
    check(&q, &q);
}

/// A chain of `n` operands `operand op operand op ...`.
fn chain(operand: &str, op: &str, n: usize) -> String {
    vec![operand; n].join(&format!(" {op} "))
}

#[test]
fn long_chains_are_not_nesting() {
    // 1,000 operands at every precedence level parse, print back as
    // written, and round-trip.
    for (operand, op) in [
        ("foo", "or"),
        ("foo", "and"),
        ("foo", "unless"),
        ("foo", "=="),
        ("foo", "!="),
        ("foo", ">"),
        ("foo", "<"),
        ("foo", ">="),
        ("foo", "<="),
        ("foo", "> bool"),
        ("1", "== bool"),
        ("foo", "+"),
        ("1", "-"),
        ("foo", "*"),
        ("foo", "/"),
        ("foo", "%"),
        ("foo", "atan2"),
        ("foo", "^"),
        ("2", "^"),
        ("foo", "+ on (a) group_left (b)"),
    ] {
        let q = chain(operand, op, 1_000);
        check(&q, &q);
    }
    // The tree is left-nested for left-associative operators...
    let Expr::Binary(b) = ok(&chain("foo", "-", 1_000)) else {
        panic!("binary")
    };
    assert!(matches!(*b.lhs, Expr::Binary(_)));
    assert!(matches!(*b.rhs, Expr::Vector(_)));
    // ... and right-nested for `^`, 999 levels deep.
    let tree = ok(&chain("2", "^", 1_000));
    let mut e = &tree;
    let mut depth = 0;
    while let Expr::Binary(b) = e {
        assert!(matches!(*b.lhs, Expr::Number { value, .. } if value == 2.0));
        e = &b.rhs;
        depth += 1;
    }
    assert_eq!(depth, 999);
    // Mixed precedences in one long chain keep their grouping.
    let mixed = "a or b and c unless d == e + f * g ^ h ^ i - j / k % l atan2 m";
    let q = vec![mixed; 100].join(" or ");
    check(&q, &q);
    let Expr::Binary(b) = ok("a * b ^ c ^ d + e") else {
        panic!("binary")
    };
    assert_eq!(b.op, BinOp::Add);
    check("a * b ^ c ^ d + e", "a * b ^ c ^ d + e");
    check("-a ^ b ^ c * d", "-a ^ b ^ c * d");
    let Expr::Binary(b) = ok("-a ^ b ^ c * d") else {
        panic!("binary")
    };
    assert_eq!(b.op, BinOp::Mul);
    assert!(matches!(*b.lhs, Expr::Unary { .. }));
    // A chain inside nesting, and nesting inside a chain.
    let inner = chain("foo", "+", 1_000);
    let q = format!("sum by (job) (rate(({inner})[5m:]))");
    check(&q, &q);
    let q = chain("sum(foo + bar) / count(-foo)", "or", 1_000);
    check(&q, &q);
    let q = format!(
        "{}{}{}",
        "abs(".repeat(150),
        chain("foo", "or", 1_000),
        ")".repeat(150)
    );
    check(&q, &q);
    // A chain in a duration expression.
    check(&format!("foo[{}]", chain("1m", "+", 1_000)), "foo[16h40m]");
    check(&format!("foo[{}]", chain("1", "^", 1_000)), "foo[1s]");
    // Type errors are still found inside a long chain, with the first
    // error in written order.
    let q = format!("{} + \"x\" + {{}}", chain("foo", "+", 1_000));
    let e = parse(&q).expect_err("string operand");
    assert!(
        e.message
            .contains("binary expression must contain only scalar and instant vector types"),
        "{e}"
    );
    let q = format!("{} or 1", chain("foo", "or", 1_000));
    let e = parse(&q).expect_err("set operator with a scalar");
    assert!(e.message.contains("set operator \"or\" not allowed"), "{e}");
}

#[test]
fn a_chain_of_100_000_operands_needs_no_deep_stack() {
    // Parsing, checking, printing, comparing, cloning, formatting and
    // dropping walk the chain without recursion: all of it fits a 2 MiB
    // thread stack, even unoptimised.
    let run = || {
        for (operand, op) in [("foo", "+"), ("foo", "or"), ("2", "^"), ("1", "== bool")] {
            let q = chain(operand, op, 100_000);
            let tree = parse(&q).expect("parses");
            assert_eq!(
                tree.value_type(),
                if operand == "foo" {
                    ValueType::Vector
                } else {
                    ValueType::Scalar
                }
            );
            let printed = tree.to_string();
            assert_eq!(printed, q);
            let copy = tree.clone();
            assert_eq!(copy, tree);
            let debug = format!("{tree:?}");
            assert!(
                debug.starts_with("Binary(BinaryExpr { op: "),
                "{}",
                &debug[..80]
            );
            assert!(tree.walk().count() >= 199_999);
            drop(copy);
            drop(tree);
        }
    };
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .expect("thread starts")
        .join()
        .expect("no overflow");
}
