//! The template tree (Go's text/template/parse/node.go): the node types,
//! their printing as Go prints them, Go's `newNumber` with every reading
//! of a numeric constant, and the walk that lists the fields a tree
//! reads.

use std::fmt::Write as _;

use crate::template::fmt::quote_go;
use crate::template::lex::ItemKind;
use crate::template::strconv::{go_parse_float, go_parse_int, go_parse_uint, unquote_char};

#[derive(Debug, Clone, Default)]
pub(crate) struct ListNode {
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action {
        pos: usize,
        pipe: PipeNode,
    },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<PipeNode>,
    },
    Break,
    Continue,
}

#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub pipe: PipeNode,
    pub list: ListNode,
    pub else_list: Option<ListNode>,
}

#[derive(Debug, Clone)]
pub(crate) struct PipeNode {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<CommandNode>,
}

#[derive(Debug, Clone)]
pub(crate) struct CommandNode {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// A numeric constant with every interpretation Go's `NumberNode` keeps.
#[derive(Debug, Clone)]
pub(crate) struct Number {
    pub text: String,
    pub is_int: bool,
    pub int: i64,
    pub is_uint: bool,
    pub uint: u64,
    pub is_float: bool,
    pub float: f64,
    pub is_char: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Identifier {
        pos: usize,
        name: String,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        val: bool,
    },
    Number {
        pos: usize,
        num: Number,
    },
    Str {
        pos: usize,
        quoted: String,
        text: String,
    },
    Pipe(Box<PipeNode>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::Str { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for id in idents {
                    write!(f, ".{id}")?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => write!(f, "{}", idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => write!(f, "{name}"),
            Arg::Dot { .. } => write!(f, "."),
            Arg::Nil { .. } => write!(f, "nil"),
            Arg::Bool { val, .. } => write!(f, "{val}"),
            Arg::Number { num, .. } => write!(f, "{}", num.text),
            Arg::Str { quoted, .. } => write!(f, "{quoted}"),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl std::fmt::Display for CommandNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = arg {
                write!(f, "({p})")?;
            } else {
                write!(f, "{arg}")?;
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for PipeNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{}", self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for ListNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for n in &self.nodes {
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let branch = |f: &mut std::fmt::Formatter<'_>, kw: &str, b: &Branch| {
            write!(f, "{{{{{kw} {}}}}}{}", b.pipe, b.list)?;
            if let Some(e) = &b.else_list {
                write!(f, "{{{{else}}}}{e}")?;
            }
            write!(f, "{{{{end}}}}")
        };
        match self {
            Node::Text(t) => write!(f, "{}", quote_go(t)),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) => branch(f, "if", b),
            Node::Range(b) => branch(f, "range", b),
            Node::With(b) => branch(f, "with", b),
            Node::Template { name, pipe, .. } => match pipe {
                Some(p) => write!(f, "{{{{template {} {p}}}}}", quote_go(name)),
                None => write!(f, "{{{{template {}}}}}", quote_go(name)),
            },
            Node::Break => write!(f, "{{{{break}}}}"),
            Node::Continue => write!(f, "{{{{continue}}}}"),
        }
    }
}

/// Go's `parse.newNumber`.
pub(super) fn new_number(text: &str, kind: ItemKind) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        int: 0,
        is_uint: false,
        uint: 0,
        is_float: false,
        float: 0.0,
        is_char: false,
    };
    if kind == ItemKind::CharConstant {
        let body = &text.as_bytes()[1..];
        let (c, rest) = unquote_char(body, b'\'').map_err(|()| "invalid syntax".to_string())?;
        if rest != b"'" {
            return Err(format!("malformed character constant: {text}"));
        }
        let v = c as i64;
        n.is_int = true;
        n.int = v;
        n.is_uint = true;
        n.uint = v as u64;
        n.is_float = true;
        n.float = v as f64;
        n.is_char = true;
        return Ok(n);
    }
    if kind == ItemKind::Complex || text.ends_with('i') {
        return Err(format!(
            "complex number constants are not supported: {text}"
        ));
    }
    let u = go_parse_uint(text);
    if let Ok(u) = u {
        n.is_uint = true;
        n.uint = u;
    }
    if let Ok(i) = go_parse_int(text) {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
            n.uint = 0;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else if let Ok(f) = go_parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {text}"));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            n.is_int = true;
            n.int = f as i64;
        }
        if f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            n.is_uint = true;
            n.uint = f as u64;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {}", quote_go(text)));
    }
    Ok(n)
}

/// The `.name` fields a tree reads, Loki's `listNodeFields`.
pub(crate) fn collect_fields(list: &ListNode, out: &mut Vec<String>) {
    fn arg(a: &Arg, out: &mut Vec<String>) {
        match a {
            Arg::Field { idents, .. } => {
                for i in idents {
                    if !out.contains(i) {
                        out.push(i.clone());
                    }
                }
            }
            Arg::Pipe(p) => pipe(p, out),
            Arg::Chain { node, .. } => arg(node, out),
            _ => {}
        }
    }
    fn pipe(p: &PipeNode, out: &mut Vec<String>) {
        for c in &p.cmds {
            for a in &c.args {
                arg(a, out);
            }
        }
    }
    for n in &list.nodes {
        match n {
            Node::Action { pipe: p, .. } => pipe(p, out),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                pipe(&b.pipe, out);
                collect_fields(&b.list, out);
                if let Some(e) = &b.else_list {
                    collect_fields(e, out);
                }
            }
            Node::Template { pipe: Some(p), .. } => pipe(p, out),
            _ => {}
        }
    }
}
