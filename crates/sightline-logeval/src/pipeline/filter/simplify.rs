//! Loki's rewrite of regular expressions into literal matchers
//! (`RegexSimplifier`): a reader of Go's regexp syntax far enough to
//! recognise exactly the shapes Loki rewrites, mirroring the alternation
//! factoring of Go's parser that decides them, and the rewrite of those
//! trees into substring, equality and "not empty" filters. Anything else
//! is left to the regex engine.

use super::{Filter, contains_filter, equal_filter, simple_lower};

/// The part of Go's regexp syntax tree the rewrites look at.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    EmptyMatch,
    /// Characters, and whether they are case-folded (folded characters are
    /// kept in Go's canonical form, the smallest of their case orbit).
    Literal(Vec<char>, bool),
    AnyCharNotNl,
    /// Anything the rewrites give up on (classes, anchors, `(?s).`, ...).
    Other,
    Star(Box<Node>),
    Plus(Box<Node>),
    Quest(Box<Node>),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
}

/// A recursive-descent reader of Go's syntax for the rewritable subset.
/// Returns `None` on anything it does not model exactly, which sends the
/// expression to the regex engine (always correct, only slower) — except
/// that for shapes Loki rewrites, giving up would change the answer, so
/// every such shape is modelled.
pub(super) struct GoParser<'a> {
    s: &'a [char],
    i: usize,
    fold: bool,
    dot_nl: bool,
}

impl GoParser<'_> {
    pub(super) fn parse(re: &str) -> Option<Node> {
        let chars: Vec<char> = re.chars().collect();
        let mut p = GoParser {
            s: &chars,
            i: 0,
            fold: false,
            dot_nl: false,
        };
        let n = p.alternation()?;
        (p.i == chars.len()).then_some(n)
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn alternation(&mut self) -> Option<Node> {
        let mut alts = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.i += 1;
            alts.push(self.concat()?);
        }
        Some(if alts.len() == 1 {
            alts.pop()?
        } else {
            factor_alternation(alts)
        })
    }

    fn concat(&mut self) -> Option<Node> {
        let saved = (self.fold, self.dot_nl);
        let mut items: Vec<Node> = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            if let Some(node) = self.piece()? {
                push_concat(&mut items, node);
            }
        }
        // Flags set with `(?i)` last to the end of the group.
        let _ = saved;
        Some(match items.len() {
            0 => Node::EmptyMatch,
            1 => items.pop()?,
            _ => Node::Concat(items),
        })
    }

    /// One atom and its repetition; `Ok(None)`-like `Some(None)` for a flag
    /// group that produces nothing.
    fn piece(&mut self) -> Option<Option<Node>> {
        let atom = match self.atom()? {
            Some(a) => a,
            None => return Some(None),
        };
        let mut node = atom;
        loop {
            match self.peek() {
                Some(op @ ('*' | '+' | '?')) => {
                    self.i += 1;
                    if self.peek() == Some('?') {
                        self.i += 1;
                    }
                    if matches!(node, Node::Star(_) | Node::Plus(_) | Node::Quest(_)) {
                        // Go refuses `a**`; the regex engine will report it.
                        return None;
                    }
                    node = match op {
                        '*' => Node::Star(Box::new(node)),
                        '+' => Node::Plus(Box::new(node)),
                        _ => Node::Quest(Box::new(node)),
                    };
                }
                Some('{') if self.is_repeat() => return None,
                _ => break,
            }
        }
        Some(Some(node))
    }

    /// Whether a `{` here starts a repetition (`{n}`, `{n,}`, `{n,m}`).
    fn is_repeat(&self) -> bool {
        let rest: String = self.s[self.i..].iter().take(24).collect();
        let Some(end) = rest.find('}') else {
            return false;
        };
        let inner = &rest[1..end];
        let (a, b) = inner.split_once(',').unwrap_or((inner, "0"));
        !a.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    }

    fn lit(&self, c: char) -> Node {
        if self.fold {
            Node::Literal(vec![min_fold(c)], has_fold(c) || self.fold)
        } else {
            Node::Literal(vec![c], false)
        }
    }

    fn atom(&mut self) -> Option<Option<Node>> {
        let c = self.peek()?;
        self.i += 1;
        Some(Some(match c {
            '.' => {
                if self.dot_nl {
                    Node::Other
                } else {
                    Node::AnyCharNotNl
                }
            }
            '^' | '$' | '[' => return None,
            '\\' => {
                let n = self.peek()?;
                self.i += 1;
                match n {
                    'n' => self.lit('\n'),
                    't' => self.lit('\t'),
                    'r' => self.lit('\r'),
                    'f' => self.lit('\u{c}'),
                    'v' => self.lit('\u{b}'),
                    'a' => self.lit('\u{7}'),
                    c if c.is_ascii_punctuation() => self.lit(c),
                    _ => return None,
                }
            }
            '(' => return self.group(),
            '{' => self.lit('{'),
            c => self.lit(c),
        }))
    }

    fn group(&mut self) -> Option<Option<Node>> {
        if self.peek() == Some('?') {
            self.i += 1;
            match self.peek()? {
                'P' | '<' => {
                    if self.peek() == Some('P') {
                        self.i += 1;
                    }
                    if self.peek() != Some('<') {
                        return None;
                    }
                    while self.peek()? != '>' {
                        self.i += 1;
                    }
                    self.i += 1;
                    return self.group_body();
                }
                _ => {
                    // Flags: `(?i)`, `(?-i)`, `(?i:...)`, `(?:...)`.
                    let (mut fold, mut dot_nl) = (self.fold, self.dot_nl);
                    let mut neg = false;
                    loop {
                        match self.peek()? {
                            'i' => fold = !neg,
                            's' => dot_nl = !neg,
                            'm' | 'U' => return None,
                            '-' => neg = true,
                            ':' => {
                                self.i += 1;
                                let saved = (self.fold, self.dot_nl);
                                (self.fold, self.dot_nl) = (fold, dot_nl);
                                let body = self.group_body();
                                (self.fold, self.dot_nl) = saved;
                                return body;
                            }
                            ')' => {
                                self.i += 1;
                                (self.fold, self.dot_nl) = (fold, dot_nl);
                                return Some(None);
                            }
                            _ => return None,
                        }
                        self.i += 1;
                    }
                }
            }
        }
        self.group_body()
    }

    /// The inside of a group up to its `)`; captures are dropped, as Loki
    /// clears them before rewriting.
    fn group_body(&mut self) -> Option<Option<Node>> {
        let saved = (self.fold, self.dot_nl);
        let inner = self.alternation()?;
        (self.fold, self.dot_nl) = saved;
        if self.peek() != Some(')') {
            return None;
        }
        self.i += 1;
        Some(Some(inner))
    }
}

