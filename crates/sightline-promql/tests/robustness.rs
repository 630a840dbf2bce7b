//! No input makes the parser panic, and whatever it accepts prints to text
//! that parses back to the same tree. Inputs are prefixes and mutations of
//! the promqltest corpus plus random strings, from a fixed seed.

use std::path::PathBuf;

use sightline_promql::parse;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "@",
    "\"",
    "'",
    "`",
    "\\",
    "+",
    "-",
    "*",
    "/",
    "^",
    "%",
    "=",
    "==",
    "!=",
    "=~",
    "!~",
    "<",
    ">",
    "<=",
    ">=",
    "#",
    "\n",
    " ",
    "0",
    "1",
    "0x",
    "5m",
    "1h30m",
    ".",
    "e",
    "Inf",
    "NaN",
    "a",
    "foo",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "bool",
    "offset",
    "sum",
    "topk",
    "rate",
    "start()",
    "end()",
    "é",
    "\u{0}",
];

fn corpus_queries() -> Vec<String> {
    let dir = manifest_dir().join("../../compat-tests/corpus/promqltest");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("corpus present").flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            // `eval* instant at <t> <expr>` / `eval* range from <a> to <b> step <s> <expr>`.
            let skip = match (words.first(), words.get(1)) {
                (Some(w), Some(&"instant")) if w.starts_with("eval") => 4,
                (Some(w), Some(&"range")) if w.starts_with("eval") => 8,
                _ => continue,
            };
            if words.len() > skip {
                out.push(words[skip..].join(" "));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<String> = s.chars().map(String::from).collect();
    for _ in 0..=rng.below(3) {
        let pos = rng.below(chars.len() + 1);
        let piece = PIECES[rng.below(PIECES.len())].to_string();
        match rng.below(3) {
            0 if pos < chars.len() => chars[pos] = piece,
            1 if pos < chars.len() => {
                chars.remove(pos);
            }
            _ => chars.insert(pos, piece),
        }
    }
    chars.concat()
}

/// Parses `q`; if it parses, the printed form must parse to an equal tree.
fn exercise(q: &str) -> bool {
    let Ok(ast) = parse(q) else {
        return false;
    };
    let printed = ast.to_string();
    let again = parse(&printed)
        .unwrap_or_else(|e| panic!("printed form of {q:?} does not parse: {printed:?}: {e}"));
    if !printed.contains("NaN") {
        assert_eq!(again, ast, "round trip of {q:?} via {printed:?}");
    }
    assert_eq!(
        again.to_string(),
        printed,
        "printing is not stable for {q:?}"
    );
    true
}

#[test]
fn garbled_input_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let queries = corpus_queries();
    assert!(queries.len() > 100);
    let (mut tried, mut accepted) = (0, 0);
    for _ in 0..1500 {
        let q = &queries[rng.below(queries.len())];
        // A prefix, cut at a character boundary.
        let cut = q
            .char_indices()
            .map(|(i, _)| i)
            .nth(rng.below(q.chars().count() + 1))
            .unwrap_or(q.len());
        for input in [q[..cut].to_string(), mutate(&mut rng, q)] {
            tried += 1;
            accepted += usize::from(exercise(&input));
        }
    }
    for _ in 0..1000 {
        let n = rng.below(12);
        let input: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        tried += 1;
        accepted += usize::from(exercise(&input));
    }
    println!("{tried} inputs, {accepted} accepted");
}

/// This crate's directory in the checkout under test: cargo sets it when it
/// runs tests (a build shared between checkouts bakes in another one).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}
