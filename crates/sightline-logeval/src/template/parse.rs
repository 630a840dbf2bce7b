//! The parser: Go's text/template/parse/parse.go, turning the lexer's
//! items into the tree of `node` (Go's parse/node.go), whose nodes print
//! (for error contexts) exactly as Go's do. Literals are read with the
//! `strconv` helpers.

mod node;

pub(crate) use node::{Arg, Branch, CommandNode, ListNode, Node, Number, PipeNode, collect_fields};

use std::collections::HashMap;

use super::lex::{Item, ItemKind, lex};
use super::strconv::unquote;
use super::{MAX_NESTING, TemplateError, funcs};
use node::new_number;

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
