//! Cuts C-language expression text into tokens: numbers with C suffixes,
//! floats, character and string literals with escapes, names (qualified
//! with `::`), `$registers`, and C's operators.
//!
//! As in the WinDbg lexer next door, tokens are pulled one at a time, so
//! the leftmost problem is the one reported, at its column.

use crate::expr::ExprError;

/// An operator or a bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Punct {
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Shl,
    Shr,
    Amp,
    Caret,
    Pipe,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Tilde,
    Assign,
    PlusAssign,
    MinusAssign,
    StarAssign,
    SlashAssign,
    Arrow,
    Dot,
    Question,
    Colon,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Increment,
    Decrement,
}

impl Punct {
    /// Longest spellings first, so that `<<` is not read as two `<`.
    const TABLE: [(&'static str, Punct); 38] = [
        ("<<", Punct::Shl),
        (">>", Punct::Shr),
        ("==", Punct::EqEq),
        ("!=", Punct::NotEq),
        ("<=", Punct::Le),
        (">=", Punct::Ge),
        ("&&", Punct::AndAnd),
        ("||", Punct::OrOr),
        ("->", Punct::Arrow),
        ("+=", Punct::PlusAssign),
        ("-=", Punct::MinusAssign),
        ("*=", Punct::StarAssign),
        ("/=", Punct::SlashAssign),
        ("++", Punct::Increment),
        ("--", Punct::Decrement),
        ("+", Punct::Plus),
        ("-", Punct::Minus),
        ("*", Punct::Star),
        ("/", Punct::Slash),
        ("%", Punct::Percent),
        ("&", Punct::Amp),
        ("^", Punct::Caret),
        ("|", Punct::Pipe),
        ("<", Punct::Lt),
        (">", Punct::Gt),
        ("!", Punct::Bang),
        ("~", Punct::Tilde),
        ("=", Punct::Assign),
        (".", Punct::Dot),
        ("?", Punct::Question),
        (":", Punct::Colon),
        (",", Punct::Comma),
        ("(", Punct::LParen),
        (")", Punct::RParen),
        ("[", Punct::LBracket),
        ("]", Punct::RBracket),
        ("{", Punct::LBrace),
        ("}", Punct::RBrace),
    ];

    pub fn spelling(self) -> &'static str {
        Self::TABLE.iter().find(|(_, p)| *p == self).map(|(s, _)| *s).unwrap_or("?")
    }
}

