//! Cuts expression text into tokens.
//!
//! The parser pulls one token at a time instead of the whole text being cut
//! up front, so the error reported is always the leftmost one: in
//! `poi(rsp+) #` the missing operand is reported, not the `#` after it.
//!
//! Columns are counted in characters, 1-based, as a person counts them.

use super::ExprError;

/// An operator or a parenthesis.
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
    LParen,
    RParen,
}

impl Punct {
    /// Two-character operators first, so that `<<` is not read as two `<`.
    const TABLE: [(&'static str, Punct); 22] = [
        ("<<", Punct::Shl),
        (">>", Punct::Shr),
        ("==", Punct::EqEq),
        ("!=", Punct::NotEq),
        ("<=", Punct::Le),
        (">=", Punct::Ge),
        ("&&", Punct::AndAnd),
        ("||", Punct::OrOr),
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
        ("(", Punct::LParen),
        (")", Punct::RParen),
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind {
    Number(u64),
    /// A bare word: a register or symbol name, a function name before `(`,
    /// or a `$pseudo` register. May contain `!`, `::`, `.`, `@`, `:line`.
    Name(String),
    /// `@name`: the name without the `@`, as written.
    Register(String),
    /// `` `anything` ``: the text between the backticks, a symbol; or
    /// `"module"!name` with the quotes taken off.
    Quoted(String),
    /// `libstdc++.so.6!__cxa_throw`: a name whose module part has `-` or
    /// `+`. The same text may also be arithmetic (`rsp+libc.so.6!malloc`):
    /// `plain_end` is where the name would end without the module reading.
    ModuleName {
        name: String,
        plain_end: usize,
    },
    Punct(Punct),
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// 1-based column of the first character.
    pub column: usize,
    /// Byte range in the text, to quote the token in messages.
    pub start: usize,
    pub end: usize,
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    /// Whether `-` and `+` may be part of a module name before a `!`.
    module_names: bool,
    /// Byte offset of the next character.
    pos: usize,
    /// Column of the next character, kept in step with `pos` so that long
    /// texts are not recounted for every token.
    column: usize,
}

/// A name starts with a letter, `_` or `$` (`$ip`).
fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

/// Inside a name `.` (`libc.so.6`), `@` (`malloc@plt`) and `$` are allowed
/// too; `!`, `::` and `:line` are handled apart because they need lookahead.
fn is_name_continue(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '.' | '@')
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, module_names: true, pos: 0, column: 1 }
    }

    /// A lexer that reads `-` and `+` as operators only.
    pub fn without_module_names(text: &'a str) -> Lexer<'a> {
        Lexer { text, module_names: false, pos: 0, column: 1 }
    }

    /// Where a module name with `-` or `+` followed by `!name` ends (after
    /// the `!`), when the text at `start` is one (`ld-linux-x86-64.so.2!`).
    fn module_name_end(&self, start: usize) -> Option<usize> {
        if !self.module_names {
            return None;
        }
        let mut i = start;
        let mut signs = false;
        while let Some(c) = self.char_at(i) {
            match c {
                '!' => break,
                '-' | '+' => signs = true,
                c if c.is_alphanumeric() || c == '_' || c == '.' => {}
                _ => return None,
            }
            i += c.len_utf8();
        }
        let module = &self.text[start..i];
        let named_after = self.char_at(i + 1).is_some_and(|c| is_name_start(c) || c == '~');
        let ends_well = !module.ends_with(['-', '+']);
        (signs && module.contains('.') && self.char_at(i) == Some('!') && named_after && ends_well).then_some(i + 1)
    }

    fn char_at(&self, byte: usize) -> Option<char> {
        self.text.get(byte..)?.chars().next()
    }

    /// Column of `byte`, which lies in the token starting at `start`/`column`.
    fn column_of(&self, start: usize, column: usize, byte: usize) -> usize {
        column + self.text[start..byte].chars().count()
    }

    pub fn next_token(&mut self) -> Result<Token, ExprError> {
        while let Some(c) = self.char_at(self.pos).filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
            self.column += 1;
        }
        let (start, column) = (self.pos, self.column);
        let Some(c) = self.char_at(start) else {
            return Ok(Token { kind: TokenKind::End, column, start, end: start });
        };
        let (kind, end) = match c {
            '0'..='9' => match self.number(start, column)? {
                Some(found) => found,
                // `1f`, `10a`: not numbers, so names (identifiers win).
                None => {
                    let end = self.name_end(start);
                    (TokenKind::Name(self.text[start..end].to_string()), end)
                }
            },
            '@' => self.register(start, column)?,
            '`' => self.quoted(start, column)?,
            '"' => self.quoted_module(start, column)?,
            c if is_name_start(c) => match self.module_name_end(start) {
                Some(after_bang) => {
                    let plain_end = self.name_end(start);
                    let end = self.name_end(after_bang);
                    (TokenKind::ModuleName { name: self.text[start..end].to_string(), plain_end }, end)
                }
                None => {
                    let end = self.name_end(start);
                    (TokenKind::Name(self.text[start..end].to_string()), end)
                }
            },
            _ => self.punct(start, column, c)?,
        };
        self.column = self.column_of(start, column, end);
        self.pos = end;
        Ok(Token { kind, column, start, end })
    }

