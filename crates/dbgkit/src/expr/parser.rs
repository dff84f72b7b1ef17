//! Builds the syntax tree: recursive descent for operands and prefix
//! operators, precedence climbing for binary operators.
//!
//! Every node keeps the column it came from, because evaluation errors
//! (an unknown symbol, a failed read, a division by zero) must point at
//! the part of the text that caused them.

use super::lexer::{Lexer, Punct, Token, TokenKind};
use super::ExprError;

/// Deepest nesting accepted, of parentheses, prefix operators and chains of
/// binary operators alike. The parser and the evaluator recurse once per
/// level, so without a limit `((((...` could overflow the stack, which
/// aborts the whole debugger. No person writes 256 levels.
pub(super) const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UnaryOp {
    Negate,
    Plus,
    BitNot,
    LogicalNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinaryOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    BitAnd,
    BitXor,
    BitOr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinaryOp {
    /// The operator a token stands for between two operands, and how tightly
    /// it binds (higher binds tighter), following C.
    fn from_punct(punct: Punct) -> Option<(BinaryOp, u8)> {
        Some(match punct {
            Punct::OrOr => (BinaryOp::Or, 1),
            Punct::AndAnd => (BinaryOp::And, 2),
            Punct::Pipe => (BinaryOp::BitOr, 3),
            Punct::Caret => (BinaryOp::BitXor, 4),
            Punct::Amp => (BinaryOp::BitAnd, 5),
            Punct::EqEq => (BinaryOp::Eq, 6),
            Punct::NotEq => (BinaryOp::Ne, 6),
            Punct::Lt => (BinaryOp::Lt, 7),
            Punct::Le => (BinaryOp::Le, 7),
            Punct::Gt => (BinaryOp::Gt, 7),
            Punct::Ge => (BinaryOp::Ge, 7),
            Punct::Shl => (BinaryOp::Shl, 8),
            Punct::Shr => (BinaryOp::Shr, 8),
            Punct::Plus => (BinaryOp::Add, 9),
            Punct::Minus => (BinaryOp::Sub, 9),
            Punct::Star => (BinaryOp::Mul, 10),
            Punct::Slash => (BinaryOp::Div, 10),
            Punct::Percent => (BinaryOp::Rem, 10),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NodeKind {
    Number(u64),
    /// Only a register: `@rax`, `$ip`. `name` is what the context is asked
    /// for (lower case, pseudo-registers mapped), `written` is for messages.
    Register {
        name: String,
        written: String,
    },
    /// A plain word such as `rax` or `main`: a register if the context knows
    /// one by that name, otherwise a symbol.
    Name(String),
    /// Only a symbol: `libc!malloc`, `file.c:42`, a quoted name.
    Symbol(String),
    /// A symbol in a module whose name has `-` or `+`
    /// (`libstdc++.so.6!__cxa_throw`), or, if no module has that name,
    /// the same text read as arithmetic (`rsp+libc.so.6!malloc`).
    SymbolOr {
        name: String,
        arithmetic: Box<Node>,
    },
    /// `poi(x)` and its kin: read `size` bytes at the argument.
    Read {
        function: &'static str,
        size: usize,
        address: Box<Node>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Node>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub kind: NodeKind,
    /// Where errors about this node point: the operand itself, the function
    /// name, or the operator.
    pub column: usize,
    /// Height of the tree under this node, to enforce [`MAX_DEPTH`] without
    /// walking the tree again for every new node.
    depth: usize,
}

impl Node {
    fn new(kind: NodeKind, column: usize) -> Result<Node, ExprError> {
        let below = match &kind {
            NodeKind::SymbolOr { arithmetic, .. } => arithmetic.depth,
            NodeKind::Read { address, .. } => address.depth,
            NodeKind::Unary { operand, .. } => operand.depth,
            NodeKind::Binary { lhs, rhs, .. } => lhs.depth.max(rhs.depth),
            _ => 0,
        };
        if below >= MAX_DEPTH {
            return Err(too_deep(column));
        }
        Ok(Node { kind, column, depth: below + 1 })
    }
}

fn too_deep(column: usize) -> ExprError {
    ExprError::syntax(column, format!("expression too complex: more than {MAX_DEPTH} levels of nesting"))
}

/// The memory-reading functions and the bytes each reads. Looked up without
/// regard to case, as WinDbg does.
fn read_function(name: &str) -> Option<(&'static str, usize)> {
    const FUNCTIONS: [(&str, usize); 5] = [("poi", 8), ("qwo", 8), ("dwo", 4), ("wo", 2), ("by", 1)];
    FUNCTIONS.iter().copied().find(|(function, _)| function.eq_ignore_ascii_case(name))
}

/// The register a pseudo-register or register name stands for.
fn register_name(written: &str) -> String {
    let name = written.to_ascii_lowercase();
    match name.as_str() {
        "$ip" => "rip".to_string(),
        "$sp" | "$csp" => "rsp".to_string(),
        "$retreg" => "rax".to_string(),
        _ => name,
    }
}

/// A word worth asking the context about as a register: plain letters,
/// digits and underscores. `libc!malloc` or `file.c:42` never is one.
fn is_plain(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn parse(text: &str) -> Result<Node, ExprError> {
    parse_with(text, Lexer::new(text))
}

/// Parses `text` with a lexer that reads `-` and `+` as operators only;
/// columns counted from `first_column`.
fn parse_arithmetic(text: &str, first_column: usize) -> Result<Node, ExprError> {
    let mut node = parse_with(text, Lexer::without_module_names(text)).map_err(|mut e| {
        e.column += first_column - 1;
        e
    })?;
    shift_columns(&mut node, first_column - 1);
    Ok(node)
}

fn shift_columns(node: &mut Node, by: usize) {
    node.column += by;
    match &mut node.kind {
        NodeKind::SymbolOr { arithmetic, .. } => shift_columns(arithmetic, by),
        NodeKind::Read { address, .. } => shift_columns(address, by),
        NodeKind::Unary { operand, .. } => shift_columns(operand, by),
        NodeKind::Binary { lhs, rhs, .. } => {
            shift_columns(lhs, by);
            shift_columns(rhs, by);
        }
        _ => {}
    }
}

fn parse_with<'a>(text: &'a str, mut lexer: Lexer<'a>) -> Result<Node, ExprError> {
    let current = lexer.next_token()?;
    if current.kind == TokenKind::End {
        return Err(ExprError::syntax(1, "empty expression"));
    }
    let mut parser = Parser { text, lexer, current, depth: 0 };
    let root = parser.binary(1)?;
    match &parser.current.kind {
        TokenKind::End => Ok(root),
        TokenKind::Punct(Punct::RParen) => {
            Err(ExprError::syntax(parser.current.column, "unbalanced parenthesis: this `)` has no matching `(`"))
        }
        _ => {
            let found = parser.spelling(&parser.current);
            Err(ExprError::syntax(parser.current.column, format!("trailing input `{found}`: expected an operator")))
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    lexer: Lexer<'a>,
    /// The next token, not yet consumed.
    current: Token,
    /// How many operands are being parsed inside one another.
    depth: usize,
}

impl Parser<'_> {
    /// Consumes the current token and reads the next one.
    fn bump(&mut self) -> Result<Token, ExprError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.current, next))
    }

    fn spelling(&self, token: &Token) -> &str {
        &self.text[token.start..token.end]
    }

    fn current_binary_op(&self) -> Option<(BinaryOp, u8)> {
        match self.current.kind {
            TokenKind::Punct(punct) => BinaryOp::from_punct(punct),
            _ => None,
        }
    }

    /// Precedence climbing: an operand, then every following operator that
    /// binds at least as tightly as `min_precedence`. Operators group left to
    /// right, so the right side only takes operators that bind tighter.
    fn binary(&mut self, min_precedence: u8) -> Result<Node, ExprError> {
        let mut lhs = self.unary()?;
        while let Some((op, precedence)) = self.current_binary_op() {
            if precedence < min_precedence {
                break;
            }
            let operator = self.bump()?;
            let rhs = self.binary(precedence + 1)?;
            lhs = Node::new(NodeKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, operator.column)?;
        }
        Ok(lhs)
    }

    /// Prefix operators, then an operand. Every nested operand passes here,
    /// so this is where the recursion is counted.
    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(self.current.column));
        }
        self.depth += 1;
        let node = self.unary_inner();
        self.depth -= 1;
        node
    }

    fn unary_inner(&mut self) -> Result<Node, ExprError> {
        let op = match self.current.kind {
            TokenKind::Punct(Punct::Minus) => UnaryOp::Negate,
            TokenKind::Punct(Punct::Plus) => UnaryOp::Plus,
            TokenKind::Punct(Punct::Tilde) => UnaryOp::BitNot,
            TokenKind::Punct(Punct::Bang) => UnaryOp::LogicalNot,
            _ => return self.primary(),
        };
        let operator = self.bump()?;
        let operand = self.unary()?;
        Node::new(NodeKind::Unary { op, operand: Box::new(operand) }, operator.column)
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        // Refuse a token that cannot start an operand before reading past
        // it, so that the error is not masked by a later one.
        if matches!(self.current.kind, TokenKind::End)
            || matches!(self.current.kind, TokenKind::Punct(punct) if punct != Punct::LParen)
        {
            return Err(ExprError::syntax(self.current.column, "expected an operand"));
        }
        let token = self.bump()?;
        let column = token.column;
        let kind = match token.kind {
            TokenKind::Number(value) => NodeKind::Number(value),
            TokenKind::Register(written) => {
                NodeKind::Register { name: register_name(&written), written: format!("@{written}") }
            }
            TokenKind::Name(name) if self.current.kind == TokenKind::Punct(Punct::LParen) => {
                let Some((function, size)) = read_function(&name) else {
                    return Err(ExprError::syntax(column, format!("unknown function {name}")));
                };
                let open = self.bump()?;
                let address = self.binary(1)?;
                self.close(open.column)?;
                NodeKind::Read { function, size, address: Box::new(address) }
            }
            TokenKind::Name(name) if name.starts_with('$') => {
                NodeKind::Register { name: register_name(&name), written: name }
            }
            TokenKind::Name(name) if is_plain(&name) => NodeKind::Name(name),
            TokenKind::Name(name) | TokenKind::Quoted(name) => NodeKind::Symbol(name),
            // Read as arithmetic too when that makes sense (`rsp+libc.so.6!malloc`).
            TokenKind::ModuleName { name, .. } => match parse_arithmetic(&self.text[token.start..token.end], column) {
                Ok(arithmetic) => NodeKind::SymbolOr { name, arithmetic: Box::new(arithmetic) },
                Err(_) => NodeKind::Symbol(name),
            },
            TokenKind::Punct(Punct::LParen) => {
                // Parentheses make no node of their own.
                let inner = self.binary(1)?;
                self.close(column)?;
                return Ok(inner);
            }
            TokenKind::Punct(_) | TokenKind::End => return Err(ExprError::syntax(column, "expected an operand")),
        };
        Node::new(kind, column)
    }

    /// Consumes the `)` that closes the `(` at `open_column`.
    fn close(&mut self, open_column: usize) -> Result<(), ExprError> {
        match self.current.kind {
            TokenKind::Punct(Punct::RParen) => {
                self.bump()?;
                Ok(())
            }
            TokenKind::End => Err(ExprError::syntax(open_column, "unbalanced parenthesis: this `(` is never closed")),
            _ => {
                let found = self.spelling(&self.current);
                Err(ExprError::syntax(self.current.column, format!("expected an operator or `)`, found `{found}`")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as a fully parenthesised string, to check grouping.
    fn show(node: &Node) -> String {
        match &node.kind {
            NodeKind::Number(value) => value.to_string(),
            NodeKind::Register { name, .. } => format!("@{name}"),
            NodeKind::Name(name) => name.clone(),
            NodeKind::Symbol(name) => format!("sym({name})"),
            NodeKind::SymbolOr { name, arithmetic } => format!("sym({name})|{}", show(arithmetic)),
            NodeKind::Read { function, address, .. } => format!("{function}({})", show(address)),
            NodeKind::Unary { op, operand } => format!("({op:?} {})", show(operand)),
            NodeKind::Binary { op, lhs, rhs } => format!("({} {op:?} {})", show(lhs), show(rhs)),
        }
    }

    fn tree(text: &str) -> String {
        show(&parse(text).unwrap())
    }

    #[test]
    fn precedence_follows_c() {
        assert_eq!(tree("1 + 2 * 3"), "(1 Add (2 Mul 3))");
        assert_eq!(tree("1 << 2 + 3"), "(1 Shl (2 Add 3))");
        assert_eq!(tree("1 < 2 == 3 > 4"), "((1 Lt 2) Eq (3 Gt 4))");
        assert_eq!(tree("1 & 2 == 2"), "(1 BitAnd (2 Eq 2))");
        assert_eq!(tree("1 | 2 ^ 3 & 4"), "(1 BitOr (2 BitXor (3 BitAnd 4)))");
        assert_eq!(tree("1 || 2 && 3 | 4"), "(1 Or (2 And (3 BitOr 4)))");
        assert_eq!(tree("-1 * ~2"), "((Negate 1) Mul (BitNot 2))");
        assert_eq!(tree("!a == b"), "((LogicalNot a) Eq b)");
    }

    #[test]
    fn binary_operators_group_left_to_right() {
        assert_eq!(tree("10 - 3 - 2"), "((10 Sub 3) Sub 2)");
        assert_eq!(tree("8 / 4 % 3 * 2"), "(((8 Div 4) Rem 3) Mul 2)");
        assert_eq!(tree("1 << 2 >> 3"), "((1 Shl 2) Shr 3)");
    }

    #[test]
    fn operands() {
        assert_eq!(tree("poi(rsp + 8)"), "poi((rsp Add 8))");
        assert_eq!(tree("DWO(x)"), "dwo(x)");
        assert_eq!(tree("@RAX + $ip + @$sp"), "((@rax Add @rip) Add @rsp)");
        assert_eq!(tree("libc!malloc + `a-b.c:3`"), "(sym(libc!malloc) Add sym(a-b.c:3))");
        assert_eq!(tree("((((1))))"), "1");
    }

    #[test]
    fn module_names_with_signs_keep_an_arithmetic_reading() {
        assert_eq!(tree("libstdc++.so.6!__cxa_throw"), "sym(libstdc++.so.6!__cxa_throw)");
        assert_eq!(tree("ld-linux-x86-64.so.2!_dl_map_object"), "sym(ld-linux-x86-64.so.2!_dl_map_object)");
        assert_eq!(tree("rsp+libc.so.6!malloc"), "sym(rsp+libc.so.6!malloc)|(rsp Add sym(libc.so.6!malloc))");
        assert_eq!(tree("`a-b.so!x` + 1"), "(sym(a-b.so!x) Add 1)");
    }

    #[test]
    fn nodes_remember_their_columns() {
        let root = parse("1 +  poi(x)").unwrap();
        assert_eq!(root.column, 3);
        let NodeKind::Binary { rhs, .. } = &root.kind else { panic!("not binary") };
        assert_eq!(rhs.column, 6);
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        let text = format!("{}1{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
        assert_eq!(tree(&text), "1");
        let text = format!("{}1", "-".repeat(MAX_DEPTH - 1));
        assert!(parse(&text).is_ok());
        let text = format!("{}1", "-".repeat(MAX_DEPTH + 1));
        assert!(parse(&text).unwrap_err().message.starts_with("expression too complex"));
    }
}
