//! The lexer: Go's text/template/parse/lex.go, token for token, so that the
//! parser sees the same items and reports the same errors.

/// Kinds of tokens. Keywords come after `Keyword` as in Go, which matters
/// for how they print in error messages (`<end>` rather than `"end"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemKind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemKind::Block
                | ItemKind::Break
                | ItemKind::Continue
                | ItemKind::Dot
                | ItemKind::Define
                | ItemKind::Else
                | ItemKind::End
                | ItemKind::If
                | ItemKind::Nil
                | ItemKind::Range
                | ItemKind::Template
                | ItemKind::With
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub kind: ItemKind,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl std::fmt::Display for Item {
    /// Go's `item.String()`, used in "unexpected X in Y" messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ItemKind::Eof => write!(f, "EOF"),
            ItemKind::Error => write!(f, "{}", self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            _ => {
                if self.val.chars().count() > 10 {
                    let head: String = self.val.chars().take(10).collect();
                    write!(f, "{}...", crate::template::fmt::quote_go(&head))
                } else {
                    write!(f, "{}", crate::template::fmt::quote_go(&self.val))
                }
            }
        }
    }
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Go's `isAlphaNumeric`: `_`, letters and digits (Rust's Unicode classes
/// stand in for Go's `unicode.IsLetter`/`IsDigit`).
fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

fn left_trim_len(s: &str) -> usize {
    s.len() - s.trim_start_matches(is_space).len()
}

fn right_trim_len(s: &str) -> usize {
    s.len() - s.trim_end_matches(is_space).len()
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: i64,
    items: Vec<Item>,
}

enum State {
    Text,
    Comment,
    LeftDelim,
    RightDelim,
    InsideAction,
    Done,
}

