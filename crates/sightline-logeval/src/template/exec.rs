//! Execution: Go's text/template/exec.go over the parsed tree, with the
//! same typing of function arguments and the same error contexts
//! (`template: line:1:2: executing "line" at <.foo>: …`).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::funcs::{self, CallCtx, P};
use super::parse::{Arg, Branch, CommandNode, ListNode, Node, Number, PipeNode};
use super::value::Value;
use super::{MAX_EXEC_DEPTH, MAX_OUTPUT_BYTES, MAX_STEPS, Template, TemplateData, TemplateError};

/// The node an error is reported at.
#[derive(Clone, Copy)]
enum Ctx<'t> {
    None,
    Arg(&'t Arg),
    Cmd(&'t CommandNode),
    Pipe(&'t PipeNode),
    Action(usize, &'t PipeNode),
    Node(usize, &'t Node),
}

enum Stop {
    Error(TemplateError),
    Break,
    Continue,
}

type R<T> = Result<T, Stop>;

struct State<'t, 'd> {
    tmpl: &'t Template,
    data: &'t TemplateData<'d>,
    out: String,
    vars: Vec<(String, Value)>,
    node: Ctx<'t>,
    name: &'t str,
    depth: usize,
    steps: u64,
}

pub(crate) fn execute(tmpl: &Template, data: &TemplateData<'_>) -> Result<String, TemplateError> {
    let mut st = State {
        tmpl,
        data,
        out: String::new(),
        vars: vec![("$".to_string(), Value::Labels)],
        node: Ctx::None,
        name: &tmpl.name,
        depth: 0,
        steps: 0,
    };
    match st.walk_list(&Value::Labels, &tmpl.root) {
        Ok(()) => Ok(st.out),
        Err(Stop::Error(e)) => Err(e),
        // The parser only accepts break/continue inside a range.
        Err(Stop::Break | Stop::Continue) => Ok(st.out),
    }
}

fn truncate_context(s: &str) -> String {
    if s.chars().count() > 20 {
        let head: String = s.chars().take(20).collect();
        format!("{head}...")
    } else {
        s.to_string()
    }
}

impl<'t, 'd> State<'t, 'd> {
    fn at(&mut self, c: Ctx<'t>) {
        self.node = c;
    }

    fn errorf(&self, msg: impl Into<String>) -> Stop {
        let msg = msg.into();
        let name = super::fmt::quote_go(self.name);
        let (pos, context) = match self.node {
            Ctx::None => {
                return Stop::Error(TemplateError(format!("template: {}: {msg}", self.name)));
            }
            Ctx::Arg(a) => (a.pos(), a.to_string()),
            Ctx::Cmd(c) => (c.pos, c.to_string()),
            Ctx::Pipe(p) => (p.pos, p.to_string()),
            Ctx::Action(pos, p) => (pos, format!("{{{{{p}}}}}")),
            Ctx::Node(pos, n) => (pos, n.to_string()),
        };
        let text = &self.tmpl.text;
        let pos = pos.min(text.len());
        let before = &text.as_bytes()[..pos];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let col = match before.iter().rposition(|&b| b == b'\n') {
            Some(i) => pos - i - 1,
            None => pos,
        };
        Stop::Error(TemplateError(format!(
            "template: {}:{line}:{col}: executing {name} at <{}>: {msg}",
            self.tmpl.name,
            truncate_context(&context)
        )))
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(self.errorf(format!("template execution exceeded {MAX_STEPS} steps")));
        }
        Ok(())
    }

    fn write(&mut self, s: &str) -> R<()> {
        if self.out.len() + s.len() > MAX_OUTPUT_BYTES {
            return Err(self.errorf(format!("template output exceeds {MAX_OUTPUT_BYTES} bytes")));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'t ListNode) -> R<()> {
        for n in &list.nodes {
            self.walk(dot, n)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> R<()> {
        self.step()?;
        match node {
            Node::Text(t) => self.write(t),
            Node::Action { pos, pipe } => {
                self.at(Ctx::Action(*pos, pipe));
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(Ctx::Action(*pos, pipe));
                    self.print_value(&v)?;
                }
                Ok(())
            }
            Node::If(b) | Node::With(b) => {
                let with = matches!(node, Node::With(_));
                let mark = self.vars.len();
                self.at(Ctx::Node(b.pipe.pos, node));
                let r = self.walk_if_or_with(dot, b, with);
                self.vars.truncate(mark);
                r
            }
            Node::Range(b) => {
                self.at(Ctx::Node(b.pipe.pos, node));
                self.walk_range(dot, b)
            }
            Node::Template { pos, name, pipe } => {
                self.at(Ctx::Node(*pos, node));
                self.walk_template(dot, name, pipe.as_ref())
            }
            Node::Break => Err(Stop::Break),
            Node::Continue => Err(Stop::Continue),
        }
    }

    fn print_value(&mut self, v: &Value) -> R<()> {
        let s = match v {
            Value::Nil => "<no value>".to_string(),
            Value::Str(s) => s.clone(),
            Value::Labels => {
                return Err(
                    self.errorf("can't print the label map: labels can only be read by name")
                );
            }
            v => match super::fmt::sprint(std::slice::from_ref(v)) {
                Ok(s) => s,
                Err(_) => {
                    return Err(
                        self.errorf("can't print the label map: labels can only be read by name")
                    );
                }
            },
        };
        self.write(&s)
    }

    fn walk_if_or_with(&mut self, dot: &Value, b: &'t Branch, with: bool) -> R<()> {
        let v = self.eval_pipeline(dot, &b.pipe)?;
        if v.truth() {
            if with {
                self.walk_list(&v, &b.list)
            } else {
                self.walk_list(dot, &b.list)
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)
        } else {
            Ok(())
        }
    }

    fn set_var(&mut self, name: &str, v: Value) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
        }
    }

    fn set_top_var(&mut self, n: usize, v: Value) {
        let len = self.vars.len();
        if n <= len {
            self.vars[len - n].1 = v;
        }
    }

    fn walk_range(&mut self, dot: &Value, r: &'t Branch) -> R<()> {
        let mark = self.vars.len();
        let res = self.walk_range_inner(dot, r);
        self.vars.truncate(mark);
        match res {
            Err(Stop::Break) => Ok(()),
            other => other,
        }
    }

    fn one_iteration(&mut self, r: &'t Branch, mark: usize, index: Value, elem: Value) -> R<()> {
        self.step()?;
        let decl = &r.pipe.decl;
        if !decl.is_empty() {
            if r.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0], index.clone());
                } else {
                    self.set_var(&decl[0], elem.clone());
                }
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if decl.len() > 1 {
            if r.pipe.is_assign {
                self.set_var(&decl[1], elem.clone());
            } else {
                self.set_top_var(2, index);
            }
        }
        let res = self.walk_list(&elem, &r.list);
        self.vars.truncate(mark);
        match res {
            Err(Stop::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &Value, r: &'t Branch) -> R<()> {
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let mark = self.vars.len();
        match &val {
            Value::List(l) if !l.is_empty() => {
                let l = Rc::clone(l);
                for (i, e) in l.iter().enumerate() {
                    self.one_iteration(r, mark, Value::Int(i as i64), e.clone())?;
                }
                return Ok(());
            }
            Value::Map(m) if !m.is_empty() => {
                let m: Rc<BTreeMap<String, Value>> = Rc::clone(m);
                for (k, v) in m.iter() {
                    self.one_iteration(r, mark, Value::Str(k.clone()), v.clone())?;
                }
                return Ok(());
            }
            Value::Int(_) | Value::Int64(_) | Value::Uint8(_) => {
                if r.pipe.decl.len() > 1 {
                    let shown = super::fmt::sprint(std::slice::from_ref(&val)).unwrap_or_default();
                    return Err(self.errorf(format!(
                        "can't use {shown} to iterate over more than one variable"
                    )));
                }
                let n = match &val {
                    Value::Int(n) | Value::Int64(n) => *n,
                    Value::Uint8(n) => *n as i64,
                    _ => 0,
                };
                if n > 0 {
                    for k in 0..n {
                        let e = match &val {
                            Value::Int(_) => Value::Int(k),
                            Value::Int64(_) => Value::Int64(k),
                            _ => Value::Uint8(k as u8),
                        };
                        self.one_iteration(r, mark, Value::Nil, e)?;
                    }
                    return Ok(());
                }
            }
            Value::List(_) | Value::Map(_) | Value::Nil => {}
            Value::Labels => {
                return Err(
                    self.errorf("can't range over the label map: labels can only be read by name")
                );
            }
            v => {
                let shown = super::fmt::sprint(std::slice::from_ref(v)).unwrap_or_default();
                return Err(self.errorf(format!("range can't iterate over {shown}")));
            }
        }
        if let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    fn walk_template(&mut self, dot: &Value, name: &'t str, pipe: Option<&'t PipeNode>) -> R<()> {
        let list: &'t ListNode = if name == self.tmpl.name {
            &self.tmpl.root
        } else {
            match self.tmpl.defines.get(name) {
                Some(l) => l,
                None => {
                    return Err(self.errorf(format!(
                        "template {} not defined",
                        super::fmt::quote_go(name)
                    )));
                }
            }
        };
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )));
        }
        let dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Nil,
        };
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$".to_string(), dot.clone())]);
        let saved_name = std::mem::replace(&mut self.name, name);
        self.depth += 1;
        let r = self.walk_list(&dot, list);
        self.depth -= 1;
        self.name = saved_name;
        self.vars = saved_vars;
        r
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t PipeNode) -> R<Value> {
        self.at(Ctx::Pipe(pipe));
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for v in &pipe.decl {
            if pipe.is_assign {
                self.set_var(v, value.clone());
            } else {
                self.vars.push((v.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&mut self, args: &'t [Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'t CommandNode,
        final_: Option<Value>,
    ) -> R<Value> {
        self.step()?;
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at(Ctx::Arg(first));
                return self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, final_);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, final_),
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, name, first, Ctx::Cmd(cmd), &cmd.args, final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, &cmd.args, final_),
            _ => {}
        }
        self.at(Ctx::Arg(first));
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { num, .. } => self.ideal_constant(num),
            Arg::Str { text, .. } => Ok(Value::Str(text.clone())),
            other => Err(self.errorf(format!(
                "can't evaluate command {}",
                super::fmt::quote_go(&other.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, n: &Number) -> R<Value> {
        let t = &n.text;
        let is_hex_int = t.len() > 2
            && t.starts_with('0')
            && (t.as_bytes()[1] | 0x20) == b'x'
            && !t.contains(['p', 'P']);
        if n.is_float && !is_hex_int && !n.is_char && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Value::Nil)
    }

    fn var_value(&mut self, name: &str) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn eval_variable(
        &mut self,
        dot: &Value,
        var: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at(Ctx::Arg(var));
        let Arg::Variable { idents, .. } = var else {
            return Ok(Value::Nil);
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            if !args.is_empty() {
                self.not_a_function(args, &final_)?;
            } else if final_.is_some() {
                return Err(self.errorf(format!("can't give argument to non-function {var}")));
            }
            return Ok(value);
        }
        self.eval_field_chain(dot, value, var, &idents[1..], args, final_)
    }

    fn eval_chain(
        &mut self,
        dot: &Value,
        chain: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at(Ctx::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return Ok(Value::Nil);
        };
        if let Arg::Nil { .. } = node.as_ref() {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        let recv = self.eval_arg(dot, None, node)?;
        self.eval_field_chain(dot, recv, chain, fields, args, final_)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let n = idents.len();
        for id in &idents[..n - 1] {
            receiver = self.eval_field(dot, id, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, final_, receiver)
    }

    fn eval_field(
        &mut self,
        _dot: &Value,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
        receiver: Value,
    ) -> R<Value> {
        self.at(Ctx::Arg(node));
        let has_args = args.len() > 1 || final_.is_some();
        match &receiver {
            Value::Nil => Ok(Value::Nil),
            Value::Labels => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                Ok(Value::Str((self.data.labels)(name).unwrap_or_default()))
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                Ok(m.get(name).cloned().unwrap_or(Value::Nil))
            }
            v => Err(self.errorf(format!(
                "can't evaluate field {name} in type {}",
                v.type_name()
            ))),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        ident: &'t Arg,
        call_ctx: Ctx<'t>,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at(Ctx::Arg(ident));
        let Some(sig) = funcs::lookup(name) else {
            return Err(self.errorf(format!(
                "{} is not a defined function",
                super::fmt::quote_go(name)
            )));
        };
        let args: &'t [Arg] = if args.is_empty() { args } else { &args[1..] };
        let num_in = args.len() + final_.is_some() as usize;
        let num_fixed = sig.params.len();
        if sig.variadic.is_some() {
            if num_in < num_fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {num_fixed} got {}",
                    args.len()
                )));
            }
        } else if num_in != num_fixed {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {num_fixed} got {num_in}"
            )));
        }
        if name == "and" || name == "or" {
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, Some(P::Val), a)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in + 1);
        for (k, a) in args.iter().enumerate() {
            let typ = if k < num_fixed {
                sig.params[k]
            } else {
                sig.variadic.unwrap_or(P::Any)
            };
            argv.push(self.eval_arg(dot, Some(typ), a)?);
        }
        if let Some(f) = final_ {
            let typ = match sig.variadic {
                Some(rest) if num_in > num_fixed => rest,
                _ => sig.params[num_in - 1],
            };
            argv.push(self.validate_type(f, Some(typ))?);
        }
        if name == "call" {
            let callee = match args.first() {
                Some(a) => a.to_string(),
                None => match argv.first() {
                    Some(Value::Str(s)) => s.clone(),
                    Some(v) => format!("<{} Value>", v.type_name()),
                    None => String::new(),
                },
            };
            argv.insert(0, Value::Str(callee));
        }
        let cx = CallCtx {
            labels: self.data.labels,
            line: self.data.line,
            timestamp_ns: self.data.timestamp_ns,
            now_ns: self.data.now_ns,
        };
        match funcs::call(name, &argv, &cx) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at(call_ctx);
                Err(self.errorf(format!("error calling {name}: {e}")))
            }
        }
    }

    fn validate_type(&mut self, v: Value, typ: Option<P>) -> R<Value> {
        let Some(typ) = typ else {
            return Ok(v);
        };
        if let Value::Nil = v {
            if typ.can_be_nil() {
                return Ok(Value::Nil);
            }
            return Err(self.errorf(format!("invalid value; expected {}", typ.go_name())));
        }
        let ok = match typ {
            P::Any | P::Val => true,
            P::Str => matches!(v, Value::Str(_)),
            P::Int => matches!(v, Value::Int(_)),
            P::Float => matches!(v, Value::Float(_)),
            P::Time => matches!(v, Value::Time(_)),
        };
        if !ok {
            return Err(self.errorf(format!(
                "wrong type for value; expected {}; got {}",
                typ.go_name(),
                v.type_name()
            )));
        }
        Ok(v)
    }

    /// Go's `evalArg`; `typ` `None` is an untyped context (a chain's
    /// receiver).
    fn eval_arg(&mut self, dot: &Value, typ: Option<P>, n: &'t Arg) -> R<Value> {
        self.at(Ctx::Arg(n));
        match n {
            Arg::Dot { .. } => return self.validate_type(dot.clone(), typ),
            Arg::Nil { .. } => {
                return match typ {
                    None => Ok(Value::Nil),
                    Some(t) if t.can_be_nil() => Ok(Value::Nil),
                    Some(t) => Err(self.errorf(format!("cannot assign nil to {}", t.go_name()))),
                };
            }
            Arg::Field { idents, .. } => {
                let v = self.eval_field_chain(
                    dot,
                    dot.clone(),
                    n,
                    idents,
                    std::slice::from_ref(n),
                    None,
                )?;
                return self.validate_type(v, typ);
            }
            Arg::Variable { .. } => {
                let v = self.eval_variable(dot, n, &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate_type(v, typ);
            }
            Arg::Identifier { name, .. } => {
                let v = self.eval_function(dot, name, n, Ctx::Arg(n), &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain(dot, n, &[], None)?;
                return self.validate_type(v, typ);
            }
            _ => {}
        }
        match typ {
            Some(P::Str) => match n {
                Arg::Str { text, .. } => Ok(Value::Str(text.clone())),
                _ => Err(self.errorf(format!("expected string; found {n}"))),
            },
            Some(P::Int) => match n {
                Arg::Number { num, .. } if num.is_int => Ok(Value::Int(num.int)),
                _ => Err(self.errorf(format!("expected integer; found {n}"))),
            },
            Some(P::Float) => match n {
                Arg::Number { num, .. } if num.is_float => Ok(Value::Float(num.float)),
                _ => Err(self.errorf(format!("expected float; found {n}"))),
            },
            Some(P::Time) => {
                Err(self.errorf(format!("can't handle {n} for arg of type time.Time")))
            }
            None | Some(P::Any) | Some(P::Val) => match n {
                Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
                Arg::Number { num, .. } => self.ideal_constant(num),
                Arg::Str { text, .. } => Ok(Value::Str(text.clone())),
                other => Err(self.errorf(format!(
                    "can't handle assignment of {other} to empty interface argument"
                ))),
            },
        }
    }
}
