//! CEL source → tokens: identifiers, keywords, numbers (int, uint, double, hex), strings and bytes with every
//! escape cel-spec defines (raw, triple-quoted), punctuation and operators.

use crate::parser::SyntaxError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Int(i64),
    Uint(u64),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// `9223372036854775808`: valid only negated, as `-9223372036854775808`.
    MinIntMagnitude,
    /// Punctuation and operators, and the reserved literals `true`, `false`, `null`, `in`.
    Sym(&'static str),
    Eof,
}

impl Tok {
    pub(crate) fn describe(&self, source: &[char], start: usize, end: usize) -> String {
        match self {
            Tok::Eof => "<EOF>".to_owned(),
            _ => source[start..end].iter().collect(),
        }
    }
}

/// A token and its character span.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

const SYMBOLS: [&str; 28] = [
    "==", "!=", "<=", ">=", "&&", "||", ".?", "[?", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ".", ",", "(",
    ")", "[", "]", "{", "}", "=", "|",
];

pub(crate) fn lex(source: &[char]) -> Result<Vec<Token>, SyntaxError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < source.len() {
        let c = source[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && source.get(i + 1) == Some(&'/') {
            while i < source.len() && source[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        // String and bytes literals, with optional r/R (raw) and b/B prefixes in either order.
        let mut prefix_len = 0;
        let (mut raw, mut bytes) = (false, false);
        while prefix_len < 2 {
            match source.get(i + prefix_len) {
                Some('r' | 'R') if !raw => raw = true,
                Some('b' | 'B') if !bytes => bytes = true,
                _ => break,
            }
            prefix_len += 1;
        }
        if matches!(source.get(i + prefix_len), Some('"' | '\'')) {
            let (text, end) = lex_string(source, i + prefix_len, raw)?;
            i = end;
            let tok = if bytes {
                Tok::Bytes(text.into_iter().flat_map(|unit| unit.into_bytes()).collect())
            } else {
                Tok::Str(text.into_iter().map(StrUnit::into_char).collect())
            };
            tokens.push(Token { tok, start, end });
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            while i < source.len() && (source[i].is_ascii_alphanumeric() || source[i] == '_') {
                i += 1;
            }
            let word: String = source[start..i].iter().collect();
            let tok = match word.as_str() {
                "true" => Tok::Sym("true"),
                "false" => Tok::Sym("false"),
                "null" => Tok::Sym("null"),
                "in" => Tok::Sym("in"),
                _ => Tok::Ident(word),
            };
            tokens.push(Token { tok, start, end: i });
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && source.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let (tok, end) = lex_number(source, i)?;
            tokens.push(Token { tok, start, end });
            i = end;
            continue;
        }
        let rest: String = source[i..source.len().min(i + 2)].iter().collect();
        let symbol = SYMBOLS.iter().find(|symbol| rest.starts_with(**symbol));
        match symbol {
            // `x.?y` and `x[?y]` only; a `?` after `.` or `[` in other contexts is a ternary, never adjacent.
            Some(symbol) => {
                tokens.push(Token {
                    tok: Tok::Sym(symbol),
                    start,
                    end: i + symbol.len(),
                });
                i += symbol.len();
            }
            None => {
                return Err(SyntaxError {
                    offset: i,
                    message: format!("Syntax error: token recognition error at: '{c}'"),
                })
            }
        }
    }
    tokens.push(Token {
        tok: Tok::Eof,
        start: source.len(),
        end: source.len(),
    });
    Ok(tokens)
}

/// A decoded unit of a string literal: a character, or a raw byte from `\x`/octal escapes in bytes literals.
enum StrUnit {
    Char(char),
    Byte(u8),
}

impl StrUnit {
    fn into_bytes(self) -> Vec<u8> {
        match self {
            StrUnit::Char(c) => c.to_string().into_bytes(),
            StrUnit::Byte(b) => vec![b],
        }
    }
    fn into_char(self) -> char {
        match self {
            StrUnit::Char(c) => c,
            StrUnit::Byte(b) => char::from(b),
        }
    }
}

fn lex_string(source: &[char], start: usize, raw: bool) -> Result<(Vec<StrUnit>, usize), SyntaxError> {
    let quote = source[start];
    let triple = source.get(start + 1) == Some(&quote) && source.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = Vec::new();
    let unterminated = || SyntaxError {
        offset: start,
        message: "Syntax error: token recognition error at: 'unterminated string'".to_owned(),
    };
    loop {
        let Some(&c) = source.get(i) else {
            return Err(unterminated());
        };
        if triple {
            if c == quote && source.get(i + 1) == Some(&quote) && source.get(i + 2) == Some(&quote) {
                return Ok((out, i + 3));
            }
        } else if c == quote {
            return Ok((out, i + 1));
        } else if c == '\n' || c == '\r' {
            return Err(unterminated());
        }
        if c == '\\' && !raw {
            let Some(&escape) = source.get(i + 1) else {
                return Err(unterminated());
            };
            i += 2;
            let bad = |offset| SyntaxError {
                offset,
                message: "Syntax error: token recognition error at: 'invalid escape sequence'".to_owned(),
            };
            let simple = match escape {
                'a' => Some('\u{7}'),
                'b' => Some('\u{8}'),
                'f' => Some('\u{c}'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'v' => Some('\u{b}'),
                '\\' | '\'' | '"' | '`' | '?' => Some(escape),
                _ => None,
            };
            if let Some(simple) = simple {
                out.push(StrUnit::Char(simple));
                continue;
            }
            let (digits, radix) = match escape {
                'x' | 'X' => (2, 16),
                'u' => (4, 16),
                'U' => (8, 16),
                '0'..='3' => {
                    i -= 1;
                    (3, 8)
                }
                _ => return Err(bad(i - 2)),
            };
            let text: String = source.get(i..i + digits).ok_or_else(|| bad(i))?.iter().collect();
            let code = u32::from_str_radix(&text, radix).map_err(|_| bad(i))?;
            i += digits;
            if radix == 8 || escape == 'x' || escape == 'X' {
                out.push(StrUnit::Byte(u8::try_from(code).map_err(|_| bad(i))?));
            } else {
                out.push(StrUnit::Char(char::from_u32(code).ok_or_else(|| bad(i))?));
            }
            continue;
        }
        out.push(StrUnit::Char(c));
        i += 1;
    }
}

fn lex_number(source: &[char], start: usize) -> Result<(Tok, usize), SyntaxError> {
    let mut i = start;
    let bad = |message: &str| SyntaxError {
        offset: start,
        message: message.to_owned(),
    };
    if source[i] == '0' && matches!(source.get(i + 1), Some('x' | 'X')) {
        i += 2;
        let digits_start = i;
        while i < source.len() && source[i].is_ascii_hexdigit() {
            i += 1;
        }
        let text: String = source[digits_start..i].iter().collect();
        if matches!(source.get(i), Some('u' | 'U')) {
            let value = u64::from_str_radix(&text, 16).map_err(|_| bad("invalid uint literal"))?;
            return Ok((Tok::Uint(value), i + 1));
        }
        let value = i64::from_str_radix(&text, 16).map_err(|_| bad("invalid int literal"))?;
        return Ok((Tok::Int(value), i));
    }
    while i < source.len() && source[i].is_ascii_digit() {
        i += 1;
    }
    let mut is_double = false;
    if source.get(i) == Some(&'.') && source.get(i + 1).is_some_and(char::is_ascii_digit) {
        is_double = true;
        i += 1;
        while i < source.len() && source[i].is_ascii_digit() {
            i += 1;
        }
    }
    if matches!(source.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(source.get(j), Some('+' | '-')) {
            j += 1;
        }
        if source.get(j).is_some_and(char::is_ascii_digit) {
            is_double = true;
            i = j;
            while i < source.len() && source[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    let text: String = source[start..i].iter().collect();
    if is_double {
        let value: f64 = text.parse().map_err(|_| bad("invalid double literal"))?;
        return Ok((Tok::Double(value), i));
    }
    if matches!(source.get(i), Some('u' | 'U')) {
        let value: u64 = text.parse().map_err(|_| bad("invalid uint literal"))?;
        return Ok((Tok::Uint(value), i + 1));
    }
    // An int literal out of range may still be valid when negated (`-9223372036854775808`); the parser folds it.
    match text.parse::<i64>() {
        Ok(value) => Ok((Tok::Int(value), i)),
        Err(_) if text == "9223372036854775808" => Ok((Tok::MinIntMagnitude, i)),
        Err(_) => Err(bad("invalid int literal")),
    }
}
