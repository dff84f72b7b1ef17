//! Walks the syntax tree and computes a `u64`, asking the context for
//! registers, memory and symbols.
//!
//! Arithmetic wraps, as the machine does: `0 - 1` is `0xffff_ffff_ffff_ffff`,
//! which is what a person comparing addresses or masks expects. Only a
//! division by zero, a failed read, an unknown register or an unresolved
//! symbol stops evaluation, each at the column of the node that caused it.

use super::parser::{BinaryOp, Node, NodeKind, UnaryOp};
use super::{EvalContext, ExprError, ExprErrorKind};

/// The parser bounds the tree's depth, so this recursion is bounded too.
pub(super) fn evaluate(node: &Node, ctx: &mut dyn EvalContext) -> Result<u64, ExprError> {
    let column = node.column;
    match &node.kind {
        NodeKind::Number(value) => Ok(*value),
        NodeKind::Register { name, written } => ctx.register(name).ok_or_else(|| {
            let what = if name.starts_with('$') { "pseudo-register" } else { "register" };
            ExprError::new(ExprErrorKind::UnknownRegister, column, format!("unknown {what} {written}"))
        }),
        NodeKind::Name(name) => match ctx.register(&name.to_ascii_lowercase()) {
            Some(value) => Ok(value),
            None => symbol(ctx, name, column),
        },
        NodeKind::Symbol(name) => symbol(ctx, name, column),
        NodeKind::SymbolOr { name, arithmetic } => match symbol(ctx, name, column) {
            Ok(address) => Ok(address),
            // No module of that name: the text was arithmetic after all.
            Err(error) => evaluate(arithmetic, ctx).map_err(|_| error),
        },
        NodeKind::Read { function, size, address } => {
            let address = evaluate(address, ctx)?;
            let value = ctx.read_memory(address, *size).map_err(|reason| {
                let bytes = if *size == 1 { "byte" } else { "bytes" };
                let message = format!("{function}: cannot read {size} {bytes} at {address:#x}: {reason}");
                ExprError::new(ExprErrorKind::Memory, column, message)
            })?;
            // A context that returns more than it was asked for must not
            // change the result: `by(x)` is always below 0x100.
            Ok(if *size >= 8 { value } else { value & ((1u64 << (size * 8)) - 1) })
        }
        NodeKind::Unary { op, operand } => {
            let value = evaluate(operand, ctx)?;
            Ok(match op {
                UnaryOp::Negate => value.wrapping_neg(),
                UnaryOp::Plus => value,
                UnaryOp::BitNot => !value,
                UnaryOp::LogicalNot => u64::from(value == 0),
            })
        }
        NodeKind::Binary { op, lhs, rhs } => {
            let left = evaluate(lhs, ctx)?;
            // `&&` and `||` decide before the right side is looked at, so
            // that `p && poi(p)` never reads address 0.
            match op {
                BinaryOp::And if left == 0 => return Ok(0),
                BinaryOp::Or if left != 0 => return Ok(1),
                _ => {}
            }
            let right = evaluate(rhs, ctx)?;
            binary(*op, left, right).ok_or_else(|| {
                let what = if *op == BinaryOp::Rem { "remainder" } else { "division" };
                ExprError::new(ExprErrorKind::DivisionByZero, column, format!("{what} by zero"))
            })
        }
    }
}

/// Resolves a symbol through the context; its message is shown as it is.
fn symbol(ctx: &mut dyn EvalContext, name: &str, column: usize) -> Result<u64, ExprError> {
    ctx.symbol(name).map_err(|message| {
        // An empty message would leave the user with nothing to act on.
        let message = if message.trim().is_empty() { format!("cannot resolve symbol {name}") } else { message };
        ExprError::new(ExprErrorKind::Symbol, column, message)
    })
}

/// One binary operator on two values; None only for a division by zero.
fn binary(op: BinaryOp, left: u64, right: u64) -> Option<u64> {
    // A shift by 64 or more would be undefined in C and masked by the CPU;
    // every bit shifted out is the least surprising answer.
    let shift = u32::try_from(right).ok();
    Some(match op {
        BinaryOp::Mul => left.wrapping_mul(right),
        BinaryOp::Div => left.checked_div(right)?,
        BinaryOp::Rem => left.checked_rem(right)?,
        BinaryOp::Add => left.wrapping_add(right),
        BinaryOp::Sub => left.wrapping_sub(right),
        BinaryOp::Shl => shift.and_then(|s| left.checked_shl(s)).unwrap_or(0),
        BinaryOp::Shr => shift.and_then(|s| left.checked_shr(s)).unwrap_or(0),
        BinaryOp::BitAnd => left & right,
        BinaryOp::BitXor => left ^ right,
        BinaryOp::BitOr => left | right,
        BinaryOp::Eq => u64::from(left == right),
        BinaryOp::Ne => u64::from(left != right),
        BinaryOp::Lt => u64::from(left < right),
        BinaryOp::Le => u64::from(left <= right),
        BinaryOp::Gt => u64::from(left > right),
        BinaryOp::Ge => u64::from(left >= right),
        // Both sides were needed: the result is the right side's truth.
        BinaryOp::And | BinaryOp::Or => u64::from(right != 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_operators_on_edge_values() {
        assert_eq!(binary(BinaryOp::Shl, 1, 63), Some(1 << 63));
        assert_eq!(binary(BinaryOp::Shl, 1, 64), Some(0));
        assert_eq!(binary(BinaryOp::Shr, u64::MAX, 1 << 32), Some(0));
        assert_eq!(binary(BinaryOp::Div, 7, 0), None);
        assert_eq!(binary(BinaryOp::Rem, 7, 0), None);
        assert_eq!(binary(BinaryOp::Sub, 0, 1), Some(u64::MAX));
        assert_eq!(binary(BinaryOp::And, 1, 7), Some(1));
        assert_eq!(binary(BinaryOp::Or, 0, 0), Some(0));
    }
}
