//! The parser: Go's text/template/parse/parse.go, producing a tree whose
//! nodes print (for error contexts) exactly as Go's do.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::lex::{Item, ItemKind, lex};
use super::{MAX_NESTING, TemplateError, funcs};

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
            Node::Text(t) => write!(f, "{}", super::fmt::quote_go(t)),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) => branch(f, "if", b),
            Node::Range(b) => branch(f, "range", b),
            Node::With(b) => branch(f, "with", b),
            Node::Template { name, pipe, .. } => match pipe {
                Some(p) => write!(f, "{{{{template {} {p}}}}}", super::fmt::quote_go(name)),
                None => write!(f, "{{{{template {}}}}}", super::fmt::quote_go(name)),
            },
            Node::Break => write!(f, "{{{{break}}}}"),
            Node::Continue => write!(f, "{{{{continue}}}}"),
        }
    }
}

pub(crate) struct Parsed {
    pub root: ListNode,
    pub defines: HashMap<String, ListNode>,
}

enum Parsed1 {
    Node(Node),
    End,
    Else,
}

struct Parser<'a> {
    name: &'a str,
    items: Vec<Item>,
    idx: usize,
    furthest: usize,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    action_line: usize,
    defines: HashMap<String, ListNode>,
}

type PResult<T> = Result<T, TemplateError>;

/// Parses a whole template text (Go's `template.New(name).Parse(text)`).
pub(crate) fn parse(name: &str, text: &str) -> PResult<Parsed> {
    let mut p = Parser {
        name,
        items: lex(text),
        idx: 0,
        furthest: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        depth: 0,
        action_line: 0,
        defines: HashMap::new(),
    };
    let mut root = ListNode::default();
    while p.peek().kind != ItemKind::Eof {
        if p.peek().kind == ItemKind::LeftDelim {
            let save = p.idx;
            p.next();
            if p.next_non_space().kind == ItemKind::Define {
                p.parse_definition()?;
                continue;
            }
            p.idx = save;
        }
        match p.text_or_action()? {
            Parsed1::End => return Err(p.err("unexpected {{end}}")),
            Parsed1::Else => return Err(p.err("unexpected {{else}}")),
            Parsed1::Node(n) => root.nodes.push(n),
        }
    }
    // The main template joins the set last: a non-empty definition of the
    // same name clashes with a non-empty body, and replaces an empty one.
    let mut defines = p.defines;
    if let Some(def) = defines.remove(name) {
        if is_empty_tree(&root) {
            root = def;
        } else if !is_empty_tree(&def) {
            return Err(TemplateError(format!(
                "template: multiple definition of template {}",
                super::fmt::quote_go(name)
            )));
        }
    }
    Ok(Parsed { root, defines })
}

fn is_empty_tree(l: &ListNode) -> bool {
    l.nodes.iter().all(|n| match n {
        Node::Text(t) => t.trim_matches([' ', '\t', '\r', '\n']).is_empty(),
        _ => false,
    })
}