/// Whether a character has other cases (so `(?i)` changes it).
fn has_fold(c: char) -> bool {
    simple_lower(c) != c || c.to_uppercase().next() != Some(c)
}

/// Go's `minFoldRune`: the smallest character of the case orbit.
fn min_fold(c: char) -> char {
    let upper = {
        let mut u = c.to_uppercase();
        match (u.next(), u.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    };
    let lower = simple_lower(c);
    let mut m = c.min(upper).min(lower);
    // The two orbits with a third member below the others' cases.
    if matches!(c, 'k' | 'K' | '\u{212A}') {
        m = 'K';
    }
    if matches!(c, 's' | 'S' | '\u{17F}') {
        m = 'S';
    }
    m
}

/// Adds a piece to a concatenation, merging literals of equal folding as
/// Go's parser does.
fn push_concat(items: &mut Vec<Node>, node: Node) {
    match node {
        Node::Concat(sub) => {
            for n in sub {
                push_concat(items, n);
            }
        }
        Node::Literal(chars, fold) => {
            if let Some(Node::Literal(prev, pf)) = items.last_mut()
                && *pf == fold
            {
                prev.extend(chars);
                return;
            }
            items.push(Node::Literal(chars, fold));
        }
        n => items.push(n),
    }
}

/// The literal a branch starts with, and its folding.
fn leading_string(n: &Node) -> Option<(&[char], bool)> {
    match n {
        Node::Literal(c, f) => Some((c, *f)),
        Node::Concat(sub) => match sub.first() {
            Some(Node::Literal(c, f)) => Some((c, *f)),
            _ => None,
        },
        _ => None,
    }
}

/// The branch without its first `k` literal characters.
fn remove_leading(n: Node, k: usize) -> Node {
    match n {
        Node::Literal(c, f) => {
            if c.len() == k {
                Node::EmptyMatch
            } else {
                Node::Literal(c[k..].to_vec(), f)
            }
        }
        Node::Concat(mut sub) => {
            if let Some(Node::Literal(c, f)) = sub.first().cloned() {
                if c.len() == k {
                    sub.remove(0);
                } else {
                    sub[0] = Node::Literal(c[k..].to_vec(), f);
                }
            }
            match sub.len() {
                0 => Node::EmptyMatch,
                1 => sub.pop().unwrap_or(Node::EmptyMatch),
                _ => Node::Concat(sub),
            }
        }
        n => n,
    }
}

/// Go's alternation factoring (`parser.factor`), the rounds that decide
/// Loki's rewrites: common literal prefixes are factored out (`foo|foobar`
/// is `foo(?:|bar)`), and runs of single characters become a character
/// class (which nothing rewrites).
fn factor_alternation(alts: Vec<Node>) -> Node {
    // Flatten nested alternations first (`a|(b|c)` is one alternation).
    let mut flat = Vec::new();
    for a in alts {
        match a {
            Node::Alternate(sub) => flat.extend(sub),
            n => flat.push(n),
        }
    }
    // Round 1: common literal prefixes, over runs of adjacent branches.
    let mut out: Vec<Node> = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        let Some((first, fold)) = leading_string(&flat[i]).map(|(c, f)| (c.to_vec(), f)) else {
            out.push(flat[i].clone());
            i += 1;
            continue;
        };
        let mut prefix = first;
        let mut j = i + 1;
        while j < flat.len() {
            let Some((next, nf)) = leading_string(&flat[j]) else {
                break;
            };
            if nf != fold {
                break;
            }
            let common = prefix.iter().zip(next).take_while(|(a, b)| a == b).count();
            if common == 0 {
                break;
            }
            prefix.truncate(common);
            j += 1;
        }
        if j - i == 1 {
            out.push(flat[i].clone());
        } else {
            let k = prefix.len();
            let suffixes: Vec<Node> = flat[i..j]
                .iter()
                .cloned()
                .map(|n| remove_leading(n, k))
                .collect();
            let rest = factor_alternation(suffixes);
            let mut items = vec![Node::Literal(prefix, fold)];
            push_concat(&mut items, rest);
            out.push(Node::Concat(items));
        }
        i = j;
    }
    // Round 3: runs of single characters (or `.`) become a class.
    let is_char =
        |n: &Node| matches!(n, Node::Literal(c, _) if c.len() == 1) || *n == Node::AnyCharNotNl;
    let mut merged: Vec<Node> = Vec::new();
    let mut i = 0;
    while i < out.len() {
        let mut j = i;
        while j < out.len() && is_char(&out[j]) {
            j += 1;
        }
        if j - i >= 2 {
            merged.push(Node::Other);
            i = j;
        } else {
            merged.push(out[i].clone());
            i += 1;
        }
    }
    // Round 4: runs of empty branches collapse into one.
    merged.dedup_by(|a, b| *a == Node::EmptyMatch && *b == Node::EmptyMatch);
    if merged.len() == 1 {
        merged.pop().unwrap_or(Node::EmptyMatch)
    } else {
        Node::Alternate(merged)
    }
}