/// An integer literal's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct IntSuffix {
    pub unsigned: bool,
    pub long: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    Int {
        value: u128,
        suffix: IntSuffix,
        decimal: bool,
    },
    Float {
        value: f64,
        single: bool,
    },
    Char(u32),
    Str(Vec<u8>),
    /// A name, possibly qualified: `x`, `geometry::Point`, `::counter`, `Klass::~Klass`.
    Name(String),
    /// `$rax`, `$pc`.
    Dollar(String),
    Punct(Punct),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// 1-based column of the first character.
    pub column: usize,
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, pos: 0 }
    }

    /// The 1-based column of a byte offset.
    pub fn column_of(&self, byte: usize) -> usize {
        self.text[..byte.min(self.text.len())].chars().count() + 1
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// Moves to a byte offset (the parser re-reads a name with template arguments).
    pub fn set_position(&mut self, byte: usize) {
        self.pos = byte.min(self.text.len());
    }

    fn char_at(&self, byte: usize) -> Option<char> {
        self.text.get(byte..)?.chars().next()
    }

    pub fn next_token(&mut self) -> Result<Token, ExprError> {
        while let Some(c) = self.char_at(self.pos).filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
        let start = self.pos;
        let column = self.column_of(start);
        let Some(c) = self.char_at(start) else {
            return Ok(Token { kind: TokenKind::End, column, start, end: start });
        };
        let (kind, end) = match c {
            '0'..='9' => self.number(start, column)?,
            '.' if self.char_at(start + 1).is_some_and(|c| c.is_ascii_digit()) => self.number(start, column)?,
            '\'' => self.char_literal(start, column)?,
            '"' => self.string_literal(start, column)?,
            '$' => {
                let mut end = start + 1;
                while let Some(c) = self.char_at(end).filter(|&c| is_name_continue(c)) {
                    end += c.len_utf8();
                }
                if end == start + 1 {
                    return Err(ExprError::syntax(column, "expected a register or variable name after `$`"));
                }
                (TokenKind::Dollar(self.text[start + 1..end].to_string()), end)
            }
            ':' if self.text[start..].starts_with("::") && self.char_at(start + 2).is_some_and(is_name_start) => {
                // `::counter`: the global scope.
                let end = self.name_end(start + 2);
                (TokenKind::Name(self.text[start + 2..end].to_string()), end)
            }
            c if is_name_start(c) => {
                let end = self.name_end(start);
                (TokenKind::Name(self.text[start..end].to_string()), end)
            }
            _ => self.punct(start, column, c)?,
        };
        self.pos = end;
        Ok(Token { kind, column, start, end })
    }

    /// The end of a name starting at `start`: identifier characters, and
    /// `::` followed by another name (or `~name`, a destructor).
    fn name_end(&self, start: usize) -> usize {
        let mut i = start;
        loop {
            while let Some(c) = self.char_at(i).filter(|&c| is_name_continue(c)) {
                i += c.len_utf8();
            }
            let rest = &self.text[i..];
            if rest.starts_with("::") && self.char_at(i + 2).is_some_and(is_name_start) {
                i += 2;
            } else if rest.starts_with("::~") && self.char_at(i + 3).is_some_and(is_name_start) {
                i += 3;
            } else {
                return i;
            }
        }
    }

    /// A balanced `<...>` starting at `start` (template arguments), if the
    /// text there has one: the byte offset after it.
    pub fn template_end(&self, start: usize) -> Option<usize> {
        if !self.text[start..].starts_with('<') {
            return None;
        }
        let mut depth = 0i32;
        for (offset, c) in self.text[start..].char_indices() {
            match c {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(start + offset + 1);
                    }
                }
                c if c.is_alphanumeric() || " _:*&,()[]".contains(c) => {}
                _ => return None,
            }
        }
        None
    }

    /// The text between two byte offsets.
    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.text[start.min(self.text.len())..end.min(self.text.len())]
    }

    /// A name continuing after template arguments (`vector<int>::size`): its end.
    pub fn name_continuation_end(&self, at: usize) -> usize {
        let rest = &self.text[at..];
        if rest.starts_with("::") && self.char_at(at + 2).is_some_and(|c| is_name_start(c) || c == '~') {
            let begin = if self.char_at(at + 2) == Some('~') { at + 3 } else { at + 2 };
            return self.name_end(begin);
        }
        at
    }

    fn number(&self, start: usize, column: usize) -> Result<(TokenKind, usize), ExprError> {
        let bytes = self.text.as_bytes();
        let mut end = start;
        // The whole word: digits, letters (hex digits, suffixes), `.`, and
        // an exponent's sign.
        while end < bytes.len() {
            let b = bytes[end];
            let exponent_sign = (b == b'+' || b == b'-')
                && end > start
                && matches!(bytes[end - 1], b'e' | b'E')
                && !self.text[start..end].starts_with("0x")
                && !self.text[start..end].starts_with("0X");
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exponent_sign {
                end += 1;
            } else {
                break;
            }
        }
        let word = &self.text[start..end];
        let lower = word.to_ascii_lowercase();
        let is_hex = lower.starts_with("0x");
        let is_float = !is_hex && (lower.contains('.') || lower.contains('e'));
        if is_float {
            let (digits, single) = match lower.strip_suffix('f') {
                Some(d) => (d, true),
                None => (lower.strip_suffix('l').unwrap_or(&lower), false),
            };
            let value: f64 =
                digits.parse().map_err(|_| ExprError::syntax(column, format!("invalid number `{word}`")))?;
            return Ok((TokenKind::Float { value, single }, end));
        }
        let mut digits = lower.as_str();
        let mut suffix = IntSuffix::default();
        loop {
            if let Some(d) = digits.strip_suffix('u') {
                suffix.unsigned = true;
                digits = d;
            } else if let Some(d) = digits.strip_suffix('l') {
                suffix.long = true;
                digits = d;
            } else {
                break;
            }
        }
        let (radix, body) = if let Some(h) = digits.strip_prefix("0x") {
            (16, h)
        } else if let Some(b) = digits.strip_prefix("0b") {
            (2, b)
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, &digits[1..])
        } else {
            (10, digits)
        };
        if body.is_empty() {
            return Err(ExprError::syntax(column, format!("invalid number `{word}`")));
        }
        let mut value: u128 = 0;
        for (i, c) in body.chars().enumerate() {
            if c == '_' {
                continue;
            }
            let digit = c.to_digit(radix).ok_or_else(|| {
                ExprError::syntax(
                    column + (word.len() - body.len()) + i,
                    format!("invalid digit `{c}` in number `{word}`"),
                )
            })?;
            value = value
                .checked_mul(radix as u128)
                .and_then(|v| v.checked_add(digit as u128))
                .filter(|v| *v <= u64::MAX as u128)
                .ok_or_else(|| ExprError::syntax(column, format!("number too large for 64 bits: `{word}`")))?;
        }
        Ok((TokenKind::Int { value, suffix, decimal: radix == 10 }, end))
    }

    /// One character of a literal, escapes included: (value, bytes used).
    fn escaped(&self, at: usize, column: usize) -> Result<(u32, usize), ExprError> {
        let Some(c) = self.char_at(at) else {
            return Err(ExprError::syntax(column, "unterminated literal"));
        };
        if c != '\\' {
            return Ok((c as u32, c.len_utf8()));
        }
        let Some(next) = self.char_at(at + 1) else {
            return Err(ExprError::syntax(column, "unterminated literal"));
        };
        let simple = match next {
            'n' => Some(10),
            't' => Some(9),
            'r' => Some(13),
            'a' => Some(7),
            'b' => Some(8),
            'f' => Some(12),
            'v' => Some(11),
            'e' => Some(27),
            '\\' => Some(0x5c),
            '\'' => Some(0x27),
            '"' => Some(0x22),
            '?' => Some(0x3f),
            _ => None,
        };
        if let Some(v) = simple {
            return Ok((v, 2));
        }
        if next == 'x' {
            let digits: String = self.text[at + 2..].chars().take_while(|c| c.is_ascii_hexdigit()).take(8).collect();
            if digits.is_empty() {
                return Err(ExprError::syntax(column, "\\x needs hexadecimal digits"));
            }
            let v = u32::from_str_radix(&digits, 16).unwrap_or(0);
            return Ok((v, 2 + digits.len()));
        }
        if next.is_digit(8) {
            let digits: String = self.text[at + 1..].chars().take_while(|c| c.is_digit(8)).take(3).collect();
            let v = u32::from_str_radix(&digits, 8).unwrap_or(0);
            return Ok((v, 1 + digits.len()));
        }
        Err(ExprError::syntax(column, format!("unknown escape `\\{next}`")))
    }

    fn char_literal(&self, start: usize, column: usize) -> Result<(TokenKind, usize), ExprError> {
        if self.char_at(start + 1) == Some('\'') {
            return Err(ExprError::syntax(column, "empty character constant"));
        }
        let (value, used) = self.escaped(start + 1, column)?;
        if self.char_at(start + 1 + used) != Some('\'') {
            return Err(ExprError::syntax(column, "unterminated character constant"));
        }
        Ok((TokenKind::Char(value), start + used + 2))
    }

    fn string_literal(&self, start: usize, column: usize) -> Result<(TokenKind, usize), ExprError> {
        let mut at = start + 1;
        let mut bytes = Vec::new();
        loop {
            match self.char_at(at) {
                None => return Err(ExprError::syntax(column, "unterminated string")),
                Some('"') => return Ok((TokenKind::Str(bytes), at + 1)),
                Some('\\') => {
                    let (v, used) = self.escaped(at, column)?;
                    match char::from_u32(v) {
                        Some(c) if v > 0xff => {
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => bytes.push(v as u8),
                    }
                    at += used;
                }
                Some(c) => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    at += c.len_utf8();
                }
            }
        }
    }

    fn punct(&self, start: usize, column: usize, c: char) -> Result<(TokenKind, usize), ExprError> {
        let rest = &self.text[start..];
        if let Some(&(spelling, punct)) = Punct::TABLE.iter().find(|(spelling, _)| rest.starts_with(spelling)) {
            return Ok((TokenKind::Punct(punct), start + spelling.len()));
        }
        Err(ExprError::syntax(column, format!("unexpected character `{}`", c.escape_debug())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        let mut lexer = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token().unwrap();
            if t.kind == TokenKind::End {
                return out;
            }
            out.push(t.kind);
        }
    }

    #[test]
    fn literals() {
        assert_eq!(
            kinds("10 0x1f 017 5u 7UL"),
            [
                TokenKind::Int { value: 10, suffix: IntSuffix::default(), decimal: true },
                TokenKind::Int { value: 31, suffix: IntSuffix::default(), decimal: false },
                TokenKind::Int { value: 15, suffix: IntSuffix::default(), decimal: false },
                TokenKind::Int { value: 5, suffix: IntSuffix { unsigned: true, long: false }, decimal: true },
                TokenKind::Int { value: 7, suffix: IntSuffix { unsigned: true, long: true }, decimal: true },
            ]
        );
        assert_eq!(
            kinds("1.5 2.5f 1e3"),
            [
                TokenKind::Float { value: 1.5, single: false },
                TokenKind::Float { value: 2.5, single: true },
                TokenKind::Float { value: 1000.0, single: false },
            ]
        );
        assert_eq!(
            kinds(r"'a' '\n' '\0' '\x41'"),
            [TokenKind::Char(97), TokenKind::Char(10), TokenKind::Char(0), TokenKind::Char(0x41)]
        );
        assert_eq!(kinds(r#""a\tb""#), [TokenKind::Str(b"a\tb".to_vec())]);
    }

    #[test]
    fn names_and_operators() {
        assert_eq!(kinds("geometry::Shape::next_id"), [TokenKind::Name("geometry::Shape::next_id".into())]);
        assert_eq!(
            kinds("p->x"),
            [TokenKind::Name("p".into()), TokenKind::Punct(Punct::Arrow), TokenKind::Name("x".into())]
        );
        assert_eq!(kinds("$rax"), [TokenKind::Dollar("rax".into())]);
        assert_eq!(kinds("::counter"), [TokenKind::Name("counter".into())]);
        assert_eq!(
            kinds("a.b"),
            [TokenKind::Name("a".into()), TokenKind::Punct(Punct::Dot), TokenKind::Name("b".into())]
        );
    }

    #[test]
    fn errors_point_at_their_column() {
        let e = Lexer::new("1 + 0x1g").next_token().and_then(|_| {
            let mut l = Lexer::new("1 + 0x1g");
            l.next_token()?;
            l.next_token()?;
            l.next_token()
        });
        assert_eq!(e.unwrap_err().column, 8);
        assert!(Lexer::new("'ab'").next_token().is_err());
        assert!(Lexer::new("\"abc").next_token().is_err());
    }
}
