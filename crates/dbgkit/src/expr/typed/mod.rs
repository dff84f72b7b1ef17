//! Expressions in the language of the program being debugged (C and C++
//! rules, which Rust's simple expressions share): `p->next->value`,
//! `arr[i] * 2`, `&x`, `(struct node *) addr`, `s.bits.neg == -3`,
//! `x = 5`. Values are typed ([`crate::debuginfo::Value`]); arithmetic
//! follows C's promotions and conversions.
//!
//! Like the WinDbg-flavoured language of [`crate::expr`], the module knows
//! nothing of processes: the engine plugs in through [`TypedContext`]
//! (variables and types by name, registers, memory, writes). A text is
//! parsed once (a breakpoint condition when it is set) and evaluated any
//! number of times; errors carry the column of the problem.
//!
//! ```
//! use dbgkit::expr::typed::{self, NoTypes};
//! let parsed = typed::parse("(a + 1) * -b", &mut NoTypes).unwrap();
//! assert_eq!(parsed.names(), ["a", "b"]);
//! let error = typed::parse("a +", &mut NoTypes).unwrap_err();
//! assert_eq!(error.column, 4);
//! ```

mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use parser::{NoTypes, TypeOracle, TypeSpec};

use crate::debuginfo::types::{Language, TypeId};
use crate::debuginfo::value::{Place, Value, ValueError, ValueTarget};
use crate::expr::ExprError;
use parser::{Node, NodeKind};

/// What a typed expression needs from the debugger.
pub trait TypedContext: ValueTarget {
    /// The language of the frame: it decides the names of result types and
    /// whether comparisons give `int` (C) or `bool` (C++, Rust).
    fn language(&self) -> Language;
    /// A local, parameter, global or function by name (`Ok(None)`: no such name).
    fn variable(&mut self, name: &str) -> Result<Option<Value>, ValueError>;
    /// A type by name as written: `int`, `unsigned long`, `struct node`,
    /// `node` (a typedef or C++ class), `geometry::Point`.
    fn find_type(&mut self, name: &str) -> Option<TypeId>;
    /// A register of the frame (`rax`, `eax`, `pc`, `sp`...).
    fn register(&mut self, name: &str) -> Option<Value>;
    /// Writes bytes to a place (memory, a register, a bit-field).
    fn write(&mut self, place: &Place, bytes: &[u8]) -> Result<(), String>;
    /// The elements of a container a pretty printer knows (`v[1]` on a `std::vector`).
    fn children(&mut self, _value: &Value) -> Option<Vec<Value>> {
        None
    }
    /// Upcast to the plain value target.
    fn as_value_target(&mut self) -> &mut dyn ValueTarget;
}

/// A parsed typed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedExpr {
    root: Node,
    text: String,
}

/// Parses `text`; `oracle` says which names are types (casts need it).
pub fn parse(text: &str, oracle: &mut dyn TypeOracle) -> Result<TypedExpr, ExprError> {
    let root = parser::parse(text, oracle)?;
    Ok(TypedExpr { root, text: text.to_string() })
}

/// Parses a text that names a type (`struct node *`, `geometry::Point`,
/// `unsigned long`), as `ptype` and `whatis` accept it.
pub fn parse_type(text: &str, oracle: &mut dyn TypeOracle) -> Result<TypeSpec, ExprError> {
    parser::parse_type(text, oracle)
}

/// The type a parsed type name stands for.
pub fn resolve_type(spec: &TypeSpec, ctx: &mut dyn TypedContext) -> Result<TypeId, ExprError> {
    eval::Evaluator { ctx, no_side_effects: true }.resolve_type(spec, 1)
}

impl TypedExpr {
    /// Computes the value (assignments write through the context).
    pub fn evaluate(&self, ctx: &mut dyn TypedContext) -> Result<Value, ExprError> {
        eval::Evaluator { ctx, no_side_effects: false }.eval(&self.root)
    }

    /// Computes the value without writing anything (for `whatis`, `ptype`).
    pub fn evaluate_without_side_effects(&self, ctx: &mut dyn TypedContext) -> Result<Value, ExprError> {
        eval::Evaluator { ctx, no_side_effects: true }.eval(&self.root)
    }

    /// The text it was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The variable names it mentions (not member names), in order, once each.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect(&self.root, &mut |kind| {
            if let NodeKind::Name(n) = kind {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        });
        out
    }

    /// The registers it mentions (`$rax` gives `rax`).
    pub fn registers(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect(&self.root, &mut |kind| {
            if let NodeKind::Dollar(n) = kind {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        });
        out
    }

    /// The type names its casts and `sizeof`s mention.
    pub fn type_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect(&self.root, &mut |kind| match kind {
            NodeKind::Cast { ty, .. } | NodeKind::At { ty, .. } | NodeKind::SizeofType(ty)
                if !out.contains(&ty.base) =>
            {
                out.push(ty.base.clone());
            }
            _ => {}
        });
        out
    }

    /// Whether it assigns (`x = 5`, `x += 1`, `++x`).
    pub fn has_side_effects(&self) -> bool {
        let mut found = false;
        collect(&self.root, &mut |kind| {
            if matches!(kind, NodeKind::Assign { .. })
                || matches!(
                    kind,
                    NodeKind::Unary { op: parser::UnaryOp::PreIncrement | parser::UnaryOp::PreDecrement, .. }
                )
            {
                found = true;
            }
        });
        found
    }
}

fn collect(node: &Node, f: &mut dyn FnMut(&NodeKind)) {
    f(&node.kind);
    match &node.kind {
        NodeKind::Unary { operand, .. }
        | NodeKind::Cast { operand, .. }
        | NodeKind::SizeofExpr(operand)
        | NodeKind::At { address: operand, .. } => collect(operand, f),
        NodeKind::Member { base, .. } => collect(base, f),
        NodeKind::Binary { lhs, rhs, .. } | NodeKind::Assign { lhs, rhs, .. } | NodeKind::Comma { lhs, rhs } => {
            collect(lhs, f);
            collect(rhs, f);
        }
        NodeKind::Index { base, index } => {
            collect(base, f);
            collect(index, f);
        }
        NodeKind::Conditional { condition, then, otherwise } => {
            collect(condition, f);
            collect(then, f);
            collect(otherwise, f);
        }
        _ => {}
    }
}

impl std::fmt::Display for TypedExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