fn lit_string(c: &[char]) -> String {
    c.iter().collect()
}

/// Loki's `RegexSimplifier.Simplify`.
pub(super) fn simplify(n: &Node, is_label: bool) -> Option<Filter> {
    match n {
        Node::Alternate(sub) => {
            let mut f = simplify(sub.first()?, is_label)?;
            for s in &sub[1..] {
                f = f.or(simplify(s, is_label)?);
            }
            Some(f)
        }
        Node::Concat(sub) => simplify_concat(sub, Vec::new()),
        Node::Literal(c, fold) => Some(if is_label {
            equal_filter(&lit_string(c), *fold)
        } else {
            contains_filter(&lit_string(c), *fold)
        }),
        Node::Star(s) if **s == Node::AnyCharNotNl => Some(Filter::True),
        Node::Plus(s) if **s == Node::AnyCharNotNl => Some(Filter::Exists),
        Node::EmptyMatch => Some(Filter::True),
        _ => None,
    }
}

/// Loki's `simplifyConcat`: at most three pieces, one literal, `.*`
/// around it, or a literal followed by alternatives.
fn simplify_concat(sub: &[Node], mut base: Vec<char>) -> Option<Filter> {
    let sub: Vec<&Node> = sub.iter().filter(|n| **n != Node::EmptyMatch).collect();
    if sub.len() > 3 {
        return None;
    }
    let mut curr: Option<Filter> = None;
    let mut literals = 0;
    let mut base_fold = false;
    let mut have_base = !base.is_empty();
    for s in sub {
        match s {
            Node::Literal(c, fold) => {
                if literals != 0 {
                    return None;
                }
                literals += 1;
                base.extend(c);
                base_fold = *fold;
                have_base = true;
            }
            Node::Alternate(alts) if have_base => {
                curr = Some(simplify_concat_alternate(alts, &base, curr, base_fold)?);
            }
            Node::Star(x) if **x == Node::AnyCharNotNl => {}
            _ => return None,
        }
    }
    if curr.is_some() {
        return curr;
    }
    if have_base {
        return Some(contains_filter(&lit_string(&base), base_fold));
    }
    None
}

fn chain_or(curr: Option<Filter>, f: Filter) -> Filter {
    match curr {
        None => f,
        Some(c) => c.or(f),
    }
}

/// Loki's `simplifyConcatAlternate`.
fn simplify_concat_alternate(
    alts: &[Node],
    literal: &[char],
    mut curr: Option<Filter>,
    base_fold: bool,
) -> Option<Filter> {
    for alt in alts {
        let alt_fold = matches!(alt, Node::Literal(_, true));
        if !base_fold && alt_fold {
            return None;
        }
        let f = match alt {
            Node::EmptyMatch => contains_filter(&lit_string(literal), base_fold),
            Node::Literal(c, _) => {
                let mut s = literal.to_vec();
                s.extend(c);
                contains_filter(&lit_string(&s), base_fold)
            }
            Node::Concat(sub) => simplify_concat(sub, literal.to_vec())?,
            Node::Star(x) if **x == Node::AnyCharNotNl => {
                contains_filter(&lit_string(literal), base_fold)
            }
            _ => return None,
        };
        curr = Some(chain_or(curr, f));
    }
    curr
}
