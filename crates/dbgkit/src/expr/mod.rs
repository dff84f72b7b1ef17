//! Expressions in the flavour of WinDbg's MASM evaluator: `poi(rsp+8)`,
//! `libc!malloc+0x10`, `rax != 0 && by(rdi) == 0x41`.
//!
//! The module stands alone: it knows nothing of processes or symbol tables.
//! The engine plugs in through [`EvalContext`], which answers three questions
//! (a register's value, a memory read, a symbol's address). Parsing and
//! evaluating are separate steps, so a breakpoint condition is parsed once
//! when it is set and evaluated at every hit.
//!
//! ```
//! use dbgkit::expr::{self, EvalContext};
//!
//! struct Target;
//!
//! impl EvalContext for Target {
//!     fn register(&mut self, name: &str) -> Option<u64> {
//!         (name == "rsp").then_some(0x7ffe_0000)
//!     }
//!     fn read_memory(&mut self, address: u64, size: usize) -> Result<u64, String> {
//!         match (address, size) {
//!             (0x7ffe_0008, 8) => Ok(0x1234),
//!             _ => Err("not mapped".to_string()),
//!         }
//!     }
//!     fn symbol(&mut self, name: &str) -> Result<u64, String> {
//!         match name {
//!             "libc!malloc" => Ok(0x7f00_0000_1000),
//!             _ => Err(format!("symbol not found: {name}")),
//!         }
//!     }
//! }
//!
//! let expr = expr::parse("poi(rsp+8) + 0n10").unwrap();
//! assert_eq!(expr.evaluate(&mut Target).unwrap(), 0x1234 + 10);
//! assert_eq!(expr::parse("libc!malloc+0x10").unwrap().evaluate(&mut Target).unwrap(), 0x7f00_0000_1010);
//!
//! // Errors carry a 1-based column and can point at it.
//! let text = "poi(rsp+)";
//! let error = expr::parse(text).unwrap_err();
//! assert_eq!(error.to_string(), "column 9: expected an operand");
//! assert_eq!(error.pointed(text), "poi(rsp+)\n        ^ expected an operand");
//! ```
//!
//! # The language
//!
//! All arithmetic is on `u64` and wraps. Comparisons and logical operators
//! give 0 or 1. Whitespace may appear between any two tokens.
//!
//! **Numbers.** `0x1f` (hex), `0n31` (decimal), `0y101` or `0b101` (binary),
//! `0o17` or `0t17` (octal). Plain digits are **decimal**: `31` is 31.
//! WinDbg's default radix is 16; we use 10 because a debugger driven from
//! scripts should not make `10` mean sixteen. A word that starts with a digit
//! but is not a number, like `1f` or `10a`, is a name (identifiers win): write
//! `0x1f`. A backtick or underscore may separate digits: `` 0x7fff`ffff ``,
//! `1_000`. A word with a radix prefix must be a number (`0x1g` is an
//! error), and so must fit in 64 bits.
//!
//! **Registers.** `@rax` is always a register. A bare name (`rax`, `eax`,
//! `al`, `r8d`, `efl`, any case) is first asked of
//! [`EvalContext::register`] in lower case and, if that knows no such
//! register, resolved as a symbol. Pseudo-registers: `$ip` (`rip`), `$sp`
//! and `$csp` (`rsp`), `$retreg` (`rax`), with or without `@`; any other
//! `$name` is asked of the context as `$name`.
//!
//! **Symbols.** `main`, `libc!malloc`, `libc.so.6!malloc`, `malloc@plt`,
//! `std::rt::lang_start`, `Foo::~Foo`, and source locations `file.c:42` (a
//! name containing a `.` followed by `:` and a line number). A module name
//! may contain `-` and `+` (`libstdc++.so.6!__cxa_throw`,
//! `ld-linux-x86-64.so.2!_dl_start`) or be quoted (`"libmy-plugin.so"!fn`);
//! when no module has such a name, the text is read as arithmetic instead
//! (`rsp+libc.so.6!malloc`). Anything else can be quoted between backticks
//! and is passed on verbatim: `` `src/main.c:42` ``.
//!
//! **Memory.** `poi(x)` and `qwo(x)` read 8 bytes, `dwo(x)` 4, `wo(x)` 2,
//! `by(x)` 1, little-endian and zero-extended.
//!
//! **Operators**, from the loosest to the tightest binding, as in C:
//!
//! | operators | meaning |
//! | --- | --- |
//! | `\|\|` | logical or, short-circuit |
//! | `&&` | logical and, short-circuit: `0 && poi(0)` reads nothing |
//! | `\|` | bitwise or |
//! | `^` | bitwise exclusive or |
//! | `&` | bitwise and |
//! | `==` `!=` | equality |
//! | `<` `<=` `>` `>=` | unsigned comparison |
//! | `<<` `>>` | shifts (logical; by 64 or more gives 0) |
//! | `+` `-` | wrapping addition, subtraction |
//! | `*` `/` `%` | wrapping multiplication, unsigned division and remainder |
//! | `-` `+` `~` `!` (prefix) | negation, nothing, bitwise not, logical not |
//!
//! Binary operators group left to right. Dividing by zero is an error at the
//! operator.

mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;
pub mod typed;

use std::fmt;
use std::str::FromStr;

/// A parsed expression: ready to evaluate any number of times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    root: parser::Node,
    text: String,
}

/// Parses `text` into an [`Expr`].
///
/// Syntax errors (a stray character, an unbalanced parenthesis, an unknown
/// function, a number too large ...) are reported here, with the column of
/// the leftmost problem; nothing is evaluated.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let root = parser::parse(text)?;
    Ok(Expr { root, text: text.to_string() })
}

impl Expr {
    /// Computes the value, asking `ctx` for registers, memory and symbols.
    ///
    /// Evaluation goes left to right and stops at the first error; `&&` and
    /// `||` do not evaluate their right side when the left side decides.
    pub fn evaluate(&self, ctx: &mut dyn EvalContext) -> Result<u64, ExprError> {
        eval::evaluate(&self.root, ctx)
    }

    /// The text this expression was parsed from, as given.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Expr {
    type Err = ExprError;

    fn from_str(text: &str) -> Result<Expr, ExprError> {
        parse(text)
    }
}

/// What an expression needs from the debugger to be evaluated.
pub trait EvalContext {
    /// A register by name (rax, eax, ax, al, ah, r8d, rip, efl ...), None if unknown.
    ///
    /// Names arrive in lower case. Pseudo-registers the expression module
    /// does not know arrive with their `$` (`$t0`).
    fn register(&mut self, name: &str) -> Option<u64>;

    /// Reads `size` bytes (1, 2, 4 or 8) little-endian at `address`.
    ///
    /// The error should say why (`not mapped`); the evaluator adds what was
    /// read and where. Bits above `size` bytes in the result are ignored.
    fn read_memory(&mut self, address: u64, size: usize) -> Result<u64, String>;

    /// Resolves a symbol: `module!symbol`, a bare `symbol`, or a source location `file.c:42`.
    ///
    /// The name arrives as written (backticks removed). The error message is
    /// shown to the user as it is, so it should name the symbol.
    fn symbol(&mut self, name: &str) -> Result<u64, String>;
}

/// What went wrong, for a caller that wants to react rather than print.
///
/// A breakpoint on `libfoo!bar` that fails with [`ExprErrorKind::Symbol`],
/// for instance, may be deferred until the module loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExprErrorKind {
    /// The text is not a valid expression (found by [`parse`]).
    Syntax,
    /// `@name` or `$name` named a register the context does not know.
    UnknownRegister,
    /// The context could not resolve a symbol.
    Symbol,
    /// The context could not read memory for `poi`, `dwo` ...
    Memory,
    /// Division or remainder by zero.
    DivisionByZero,
    /// (Typed expressions) an operation that does not fit the operands' types.
    Type,
    /// (Typed expressions) a type name that names no type.
    UnknownType,
    /// (Typed expressions) a value the compiler optimized out.
    OptimizedOut,
}

/// A parse or evaluation error, at a 1-based column of the expression text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ExprError {
    /// 1-based column (in characters) of the problem in the text. One past
    /// the last character when the text ended too early.
    pub column: usize,
    /// What was wrong, for a person.
    pub message: String,
    /// What was wrong, for a program.
    pub kind: ExprErrorKind,
}

impl ExprError {
    pub(crate) fn new(kind: ExprErrorKind, column: usize, message: impl Into<String>) -> ExprError {
        ExprError { column, message: message.into(), kind }
    }

    pub(crate) fn syntax(column: usize, message: impl Into<String>) -> ExprError {
        ExprError::new(ExprErrorKind::Syntax, column, message)
    }

    /// Shows the line of `text` that holds the error, and under it a caret
    /// at the column followed by the message:
    ///
    /// ```text
    /// poi(rsp+)
    ///         ^ expected an operand
    /// ```
    ///
    /// Tabs before the column are repeated under the line so the caret
    /// lines up. `text` should be the text the error came from.
    pub fn pointed(&self, text: &str) -> String {
        // Find the line holding the column: the text may span lines, since
        // newlines are whitespace.
        let target = self.column.saturating_sub(1);
        let mut line_start = 0; // in characters
        let mut rest = text;
        let line = loop {
            let Some(newline) = rest.find('\n') else { break rest };
            let length = rest[..newline].chars().count();
            if target <= line_start + length {
                break &rest[..newline];
            }
            line_start += length + 1;
            rest = &rest[newline + 1..];
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let padding: String = line
            .chars()
            .chain(std::iter::repeat(' '))
            .take(target.saturating_sub(line_start))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{line}\n{padding}^ {}", self.message)
    }
}
