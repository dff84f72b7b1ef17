//! Builds the syntax tree of a C expression: precedence climbing for
//! binary operators, recursive descent for the rest.
//!
//! C cannot be parsed without knowing which names are types: `(node *) p`
//! is a cast, `(n) - 1` a subtraction. The parser asks a [`TypeOracle`]
//! about parenthesised names and about `name<...>` template names.

use super::lexer::{IntSuffix, Lexer, Punct, Token, TokenKind};
use crate::expr::ExprError;

/// Deepest nesting accepted (see the WinDbg parser: recursion must be bounded).
pub(super) const MAX_DEPTH: usize = 64;

/// Answers the parser's question: is this name a type?
pub trait TypeOracle {
    /// Whether `name` (`node`, `geometry::Point`, `std::string`) names a type.
    fn is_type(&mut self, name: &str) -> bool;
    /// Whether `name` names anything (a variable, function or type), for
    /// names with template arguments (`twice<int>`).
    fn is_known(&mut self, name: &str) -> bool {
        self.is_type(name)
    }
}

/// An oracle that knows only the C keywords' types.
pub struct NoTypes;

impl TypeOracle for NoTypes {
    fn is_type(&mut self, _: &str) -> bool {
        false
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UnaryOp {
    Negate,
    Plus,
    Not,
    BitNot,
    Deref,
    AddressOf,
    PreIncrement,
    PreDecrement,
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
    fn from_punct(p: Punct) -> Option<(BinaryOp, u8)> {
        Some(match p {
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

/// A type as written in a cast or `sizeof`: a base name and declarator parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSpec {
    /// `int`, `unsigned long`, `struct node`, `geometry::Point`.
    pub base: String,
    pub is_const: bool,
    /// Pointer levels (`*`), outermost last.
    pub pointers: usize,
    /// A reference (`&`).
    pub reference: bool,
    /// Array dimensions after the pointers (`int [3]`).
    pub arrays: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum NodeKind {
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
    Bool(bool),
    Name(String),
    Dollar(String),
    Unary {
        op: UnaryOp,
        operand: Box<Node>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Assign {
        op: Option<BinaryOp>,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Member {
        base: Box<Node>,
        name: String,
        arrow: bool,
    },
    Index {
        base: Box<Node>,
        index: Box<Node>,
    },
    Cast {
        ty: TypeSpec,
        operand: Box<Node>,
    },
    /// gdb's `{TYPE} ADDR`: the object of that type at that address.
    At {
        ty: TypeSpec,
        address: Box<Node>,
    },
    SizeofType(TypeSpec),
    SizeofExpr(Box<Node>),
    Conditional {
        condition: Box<Node>,
        then: Box<Node>,
        otherwise: Box<Node>,
    },
    Comma {
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub kind: NodeKind,
    pub column: usize,
}

/// Words that start a type on their own.
const TYPE_WORDS: &[&str] = &[
    "struct", "union", "enum", "class", "const", "volatile", "unsigned", "signed", "int", "char", "short", "long",
    "float", "double", "void", "bool", "_Bool", "wchar_t", "char16_t", "char32_t",
];

/// Parses a whole text as a type name (`struct node *`, `unsigned long`).
pub(super) fn parse_type(text: &str, oracle: &mut dyn TypeOracle) -> Result<TypeSpec, ExprError> {
    let mut lexer = Lexer::new(text);
    let current = lexer.next_token()?;
    let mut parser = Parser { lexer, current, depth: 0, oracle };
    let spec = parser.type_spec()?;
    if parser.current.kind != TokenKind::End {
        let found = parser.spelling(&parser.current).to_string();
        return Err(ExprError::syntax(parser.current.column, format!("A syntax error in expression, near `{found}'.")));
    }
    Ok(spec)
}

pub(super) fn parse(text: &str, oracle: &mut dyn TypeOracle) -> Result<Node, ExprError> {
    let mut lexer = Lexer::new(text);
    let current = lexer.next_token()?;
    if current.kind == TokenKind::End {
        return Err(ExprError::syntax(1, "empty expression"));
    }
    let mut parser = Parser { lexer, current, depth: 0, oracle };
    let root = parser.comma()?;
    match &parser.current.kind {
        TokenKind::End => Ok(root),
        TokenKind::Punct(Punct::RParen) => {
            Err(ExprError::syntax(parser.current.column, "unbalanced parenthesis: this `)` has no matching `(`"))
        }
        _ => {
            let found = parser.spelling(&parser.current).to_string();
            Err(ExprError::syntax(parser.current.column, format!("A syntax error in expression, near `{found}'.")))
        }
    }
}

struct Parser<'a, 'o> {
    lexer: Lexer<'a>,
    current: Token,
    depth: usize,
    oracle: &'o mut dyn TypeOracle,
}

impl Parser<'_, '_> {
    fn bump(&mut self) -> Result<Token, ExprError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.current, next))
    }

    fn spelling(&self, token: &Token) -> &str {
        self.lexer.slice(token.start, token.end)
    }

    fn is(&self, p: Punct) -> bool {
        self.current.kind == TokenKind::Punct(p)
    }

    fn expect(&mut self, p: Punct, what: &str) -> Result<Token, ExprError> {
        if self.is(p) {
            return self.bump();
        }
        let found = self.spelling(&self.current).to_string();
        let found = if found.is_empty() { "the end".to_string() } else { format!("`{found}`") };
        Err(ExprError::syntax(self.current.column, format!("expected `{}` {what}, found {found}", p.spelling())))
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        if self.depth >= MAX_DEPTH {
            return Err(ExprError::syntax(
                self.current.column,
                format!("expression too complex: more than {MAX_DEPTH} levels of nesting"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn node(kind: NodeKind, column: usize) -> Node {
        Node { kind, column }
    }

    fn comma(&mut self) -> Result<Node, ExprError> {
        let mut lhs = self.assignment()?;
        while self.is(Punct::Comma) {
            let op = self.bump()?;
            let rhs = self.assignment()?;
            lhs = Self::node(NodeKind::Comma { lhs: Box::new(lhs), rhs: Box::new(rhs) }, op.column);
        }
        Ok(lhs)
    }

    fn assignment(&mut self) -> Result<Node, ExprError> {
        self.enter()?;
        let result = self.assignment_inner();
        self.depth -= 1;
        result
    }

    fn assignment_inner(&mut self) -> Result<Node, ExprError> {
        let lhs = self.conditional()?;
        let op = match self.current.kind {
            TokenKind::Punct(Punct::Assign) => None,
            TokenKind::Punct(Punct::PlusAssign) => Some(BinaryOp::Add),
            TokenKind::Punct(Punct::MinusAssign) => Some(BinaryOp::Sub),
            TokenKind::Punct(Punct::StarAssign) => Some(BinaryOp::Mul),
            TokenKind::Punct(Punct::SlashAssign) => Some(BinaryOp::Div),
            _ => return Ok(lhs),
        };
        let token = self.bump()?;
        let rhs = self.assignment()?;
        Ok(Self::node(NodeKind::Assign { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, token.column))
    }

    fn conditional(&mut self) -> Result<Node, ExprError> {
        let condition = self.binary(1)?;
        if !self.is(Punct::Question) {
            return Ok(condition);
        }
        let token = self.bump()?;
        let then = self.comma()?;
        self.expect(Punct::Colon, "in a conditional expression")?;
        let otherwise = self.assignment()?;
        Ok(Self::node(
            NodeKind::Conditional {
                condition: Box::new(condition),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            },
            token.column,
        ))
    }

    fn binary(&mut self, min: u8) -> Result<Node, ExprError> {
        let mut lhs = self.unary()?;
        while let Some((op, precedence)) = match self.current.kind {
            TokenKind::Punct(p) => BinaryOp::from_punct(p),
            _ => None,
        } {
            if precedence < min {
                break;
            }
            let token = self.bump()?;
            self.enter()?;
            let rhs = self.binary(precedence + 1);
            self.depth -= 1;
            lhs = Self::node(NodeKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs?) }, token.column);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        self.enter()?;
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Node, ExprError> {
        let op = match &self.current.kind {
            TokenKind::Punct(Punct::Minus) => Some(UnaryOp::Negate),
            TokenKind::Punct(Punct::Plus) => Some(UnaryOp::Plus),
            TokenKind::Punct(Punct::Bang) => Some(UnaryOp::Not),
            TokenKind::Punct(Punct::Tilde) => Some(UnaryOp::BitNot),
            TokenKind::Punct(Punct::Star) => Some(UnaryOp::Deref),
            TokenKind::Punct(Punct::Amp) => Some(UnaryOp::AddressOf),
            TokenKind::Punct(Punct::Increment) => Some(UnaryOp::PreIncrement),
            TokenKind::Punct(Punct::Decrement) => Some(UnaryOp::PreDecrement),
            _ => None,
        };
        if let Some(op) = op {
            let token = self.bump()?;
            let operand = self.unary()?;
            return Ok(Self::node(NodeKind::Unary { op, operand: Box::new(operand) }, token.column));
        }
        if let TokenKind::Name(name) = &self.current.kind {
            if name == "sizeof" {
                let token = self.bump()?;
                if self.is(Punct::LParen) && self.starts_type_after_paren()? {
                    self.bump()?;
                    let ty = self.type_spec()?;
                    self.expect(Punct::RParen, "after the type")?;
                    return Ok(Self::node(NodeKind::SizeofType(ty), token.column));
                }
                let operand = self.unary()?;
                return Ok(Self::node(NodeKind::SizeofExpr(Box::new(operand)), token.column));
            }
        }
        if self.is(Punct::LBrace) {
            // gdb's `{int} 0x1234`.
            let token = self.bump()?;
            let ty = self.type_spec()?;
            self.expect(Punct::RBrace, "after the type")?;
            let address = self.unary()?;
            return Ok(Self::node(NodeKind::At { ty, address: Box::new(address) }, token.column));
        }
        if self.is(Punct::LParen) && self.starts_type_after_paren()? {
            let token = self.bump()?;
            let ty = self.type_spec()?;
            self.expect(Punct::RParen, "after the type of a cast")?;
            let operand = self.unary()?;
            return Ok(Self::node(NodeKind::Cast { ty, operand: Box::new(operand) }, token.column));
        }
        self.postfix()
    }

    /// With `(` current: whether a type follows it (a cast or `sizeof(type)`).
    fn starts_type_after_paren(&mut self) -> Result<bool, ExprError> {
        let saved = self.lexer.position();
        let token = self.lexer.next_token()?;
        let answer = match &token.kind {
            TokenKind::Name(name) => {
                if TYPE_WORDS.contains(&name.as_str()) {
                    true
                } else {
                    let full = self.with_template(name, token.end);
                    self.oracle.is_type(&full)
                }
            }
            _ => false,
        };
        self.lexer.set_position(saved);
        Ok(answer)
    }

    /// `name` extended by template arguments that follow it in the text
    /// (`twice<int>`, `std::vector<int>::size`), when the oracle knows it.
    fn with_template(&mut self, name: &str, end: usize) -> String {
        let Some(after) = self.lexer.template_end(end) else { return name.to_string() };
        let full_end = self.lexer.name_continuation_end(after);
        let candidate = format!("{name}{}", self.lexer.slice(end, full_end));
        if self.oracle.is_known(&candidate) {
            candidate
        } else {
            name.to_string()
        }
    }

    /// A type name with pointers and array dimensions: `unsigned long`,
    /// `struct node *`, `const char *`, `geometry::Point &`, `int [3]`.
    fn type_spec(&mut self) -> Result<TypeSpec, ExprError> {
        let mut words: Vec<String> = Vec::new();
        let mut is_const = false;
        let start_column = self.current.column;
        while let TokenKind::Name(name) = &self.current.kind {
            let name = name.clone();
            match name.as_str() {
                "const" => is_const = true,
                "volatile" => {}
                "struct" | "union" | "enum" | "class" => {
                    words.push(name.clone());
                    let token = self.bump()?;
                    let _ = token;
                    let TokenKind::Name(tag) = &self.current.kind else {
                        return Err(ExprError::syntax(self.current.column, format!("expected a name after `{name}`")));
                    };
                    let tag = tag.clone();
                    let end = self.current.end;
                    let full = self.with_template(&tag, end);
                    self.consume_name(&full)?;
                    words.push(full);
                    continue;
                }
                _ if TYPE_WORDS.contains(&name.as_str()) => words.push(name.clone()),
                _ => {
                    // A typedef or class name, once.
                    if words.iter().any(|w| !TYPE_WORDS.contains(&w.as_str())) || !words.is_empty() {
                        break;
                    }
                    let end = self.current.end;
                    let full = self.with_template(&name, end);
                    self.consume_name(&full)?;
                    words.push(full);
                    continue;
                }
            }
            self.bump()?;
        }
        if words.is_empty() {
            return Err(ExprError::syntax(start_column, "expected a type name"));
        }
        let mut pointers = 0;
        let mut reference = false;
        loop {
            match &self.current.kind {
                TokenKind::Punct(Punct::Star) => pointers += 1,
                TokenKind::Punct(Punct::Amp) => reference = true,
                TokenKind::Name(n) if n == "const" || n == "volatile" => {}
                _ => break,
            }
            self.bump()?;
        }
        let mut arrays = Vec::new();
        while self.is(Punct::LBracket) {
            self.bump()?;
            let TokenKind::Int { value, .. } = self.current.kind else {
                return Err(ExprError::syntax(self.current.column, "expected an array size"));
            };
            self.bump()?;
            self.expect(Punct::RBracket, "after the array size")?;
            arrays.push(value as u64);
        }
        Ok(TypeSpec { base: words.join(" "), is_const, pointers, reference, arrays })
    }

    /// Consumes the current name token, and the template arguments and
    /// continuation that extend it into `full`.
    fn consume_name(&mut self, full: &str) -> Result<(), ExprError> {
        let TokenKind::Name(name) = &self.current.kind else { return self.bump().map(|_| ()) };
        let extra = full.len().saturating_sub(name.len());
        self.lexer.set_position(self.current.end + extra);
        self.current = self.lexer.next_token()?;
        Ok(())
    }

    fn postfix(&mut self) -> Result<Node, ExprError> {
        let mut node = self.primary()?;
        loop {
            match self.current.kind {
                TokenKind::Punct(Punct::Dot) | TokenKind::Punct(Punct::Arrow) => {
                    let arrow = self.is(Punct::Arrow);
                    let token = self.bump()?;
                    let TokenKind::Name(name) = &self.current.kind else {
                        return Err(ExprError::syntax(self.current.column, "expected a member name"));
                    };
                    let name = name.clone();
                    self.bump()?;
                    node = Self::node(NodeKind::Member { base: Box::new(node), name, arrow }, token.column);
                }
                TokenKind::Punct(Punct::LBracket) => {
                    let token = self.bump()?;
                    self.enter()?;
                    let index = self.comma();
                    self.depth -= 1;
                    let index = index?;
                    self.expect(Punct::RBracket, "after the index")?;
                    node = Self::node(NodeKind::Index { base: Box::new(node), index: Box::new(index) }, token.column);
                }
                TokenKind::Punct(Punct::LParen) => {
                    return Err(ExprError::syntax(self.current.column, "calling functions is not supported here"));
                }
                TokenKind::Punct(Punct::Increment) | TokenKind::Punct(Punct::Decrement) => {
                    return Err(ExprError::syntax(
                        self.current.column,
                        "postfix ++ and -- are not supported: write x = x + 1",
                    ));
                }
                _ => return Ok(node),
            }
            if self.depth > MAX_DEPTH {
                return Err(ExprError::syntax(self.current.column, "expression too complex"));
            }
        }
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let column = self.current.column;
        match self.current.kind.clone() {
            TokenKind::Int { value, suffix, decimal } => {
                self.bump()?;
                Ok(Self::node(NodeKind::Int { value, suffix, decimal }, column))
            }
            TokenKind::Float { value, single } => {
                self.bump()?;
                Ok(Self::node(NodeKind::Float { value, single }, column))
            }
            TokenKind::Char(c) => {
                self.bump()?;
                Ok(Self::node(NodeKind::Char(c), column))
            }
            TokenKind::Str(mut bytes) => {
                self.bump()?;
                // Adjacent literals join, as in C.
                while let TokenKind::Str(more) = &self.current.kind {
                    bytes.extend_from_slice(more);
                    self.bump()?;
                }
                Ok(Self::node(NodeKind::Str(bytes), column))
            }
            TokenKind::Dollar(name) => {
                self.bump()?;
                Ok(Self::node(NodeKind::Dollar(name), column))
            }
            TokenKind::Name(name) => {
                match name.as_str() {
                    "true" | "false" => {
                        self.bump()?;
                        return Ok(Self::node(NodeKind::Bool(name == "true"), column));
                    }
                    "nullptr" | "NULL" => {
                        self.bump()?;
                        return Ok(Self::node(
                            NodeKind::Int {
                                value: 0,
                                suffix: IntSuffix { unsigned: false, long: true },
                                decimal: true,
                            },
                            column,
                        ));
                    }
                    _ => {}
                }
                let end = self.current.end;
                let full = self.with_template(&name, end);
                self.consume_name(&full)?;
                Ok(Self::node(NodeKind::Name(full), column))
            }
            TokenKind::Punct(Punct::LParen) => {
                self.bump()?;
                self.enter()?;
                let inner = self.comma();
                self.depth -= 1;
                let inner = inner?;
                if self.current.kind == TokenKind::End {
                    return Err(ExprError::syntax(column, "unbalanced parenthesis: this `(` is never closed"));
                }
                self.expect(Punct::RParen, "to close the parenthesis")?;
                Ok(inner)
            }
            TokenKind::End => Err(ExprError::syntax(column, "expected an operand, found the end")),
            TokenKind::Punct(p) => {
                Err(ExprError::syntax(column, format!("expected an operand, found `{}`", p.spelling())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Types;
    impl TypeOracle for Types {
        fn is_type(&mut self, name: &str) -> bool {
            matches!(name, "node" | "binary_op" | "geometry::Point")
        }
        fn is_known(&mut self, name: &str) -> bool {
            name == "twice<int>" || self.is_type(name)
        }
    }

    fn show(node: &Node) -> String {
        match &node.kind {
            NodeKind::Int { value, .. } => value.to_string(),
            NodeKind::Float { value, .. } => format!("{value}"),
            NodeKind::Char(c) => format!("'{c}'"),
            NodeKind::Str(s) => format!("{:?}", String::from_utf8_lossy(s)),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Name(n) => n.clone(),
            NodeKind::Dollar(n) => format!("${n}"),
            NodeKind::Unary { op, operand } => format!("({op:?} {})", show(operand)),
            NodeKind::Binary { op, lhs, rhs } => format!("({} {op:?} {})", show(lhs), show(rhs)),
            NodeKind::Assign { op, lhs, rhs } => format!("({} ={op:?} {})", show(lhs), show(rhs)),
            NodeKind::Member { base, name, arrow } => {
                format!("{}{}{name}", show(base), if *arrow { "->" } else { "." })
            }
            NodeKind::Index { base, index } => format!("{}[{}]", show(base), show(index)),
            NodeKind::Cast { ty, operand } => format!("(cast {} {} {})", ty.base, ty.pointers, show(operand)),
            NodeKind::At { ty, address } => format!("{{{}}}{}", ty.base, show(address)),
            NodeKind::SizeofType(ty) => format!("sizeof({})", ty.base),
            NodeKind::SizeofExpr(e) => format!("sizeof {}", show(e)),
            NodeKind::Conditional { condition, then, otherwise } => {
                format!("({} ? {} : {})", show(condition), show(then), show(otherwise))
            }
            NodeKind::Comma { lhs, rhs } => format!("({}, {})", show(lhs), show(rhs)),
        }
    }

    fn tree(text: &str) -> String {
        show(&parse(text, &mut Types).unwrap())
    }

    #[test]
    fn c_precedence_and_postfix() {
        assert_eq!(tree("a + b * c"), "(a Add (b Mul c))");
        assert_eq!(tree("*p->next"), "(Deref p->next)");
        assert_eq!(tree("&arr[1].x"), "(AddressOf arr[1].x)");
        assert_eq!(tree("-x.y * 2"), "((Negate x.y) Mul 2)");
        assert_eq!(tree("x = y = 3"), "(x =None (y =None 3))");
        assert_eq!(tree("a ? b : c"), "(a ? b : c)");
        assert_eq!(tree("p->x == 3 && q"), "((p->x Eq 3) And q)");
    }

    #[test]
    fn casts_need_type_names() {
        assert_eq!(tree("(struct node *)addr"), "(cast struct node 1 addr)");
        assert_eq!(tree("(node *) p"), "(cast node 1 p)");
        assert_eq!(tree("(unsigned long)x"), "(cast unsigned long 0 x)");
        assert_eq!(tree("(n) - 1"), "(n Sub 1)");
        assert_eq!(tree("sizeof(struct node)"), "sizeof(struct node)");
        assert_eq!(tree("sizeof x"), "sizeof x");
        assert_eq!(tree("{int} 0x10"), "{int}16");
        assert_eq!(tree("(geometry::Point *)0"), "(cast geometry::Point 1 0)");
    }

    #[test]
    fn template_names_when_known() {
        assert_eq!(tree("twice<int>"), "twice<int>");
        assert_eq!(tree("a<b"), "(a Lt b)");
        assert_eq!(tree("a < b > c"), "((a Lt b) Gt c)");
    }

    #[test]
    fn errors_say_where() {
        let e = parse("1 +", &mut Types).unwrap_err();
        assert_eq!(e.column, 4);
        let e = parse("(1", &mut Types).unwrap_err();
        assert_eq!(e.column, 1);
        let e = parse("f(1)", &mut Types).unwrap_err();
        assert!(e.message.contains("calling functions"), "{}", e.message);
        let e = parse("a b", &mut Types).unwrap_err();
        assert_eq!(e.column, 3);
    }
}