impl Parser<'_> {
    fn item(&mut self, i: usize) -> &Item {
        let i = i.min(self.items.len() - 1);
        if i > self.furthest {
            self.furthest = i;
        }
        &self.items[i]
    }

    fn next(&mut self) -> Item {
        let it = self.item(self.idx).clone();
        if self.idx < self.items.len() {
            self.idx += 1;
        }
        it
    }

    fn backup(&mut self) {
        self.idx = self.idx.saturating_sub(1);
    }

    fn peek(&mut self) -> Item {
        self.item(self.idx).clone()
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.kind != ItemKind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn err(&mut self, msg: &str) -> TemplateError {
        let line = self.item(self.furthest).line;
        TemplateError(format!("template: {}:{}: {}", self.name, line, msg))
    }

    fn unexpected(&mut self, token: &Item, context: &str) -> TemplateError {
        if token.kind == ItemKind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.err(&format!("{token}{extra}"));
        }
        self.err(&format!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, kind: ItemKind, context: &str) -> PResult<Item> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err("max expression depth exceeded"));
        }
        Ok(())
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let t = self.next_non_space();
        if t.kind != ItemKind::String && t.kind != ItemKind::RawString {
            return Err(self.unexpected(&t, context));
        }
        let name = match unquote(&t.val) {
            Ok(n) => n,
            Err(()) => return Err(self.err("invalid syntax")),
        };
        self.expect(ItemKind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Parsed1::End) {
            return Err(self.err("unexpected {{else}} in define clause"));
        }
        match self.defines.get(&name) {
            Some(old) if !is_empty_tree(old) && !is_empty_tree(&list) => {
                return Err(self.err(&format!(
                    "template: multiple definition of template {}",
                    super::fmt::quote_go(&name)
                )));
            }
            Some(old) if !is_empty_tree(old) => {}
            _ => {
                self.defines.insert(name, list);
            }
        }
        Ok(())
    }

    fn item_list(&mut self) -> PResult<(ListNode, Parsed1)> {
        let mut list = ListNode::default();
        while self.peek_non_space().kind != ItemKind::Eof {
            match self.text_or_action()? {
                Parsed1::Node(n) => list.nodes.push(n),
                other => return Ok((list, other)),
            }
        }
        Err(self.err("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed1> {
        let t = self.next_non_space();
        match t.kind {
            ItemKind::Text => Ok(Parsed1::Node(Node::Text(t.val))),
            ItemKind::LeftDelim => {
                self.action_line = t.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed1> {
        let t = self.next_non_space();
        match t.kind {
            ItemKind::Block => return self.block_control(),
            ItemKind::Break => return self.break_control("{{break}}", Node::Break),
            ItemKind::Continue => return self.break_control("{{continue}}", Node::Continue),
            ItemKind::Else => return self.else_control(),
            ItemKind::End => {
                self.expect(ItemKind::RightDelim, "end")?;
                return Ok(Parsed1::End);
            }
            ItemKind::If => return self.if_control().map(Parsed1::Node),
            ItemKind::Range => {
                let b = self.parse_control("range")?;
                return Ok(Parsed1::Node(Node::Range(b)));
            }
            ItemKind::Template => return self.template_control(),
            ItemKind::With => return self.with_control().map(Parsed1::Node),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", ItemKind::RightDelim)?;
        Ok(Parsed1::Node(Node::Action { pos, pipe }))
    }

    fn break_control(&mut self, what: &str, node: Node) -> PResult<Parsed1> {
        let t = self.next_non_space();
        if t.kind != ItemKind::RightDelim {
            return Err(self.unexpected(&t, what));
        }
        if self.range_depth == 0 {
            return Err(self.err(&format!("{what} outside {{{{range}}}}")));
        }
        Ok(Parsed1::Node(node))
    }

    fn else_control(&mut self) -> PResult<Parsed1> {
        let peek = self.peek_non_space();
        if peek.kind == ItemKind::If || peek.kind == ItemKind::With {
            return Ok(Parsed1::Else);
        }
        self.expect(ItemKind::RightDelim, "else")?;
        Ok(Parsed1::Else)
    }

    fn if_control(&mut self) -> PResult<Node> {
        Ok(Node::If(self.parse_control("if")?))
    }

    fn with_control(&mut self) -> PResult<Node> {
        Ok(Node::With(self.parse_control("with")?))
    }

    fn parse_control(&mut self, context: &str) -> PResult<Branch> {
        self.enter()?;
        let vars_mark = self.vars.len();
        let r = self.parse_control_inner(context);
        self.vars.truncate(vars_mark);
        self.depth -= 1;
        r
    }

    fn parse_control_inner(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, ItemKind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        if let Parsed1::Else = next {
            if context == "if" && self.peek().kind == ItemKind::If {
                self.next();
                else_list = Some(ListNode {
                    nodes: vec![self.if_control()?],
                });
            } else if context == "with" && self.peek().kind == ItemKind::With {
                self.next();
                else_list = Some(ListNode {
                    nodes: vec![self.with_control()?],
                });
            } else {
                let (l, next) = self.item_list()?;
                if !matches!(next, Parsed1::End) {
                    return Err(self.err("expected end; found {{else}}"));
                }
                else_list = Some(l);
            }
        }
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, t: &Item, context: &str) -> PResult<String> {
        match t.kind {
            ItemKind::String | ItemKind::RawString => match unquote(&t.val) {
                Ok(s) => Ok(s),
                Err(()) => Err(self.err("invalid syntax")),
            },
            _ => Err(self.unexpected(t, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Parsed1> {
        let context = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let mut pipe = None;
        if self.next_non_space().kind != ItemKind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, ItemKind::RightDelim)?);
        }
        Ok(Parsed1::Node(Node::Template {
            pos: t.pos,
            name,
            pipe,
        }))
    }

    fn block_control(&mut self) -> PResult<Parsed1> {
        let context = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let pipe = self.pipeline(context, ItemKind::RightDelim)?;
        self.enter()?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let r = self.item_list();
        self.vars = saved_vars;
        self.depth -= 1;
        let (list, end) = r?;
        if !matches!(end, Parsed1::End) {
            return Err(self.err("unexpected {{else}} in block clause"));
        }
        match self.defines.get(&name) {
            Some(old) if !is_empty_tree(old) && !is_empty_tree(&list) => {
                return Err(self.err(&format!(
                    "template: multiple definition of template {}",
                    super::fmt::quote_go(&name)
                )));
            }
            Some(old) if !is_empty_tree(old) => {}
            _ => {
                self.defines.insert(name.clone(), list);
            }
        }
        Ok(Parsed1::Node(Node::Template {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        }))
    }

    fn pipeline(&mut self, context: &str, end: ItemKind) -> PResult<PipeNode> {
        let pos = self.peek_non_space().pos;
        let mut pipe = PipeNode {
            pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != ItemKind::Variable {
                break;
            }
            let save = self.idx;
            self.next_non_space();
            let after = self.peek();
            let next = self.peek_non_space();
            match next.kind {
                ItemKind::Assign | ItemKind::Declare => {
                    pipe.is_assign = next.kind == ItemKind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    break;
                }
                ItemKind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val.clone());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            ItemKind::Variable | ItemKind::RightDelim | ItemKind::RightParen => {
                                continue 'decls;
                            }
                            _ => return Err(self.err("range can only initialize variables")),
                        }
                    }
                    return Err(self.err(&format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = after;
                    self.idx = save;
                    break;
                }
            }
        }
        loop {
            let t = self.next_non_space();
            match t.kind {
                k if k == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemKind::Bool
                | ItemKind::CharConstant
                | ItemKind::Complex
                | ItemKind::Dot
                | ItemKind::Field
                | ItemKind::Identifier
                | ItemKind::Number
                | ItemKind::Nil
                | ItemKind::RawString
                | ItemKind::String
                | ItemKind::Variable
                | ItemKind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    fn check_pipeline(&mut self, pipe: &PipeNode, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.err(&format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(
                Arg::Bool { .. }
                | Arg::Dot { .. }
                | Arg::Nil { .. }
                | Arg::Number { .. }
                | Arg::Str { .. },
            ) = c.args.first()
            {
                return Err(self.err(&format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<CommandNode> {
        let pos = self.peek_non_space().pos;
        let mut cmd = CommandNode {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.kind {
                ItemKind::Space => continue,
                ItemKind::RightDelim | ItemKind::RightParen => self.backup(),
                ItemKind::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.err("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind == ItemKind::Field {
            let pos = self.peek().pos;
            let mut fields = Vec::new();
            while self.peek().kind == ItemKind::Field {
                let f = self.next().val;
                fields.push(f[1..].to_string());
            }
            return Ok(Some(match node {
                Arg::Field { pos: _, mut idents } => {
                    idents.extend(fields);
                    Arg::Field { pos, idents }
                }
                Arg::Variable { pos: _, mut idents } => {
                    idents.extend(fields);
                    Arg::Variable { pos, idents }
                }
                Arg::Bool { .. }
                | Arg::Str { .. }
                | Arg::Number { .. }
                | Arg::Nil { .. }
                | Arg::Dot { .. } => {
                    let s = node.to_string();
                    return Err(self.err(&format!(
                        "unexpected . after term {}",
                        super::fmt::quote_go(&s)
                    )));
                }
                other => Arg::Chain {
                    pos,
                    node: Box::new(other),
                    fields,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.pos;
        Ok(Some(match t.kind {
            ItemKind::Identifier => {
                if !funcs::exists(&t.val) {
                    return Err(self.err(&format!(
                        "function {} not defined",
                        super::fmt::quote_go(&t.val)
                    )));
                }
                Arg::Identifier { pos, name: t.val }
            }
            ItemKind::Dot => Arg::Dot { pos },
            ItemKind::Nil => Arg::Nil { pos },
            ItemKind::Variable => {
                let name = t.val.split('.').next().unwrap_or("").to_string();
                if !self.vars.contains(&name) {
                    return Err(self.err(&format!(
                        "undefined variable {}",
                        super::fmt::quote_go(&name)
                    )));
                }
                Arg::Variable {
                    pos,
                    idents: vec![t.val],
                }
            }
            ItemKind::Field => Arg::Field {
                pos,
                idents: vec![t.val[1..].to_string()],
            },
            ItemKind::Bool => Arg::Bool {
                pos,
                val: t.val == "true",
            },
            ItemKind::CharConstant | ItemKind::Complex | ItemKind::Number => {
                match new_number(&t.val, t.kind) {
                    Ok(num) => Arg::Number { pos, num },
                    Err(msg) => return Err(self.err(&msg)),
                }
            }
            ItemKind::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", ItemKind::RightParen);
                self.depth -= 1;
                Arg::Pipe(Box::new(p?))
            }
            ItemKind::String | ItemKind::RawString => match unquote(&t.val) {
                Ok(text) => Arg::Str {
                    pos,
                    quoted: t.val,
                    text,
                },
                Err(()) => return Err(self.err("invalid syntax")),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// Go's `parse.newNumber`.
fn new_number(text: &str, kind: ItemKind) -> Result<Number, String> {
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
        return Err(format!(
            "illegal number syntax: {}",
            super::fmt::quote_go(text)
        ));
    }
    Ok(n)
}

/// Why a Go `strconv` number parse failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumErr {
    Syntax,
    Range,
}

/// Go's `underscoreOK`: underscores only between digits (or after a base
/// prefix).
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    let mut saw = b'^';
    if let Some(b'+' | b'-') = b.first() {
        b = &b[1..];
    }
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] | 0x20 == b'x';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || hex && (c | 0x20).is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
pub(crate) fn go_parse_uint(s: &str) -> Result<u64, NumErr> {
    if s.is_empty() {
        return Err(NumErr::Syntax);
    }
    let b = s.as_bytes();
    let (base, digits): (u32, &str) =
        if b[0] == b'0' && b.len() >= 3 && matches!(b[1] | 0x20, b'x' | b'o' | b'b') {
            (
                match b[1] | 0x20 {
                    b'x' => 16,
                    b'o' => 8,
                    _ => 2,
                },
                &s[2..],
            )
        } else if b[0] == b'0' && b.len() > 1 {
            (8, &s[1..])
        } else {
            (10, s)
        };
    let mut v: u64 = 0;
    let mut underscores = false;
    let mut any = false;
    let mut overflow = false;
    for c in digits.chars() {
        if c == '_' {
            underscores = true;
            continue;
        }
        let Some(d) = c.to_digit(base) else {
            return Err(NumErr::Syntax);
        };
        any = true;
        match v
            .checked_mul(base as u64)
            .and_then(|x| x.checked_add(d as u64))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    if !any && base != 8 {
        return Err(NumErr::Syntax);
    }
    if underscores && !underscore_ok(s) {
        return Err(NumErr::Syntax);
    }
    if overflow {
        return Err(NumErr::Range);
    }
    Ok(v)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn go_parse_int(s: &str) -> Result<i64, NumErr> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(body)?;
    if neg {
        if u > 1u64 << 63 {
            return Err(NumErr::Range);
        }
        Ok((u as i64).wrapping_neg())
    } else {
        i64::try_from(u).map_err(|_| NumErr::Range)
    }
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal forms, `_`
/// separators, `inf`/`infinity`/`nan` in any case; out-of-range values are
/// a `Range` error.
pub(crate) fn go_parse_float(s: &str) -> Result<f64, NumErr> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let sign = if neg { -1.0 } else { 1.0 };
    if lower == "inf" || lower == "infinity" {
        return Ok(sign * f64::INFINITY);
    }
    if lower == "nan" {
        return Ok(f64::NAN);
    }
    if body.contains('_') && !underscore_ok(body) {
        return Err(NumErr::Syntax);
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let v = if clean.len() > 2 && clean[..2].eq_ignore_ascii_case("0x") {
        parse_hex_float(&clean[2..])?
    } else {
        let b = clean.as_bytes();
        let mut i = 0;
        let mut digits = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
                digits += 1;
            }
        }
        if digits == 0 {
            return Err(NumErr::Syntax);
        }
        if i < b.len() && (b[i] | 0x20) == b'e' {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(NumErr::Syntax);
            }
        }
        if i != b.len() {
            return Err(NumErr::Syntax);
        }
        clean.parse::<f64>().map_err(|_| NumErr::Syntax)?
    };
    if v.is_infinite() {
        return Err(NumErr::Range);
    }
    Ok(sign * v)
}

fn parse_hex_float(s: &str) -> Result<f64, NumErr> {
    let (mant, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut value = 0f64;
    let mut scale = 0i64;
    let mut seen_dot = false;
    let mut any = false;
    for c in mant.chars() {
        if c == '.' {
            if seen_dot {
                return Err(NumErr::Syntax);
            }
            seen_dot = true;
            continue;
        }
        let d = c.to_digit(16).ok_or(NumErr::Syntax)?;
        any = true;
        value = value * 16.0 + d as f64;
        if seen_dot {
            scale -= 4;
        }
    }
    if !any {
        return Err(NumErr::Syntax);
    }
    let e: i64 = match exp {
        Some(e) => e.parse().map_err(|_| NumErr::Syntax)?,
        None if seen_dot => return Err(NumErr::Syntax),
        None => 0,
    };
    let total = (e + scale).clamp(-2000, 2000) as i32;
    Ok(value * 2f64.powi(total))
}

/// Go's `strconv.UnquoteChar` over bytes: one (possibly escaped) character
/// and the rest. Values above 0xFF from `\x`/octal cannot occur; `\x80`
/// and up stand for raw bytes, returned as code points 0x80..=0xFF with
/// the `byte` flag so strings can rebuild the byte.
pub(crate) fn unquote_char(s: &[u8], quote: u8) -> Result<(u32, &[u8]), ()> {
    let (v, _, rest) = unquote_char_b(s, quote)?;
    Ok((v, rest))
}

fn unquote_char_b(s: &[u8], quote: u8) -> Result<(u32, bool, &[u8]), ()> {
    let Some(&c) = s.first() else {
        return Err(());
    };
    if c == quote && (quote == b'\'' || quote == b'"') {
        return Err(());
    }
    if c >= 0x80 {
        let st = std::str::from_utf8(&s[..s.len().min(4)])
            .or_else(|e| std::str::from_utf8(&s[..e.valid_up_to()]))
            .map_err(|_| ())?;
        let ch = st.chars().next().ok_or(())?;
        return Ok((ch as u32, false, &s[ch.len_utf8()..]));
    }
    if c != b'\\' {
        return Ok((c as u32, false, &s[1..]));
    }
    if s.len() <= 1 {
        return Err(());
    }
    let e = s[1];
    let rest = &s[2..];
    let simple = match e {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(10),
        b'r' => Some(13),
        b't' => Some(9),
        b'v' => Some(11),
        b'\\' => Some(b'\\' as u32),
        b'\'' | b'"' => {
            if e != quote {
                return Err(());
            }
            Some(e as u32)
        }
        _ => None,
    };
    if let Some(v) = simple {
        return Ok((v, false, rest));
    }
    match e {
        b'x' | b'u' | b'U' => {
            let n = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            if rest.len() < n {
                return Err(());
            }
            let mut v = 0u32;
            for &d in &rest[..n] {
                v = v * 16 + (d as char).to_digit(16).ok_or(())?;
            }
            if e == b'x' {
                return Ok((v, true, &rest[n..]));
            }
            if char::from_u32(v).is_none() {
                return Err(());
            }
            Ok((v, false, &rest[n..]))
        }
        b'0'..=b'7' => {
            if rest.len() < 2 {
                return Err(());
            }
            let mut v = (e - b'0') as u32;
            for &d in &rest[..2] {
                if !(b'0'..=b'7').contains(&d) {
                    return Err(());
                }
                v = v * 8 + (d - b'0') as u32;
            }
            if v > 255 {
                return Err(());
            }
            Ok((v, true, &rest[2..]))
        }
        _ => Err(()),
    }
}

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` literals. Raw strings lose
/// their carriage returns, as in Go. Escaped bytes that do not form UTF-8
/// become U+FFFD.
pub(crate) fn unquote(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(());
    }
    let q = b[0];
    if q != b[b.len() - 1] {
        return Err(());
    }
    let body = &b[1..b.len() - 1];
    if q == b'`' {
        if body.contains(&b'`') {
            return Err(());
        }
        return Ok(s[1..s.len() - 1].replace('\r', ""));
    }
    if q != b'"' {
        return Err(());
    }
    if body.contains(&b'\n') {
        return Err(());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        let (v, is_byte, r) = unquote_char_b(rest, b'"')?;
        if is_byte {
            out.push(v as u8);
        } else if let Some(c) = char::from_u32(v) {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        rest = r;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
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