    /// The end of the name that starts at `start` (whose first character is
    /// taken as it is: it may be a digit, for `1f`).
    fn name_end(&self, start: usize) -> usize {
        let starts_name = |byte: usize| self.char_at(byte).is_some_and(is_name_start);
        let first = self.char_at(start).map_or(1, char::len_utf8);
        let mut i = start + first;
        let mut has_dot = false;
        while let Some(c) = self.char_at(i) {
            if is_name_continue(c) {
                has_dot |= c == '.';
                i += c.len_utf8();
            } else if c == '!' && starts_name(i + 1) {
                // `module!symbol`; `rax!=0` stays an inequality.
                i += 1;
            } else if self.text[i..].starts_with("::") && starts_name(i + 2) {
                i += 2;
            } else if self.text[i..].starts_with("::~") && starts_name(i + 3) {
                // A C++ destructor, `Foo::~Foo`.
                i += 3;
            } else if c == ':' && has_dot && self.char_at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                // A source location `file.c:42` ends the name.
                i += 1;
                while self.char_at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                break;
            } else {
                break;
            }
        }
        i
    }

    /// A number starting at `start`, or None if the word there is not one
    /// and should be read as a name.
    fn number(&self, start: usize, column: usize) -> Result<Option<(TokenKind, usize)>, ExprError> {
        // The whole word: letters and digits, with separators only between
        // them, so that in `1 ` + 2` the backtick is not swallowed.
        let bytes = self.text.as_bytes();
        let mut end = start;
        while end < bytes.len() {
            let b = bytes[end];
            let separator = (b == b'_' || b == b'`') && bytes.get(end + 1).is_some_and(u8::is_ascii_alphanumeric);
            if b.is_ascii_alphanumeric() || separator {
                end += 1;
            } else {
                break;
            }
        }
        let word = &self.text[start..end];
        let prefix = match word.as_bytes() {
            [b'0', p, ..] => match p.to_ascii_lowercase() {
                b'x' => Some((16, "hexadecimal")),
                b'n' => Some((10, "decimal")),
                b'o' | b't' => Some((8, "octal")),
                b'y' | b'b' => Some((2, "binary")),
                _ => None,
            },
            _ => None,
        };
        let (radix, radix_name, digits_start) = match prefix {
            Some((radix, name)) => (radix, name, start + 2),
            None if word.bytes().all(|b| b.is_ascii_digit() || b == b'_' || b == b'`') => (10, "decimal", start),
            None => return Ok(None),
        };
        let mut value: u64 = 0;
        let mut any_digit = false;
        for (offset, c) in self.text[digits_start..end].char_indices() {
            if c == '_' || c == '`' {
                continue;
            }
            let Some(digit) = c.to_digit(radix) else {
                let at = self.column_of(start, column, digits_start + offset);
                return Err(ExprError::syntax(at, format!("invalid digit `{c}` in {radix_name} number `{word}`")));
            };
            any_digit = true;
            value = value
                .checked_mul(u64::from(radix))
                .and_then(|v| v.checked_add(u64::from(digit)))
                .ok_or_else(|| ExprError::syntax(column, format!("number too large for 64 bits: `{word}`")))?;
        }
        if !any_digit {
            return Err(ExprError::syntax(column, format!("expected digits after `{}`", &word[..2])));
        }
        Ok(Some((TokenKind::Number(value), end)))
    }

    /// `@rax`, `@$ip`: a register name after the `@`.
    fn register(&self, start: usize, column: usize) -> Result<(TokenKind, usize), ExprError> {
        let name_start = start + 1;
        let mut end = name_start;
        while let Some(c) = self.char_at(end).filter(|&c| c.is_alphanumeric() || c == '_' || c == '$') {
            end += c.len_utf8();
        }
        let name = &self.text[name_start..end];
        if !name.starts_with(is_name_start) {
            return Err(ExprError::syntax(column, "expected a register name after `@`"));
        }
        Ok((TokenKind::Register(name.to_string()), end))
    }

    /// `` `src/main.c:42` ``: any text up to the next backtick, for names
    /// the bare syntax cannot spell (paths, `-` in module names, templates).
    fn quoted(&self, start: usize, column: usize) -> Result<(TokenKind, usize), ExprError> {
        let Some(length) = self.text[start + 1..].find('`') else {
            return Err(ExprError::syntax(column, "unterminated quoted name: no closing backtick"));
        };
        let inner = &self.text[start + 1..start + 1 + length];
        if inner.trim().is_empty() {
            return Err(ExprError::syntax(column, "empty quoted name"));
        }
        Ok((TokenKind::Quoted(inner.to_string()), start + length + 2))
    }

    /// `"libmy-plugin.so"!fn`: a quoted module name, then `!` and a name.
    fn quoted_module(&self, start: usize, column: usize) -> Result<(TokenKind, usize), ExprError> {
        let Some(length) = self.text[start + 1..].find('"') else {
            return Err(ExprError::syntax(column, "unterminated quoted module name: no closing `\"`"));
        };
        let module = &self.text[start + 1..start + 1 + length];
        let bang = start + length + 2;
        if module.trim().is_empty()
            || self.char_at(bang) != Some('!')
            || !self.char_at(bang + 1).is_some_and(is_name_start)
        {
            return Err(ExprError::syntax(
                column,
                "a quoted module name is followed by `!` and a name: \"lib-x.so\"!function",
            ));
        }
        let end = self.name_end(bang + 1);
        Ok((TokenKind::Quoted(format!("{module}!{}", &self.text[bang + 1..end])), end))
    }

    fn punct(&self, start: usize, column: usize, c: char) -> Result<(TokenKind, usize), ExprError> {
        let rest = &self.text[start..];
        if let Some(&(spelling, punct)) = Punct::TABLE.iter().find(|(spelling, _)| rest.starts_with(spelling)) {
            return Ok((TokenKind::Punct(punct), start + spelling.len()));
        }
        let hint = match c {
            '=' => " (did you mean `==`?)",
            _ => "",
        };
        Err(ExprError::syntax(column, format!("unexpected character `{}`{hint}", c.escape_debug())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        let mut lexer = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token().unwrap();
            if token.kind == TokenKind::End {
                return out;
            }
            out.push(token.kind);
        }
    }

    fn name(s: &str) -> TokenKind {
        TokenKind::Name(s.to_string())
    }

    fn first_error(text: &str) -> ExprError {
        let mut lexer = Lexer::new(text);
        loop {
            match lexer.next_token() {
                Err(error) => return error,
                Ok(token) if token.kind == TokenKind::End => panic!("no error in {text:?}"),
                Ok(_) => {}
            }
        }
    }

    #[test]
    fn two_character_operators_win() {
        use Punct::*;
        let tokens = kinds("<< >> <= >= == != && || < > & | ! ~ ^ % / * - + ( )");
        let expected = [
            Shl, Shr, Le, Ge, EqEq, NotEq, AndAnd, OrOr, Lt, Gt, Amp, Pipe, Bang, Tilde, Caret, Percent, Slash, Star,
            Minus, Plus, LParen, RParen,
        ];
        assert_eq!(tokens, expected.map(TokenKind::Punct));
    }

    #[test]
    fn names_take_module_separators_and_source_lines() {
        assert_eq!(kinds("libc.so.6!malloc"), [name("libc.so.6!malloc")]);
        assert_eq!(kinds("std::rt::lang_start"), [name("std::rt::lang_start")]);
        assert_eq!(kinds("Foo::~Foo"), [name("Foo::~Foo")]);
        assert_eq!(kinds("malloc@plt"), [name("malloc@plt")]);
        assert_eq!(kinds("file.c:42+1"), [name("file.c:42"), TokenKind::Punct(Punct::Plus), TokenKind::Number(1)]);
        // `!=` after a name is an operator, not a module separator.
        assert_eq!(kinds("rax!=0"), [name("rax"), TokenKind::Punct(Punct::NotEq), TokenKind::Number(0)]);
    }

    #[test]
    fn module_names_with_signs_and_quotes() {
        let module_name = |s: &str, plain: usize| TokenKind::ModuleName { name: s.to_string(), plain_end: plain };
        assert_eq!(kinds("libstdc++.so.6!__cxa_throw"), [module_name("libstdc++.so.6!__cxa_throw", 7)]);
        assert_eq!(
            kinds("ld-linux-x86-64.so.2!_dl_map_object"),
            [module_name("ld-linux-x86-64.so.2!_dl_map_object", 2)]
        );
        assert_eq!(kinds("\"libmy-plugin.so\"!fn"), [TokenKind::Quoted("libmy-plugin.so!fn".into())]);
        // Without a dotted module before `!`, signs stay operators.
        assert_eq!(kinds("a-b!c")[1], TokenKind::Punct(Punct::Minus));
        assert_eq!(kinds("rax-1"), [name("rax"), TokenKind::Punct(Punct::Minus), TokenKind::Number(1)]);
        assert!(Lexer::new("\"x\" + 1").next_token().is_err());
    }

    #[test]
    fn a_word_starting_with_a_digit_is_a_name_unless_it_is_a_number() {
        assert_eq!(kinds("1f 10a 0x1f 12"), [name("1f"), name("10a"), TokenKind::Number(31), TokenKind::Number(12)]);
    }

    #[test]
    fn separators_only_between_digits() {
        assert_eq!(kinds("0x7fff`ffff"), [TokenKind::Number(0x7fff_ffff)]);
        assert_eq!(first_error("1` + 2").column, 2);
    }

    #[test]
    fn columns_count_characters() {
        let mut lexer = Lexer::new("é + \tabc");
        let columns: Vec<usize> = (0..4).map(|_| lexer.next_token().unwrap().column).collect();
        assert_eq!(columns, [1, 3, 6, 9]);
    }

    #[test]
    fn lexer_errors() {
        assert_eq!(first_error("0x12g4").column, 5);
        assert_eq!(first_error("0x12g4").message, "invalid digit `g` in hexadecimal number `0x12g4`");
        assert_eq!(first_error("1 = 1").message, "unexpected character `=` (did you mean `==`?)");
        assert_eq!(first_error("@").message, "expected a register name after `@`");
        assert_eq!(first_error("1 + `abc").column, 5);
        assert_eq!(first_error("\u{0}").message, "unexpected character `\\0`");
    }
}