/// Lexes the whole input. The token list ends with an `Eof` or an `Error`
/// item; the parser reads it in order, so a parse error before the lexical
/// error is reported first, exactly as with Go's on-demand lexer.
pub(crate) fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        items: Vec::new(),
    };
    let mut state = State::Text;
    loop {
        state = match state {
            State::Text => l.lex_text(),
            State::LeftDelim => l.lex_left_delim(),
            State::Comment => l.lex_comment(),
            State::RightDelim => l.lex_right_delim(),
            State::InsideAction => l.lex_inside_action(),
            State::Done => break,
        };
    }
    l.items
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn backup(&mut self, c: char) {
        self.pos -= c.len_utf8();
        if c == '\n' {
            self.line -= 1;
        }
    }

    fn emit(&mut self, kind: ItemKind) {
        let val = self.input[self.start..self.pos].to_string();
        self.items.push(Item {
            kind,
            pos: self.start,
            val,
            line: self.start_line,
        });
        self.ignore();
    }

    fn ignore(&mut self) {
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&mut self, msg: String) -> State {
        self.items.push(Item {
            kind: ItemKind::Error,
            pos: self.start,
            val: msg,
            line: self.start_line,
        });
        State::Done
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim(rest) && rest[2..].starts_with(RIGHT_DELIM) {
            return (true, true);
        }
        (rest.starts_with(RIGHT_DELIM), false)
    }

    fn lex_text(&mut self) -> State {
        if let Some(x) = self.rest().find(LEFT_DELIM) {
            if x > 0 {
                let delim_at = self.pos + x;
                let mut trim = 0;
                if has_left_trim(&self.input[delim_at + LEFT_DELIM.len()..]) {
                    trim = right_trim_len(&self.input[self.start..delim_at]);
                }
                let end = delim_at - trim;
                let text = &self.input[self.start..end];
                let item = Item {
                    kind: ItemKind::Text,
                    pos: self.start,
                    val: text.to_string(),
                    line: self.start_line,
                };
                self.line += self.input[self.start..delim_at].matches('\n').count();
                self.pos = delim_at;
                self.start = self.pos;
                self.start_line = self.line;
                if !item.val.is_empty() {
                    self.items.push(item);
                }
            }
            return State::LeftDelim;
        }
        self.line += self.rest().matches('\n').count();
        self.pos = self.input.len();
        if self.pos > self.start {
            let item = Item {
                kind: ItemKind::Text,
                pos: self.start,
                val: self.input[self.start..].to_string(),
                line: self.start_line,
            };
            self.items.push(item);
            self.start = self.pos;
            self.start_line = self.line;
        }
        self.emit(ItemKind::Eof);
        State::Done
    }

    fn skip(&mut self, n: usize) {
        self.line += self.input[self.pos..self.pos + n].matches('\n').count();
        self.pos += n;
    }

    fn lex_left_delim(&mut self) -> State {
        self.pos += LEFT_DELIM.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.skip(after);
            self.start = self.pos;
            self.start_line = self.line;
            return State::Comment;
        }
        let item = Item {
            kind: ItemKind::LeftDelim,
            pos: self.start,
            val: LEFT_DELIM.to_string(),
            line: self.start_line,
        };
        self.items.push(item);
        self.skip(after);
        self.start = self.pos;
        self.start_line = self.line;
        self.paren_depth = 0;
        State::InsideAction
    }

    fn lex_comment(&mut self) -> State {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            return self.error("unclosed comment".into());
        };
        self.skip(x + RIGHT_COMMENT.len());
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        if trim {
            self.skip(2);
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            let n = left_trim_len(self.rest());
            self.skip(n);
        }
        self.start = self.pos;
        self.start_line = self.line;
        State::Text
    }

    fn lex_right_delim(&mut self) -> State {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.skip(2);
            self.start = self.pos;
            self.start_line = self.line;
        }
        self.pos += RIGHT_DELIM.len();
        self.emit(ItemKind::RightDelim);
        if trim {
            let n = left_trim_len(self.rest());
            self.skip(n);
            self.start = self.pos;
            self.start_line = self.line;
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return State::RightDelim;
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.backup(c);
                return self.lex_space();
            }
            '=' => self.emit(ItemKind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(ItemKind::Declare);
            }
            '|' => self.emit(ItemKind::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_field_or_variable(ItemKind::Variable),
            '\'' => return self.lex_char(),
            '.' => match self.peek() {
                Some(d) if d.is_ascii_digit() => {
                    self.backup('.');
                    return self.lex_number();
                }
                _ => return self.lex_field_or_variable(ItemKind::Field),
            },
            '+' | '-' | '0'..='9' => {
                self.backup(c);
                return self.lex_number();
            }
            c if is_alnum(c) => {
                self.backup(c);
                return self.lex_identifier();
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(ItemKind::LeftParen);
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error(format!("unexpected right paren {}", go_u(c)));
                }
                self.emit(ItemKind::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemKind::Char),
            c => return self.error(format!("unrecognized character in action: {}", go_u(c))),
        }
        State::InsideAction
    }

    fn lex_space(&mut self) -> State {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            n += 1;
        }
        let before = &self.input[self.pos - 1..];
        if has_right_trim(before) && before[2..].starts_with(RIGHT_DELIM) {
            // The last space belongs to " -}}".
            self.pos -= 1;
            if self.input.as_bytes()[self.pos] == b'\n' {
                self.line -= 1;
            }
            if n == 1 {
                return State::InsideAction;
            }
        }
        self.emit(ItemKind::Space);
        State::InsideAction
    }

    fn lex_identifier(&mut self) -> State {
        while let Some(c) = self.peek() {
            if !is_alnum(c) {
                break;
            }
            self.next();
        }
        if !self.at_terminator() {
            let c = self.next().unwrap_or('\0');
            return self.error(format!("bad character {}", go_u(c)));
        }
        let word = &self.input[self.start..self.pos];
        let kind = match word {
            "block" => ItemKind::Block,
            "break" => ItemKind::Break,
            "continue" => ItemKind::Continue,
            "define" => ItemKind::Define,
            "else" => ItemKind::Else,
            "end" => ItemKind::End,
            "if" => ItemKind::If,
            "range" => ItemKind::Range,
            "nil" => ItemKind::Nil,
            "template" => ItemKind::Template,
            "with" => ItemKind::With,
            "true" | "false" => ItemKind::Bool,
            _ => ItemKind::Identifier,
        };
        self.emit(kind);
        State::InsideAction
    }

    fn lex_field_or_variable(&mut self, kind: ItemKind) -> State {
        if self.at_terminator() {
            self.emit(if kind == ItemKind::Variable {
                ItemKind::Variable
            } else {
                ItemKind::Dot
            });
            return State::InsideAction;
        }
        while let Some(c) = self.peek() {
            if !is_alnum(c) {
                break;
            }
            self.next();
        }
        if !self.at_terminator() {
            let c = self.next().unwrap_or('\0');
            return self.error(format!("bad character {}", go_u(c)));
        }
        self.emit(kind);
        State::InsideAction
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    fn lex_char(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => {
                        return self.error("unterminated character constant".into());
                    }
                    _ => {}
                },
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(ItemKind::CharConstant);
        State::InsideAction
    }

    fn lex_quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => return self.error("unterminated quoted string".into()),
                    _ => {}
                },
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(ItemKind::String);
        State::InsideAction
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(ItemKind::RawString);
        State::InsideAction
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!(
                "bad number syntax: {}",
                crate::template::fmt::quote_go(&text)
            ));
        }
        if let Some('+' | '-') = self.peek() {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!(
                    "bad number syntax: {}",
                    crate::template::fmt::quote_go(&text)
                ));
            }
            self.emit(ItemKind::Complex);
            return State::InsideAction;
        }
        self.emit(ItemKind::Number);
        State::InsideAction
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }
}

/// Go's `%#U`: `U+0029 ')'`.
pub(crate) fn go_u(c: char) -> String {
    crate::template::fmt::format_unicode(c as u32, true)
}
