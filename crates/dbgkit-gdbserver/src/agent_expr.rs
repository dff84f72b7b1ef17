//! gdb's agent expressions: the bytecode gdb compiles a breakpoint
//! condition (and a `dprintf`'s `printf`) into, so the server decides at the
//! hit whether gdb needs to hear of it at all. The opcodes and their stack
//! effects are those of gdb's manual, "The GDB Agent Expression Mechanism".

use std::fmt;

/// Deeper than any expression gdb compiles; a deeper one is refused rather
/// than allowed to grow without bound.
const STACK_LIMIT: usize = 1024;
/// A `goto` loop ends here instead of holding the program stopped forever.
const STEP_LIMIT: usize = 100_000;

/// What an expression reads and where its `printf` writes.
pub trait AgentContext {
    /// Register `number` as gdb numbers them (the target description's order).
    fn register(&mut self, number: u16) -> Result<u64, AgentError>;
    /// Fills `buf` from the program's memory at `address`.
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), AgentError>;
    /// Output of the `printf` opcode.
    fn print(&mut self, text: &[u8]);
}

/// Why an expression could not give a value. gdb then decides itself: a
/// condition that fails counts as true, so the stop is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentError {
    StackUnderflow,
    StackOverflow,
    DivisionByZero,
    /// An opcode byte this interpreter does not know (or that gdb never sends).
    UnknownOpcode(u8),
    /// The bytecode ended inside an instruction, or a jump left it.
    Truncated,
    TooManySteps,
    /// A register that does not fit the 64-bit stack, or does not exist.
    Register(u16),
    Memory(u64),
    /// Trace state variables (`getv`, `setv`) exist only in tracepoint runs.
    NoTraceVariables,
    BadFormat(String),
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::StackUnderflow => write!(f, "stack underflow"),
            AgentError::StackOverflow => write!(f, "stack overflow"),
            AgentError::DivisionByZero => write!(f, "division by zero"),
            AgentError::UnknownOpcode(op) => write!(f, "unknown opcode {op:#04x}"),
            AgentError::Truncated => write!(f, "bytecode ends inside an instruction or jumps outside it"),
            AgentError::TooManySteps => write!(f, "more than {STEP_LIMIT} steps"),
            AgentError::Register(n) => write!(f, "register {n} cannot be read as an integer"),
            AgentError::Memory(address) => write!(f, "cannot read memory at {address:#x}"),
            AgentError::NoTraceVariables => write!(f, "trace state variables are not kept"),
            AgentError::BadFormat(why) => write!(f, "printf: {why}"),
        }
    }
}

/// One compiled expression, as gdb sends it (`X len,hexbytes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentExpr {
    bytes: Vec<u8>,
}

impl AgentExpr {
    pub fn new(bytes: Vec<u8>) -> Self {
        AgentExpr { bytes }
    }

    /// Reads one `Xlen,hexbytes` from the front of `text`; returns it and
    /// the text after it.
    pub fn parse_packed(text: &str) -> Option<(AgentExpr, &str)> {
        let rest = text.strip_prefix('X')?;
        let (length, rest) = rest.split_once(',')?;
        let length = usize::from_str_radix(length, 16).ok()?;
        let hex = rest.get(..length.checked_mul(2)?).filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))?;
        let bytes = hex
            .as_bytes()
            .chunks(2)
            .map(|pair| std::str::from_utf8(pair).ok().and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<_>>()?;
        Some((AgentExpr { bytes }, &rest[hex.len()..]))
    }

    /// Runs the expression; the value on top of the stack at `end`, if any.
    ///
    /// ```
    /// # use dbgkit_gdbserver::agent_expr::{AgentExpr, AgentContext, AgentError};
    /// struct NoTarget;
    /// impl AgentContext for NoTarget {
    ///     fn register(&mut self, n: u16) -> Result<u64, AgentError> { Err(AgentError::Register(n)) }
    ///     fn read_memory(&mut self, a: u64, _: &mut [u8]) -> Result<(), AgentError> { Err(AgentError::Memory(a)) }
    ///     fn print(&mut self, _: &[u8]) {}
    /// }
    /// // 2 + 3 == 5
    /// let expr = AgentExpr::new(vec![0x22, 2, 0x22, 3, 0x02, 0x22, 5, 0x13, 0x27]);
    /// assert_eq!(expr.evaluate(&mut NoTarget), Ok(Some(1)));
    /// ```
    pub fn evaluate(&self, context: &mut impl AgentContext) -> Result<Option<u64>, AgentError> {
        Machine { code: &self.bytes, pc: 0, stack: Vec::new() }.run(context)
    }
}

/// The opcodes, as gdb's `ax.def` numbers them.
mod op {
    pub const ADD: u8 = 0x02;
    pub const SUB: u8 = 0x03;
    pub const MUL: u8 = 0x04;
    pub const DIV_SIGNED: u8 = 0x05;
    pub const DIV_UNSIGNED: u8 = 0x06;
    pub const REM_SIGNED: u8 = 0x07;
    pub const REM_UNSIGNED: u8 = 0x08;
    pub const LSH: u8 = 0x09;
    pub const RSH_SIGNED: u8 = 0x0a;
    pub const RSH_UNSIGNED: u8 = 0x0b;
    pub const TRACE: u8 = 0x0c;
    pub const TRACE_QUICK: u8 = 0x0d;
    pub const LOG_NOT: u8 = 0x0e;
    pub const BIT_AND: u8 = 0x0f;
    pub const BIT_OR: u8 = 0x10;
    pub const BIT_XOR: u8 = 0x11;
    pub const BIT_NOT: u8 = 0x12;
    pub const EQUAL: u8 = 0x13;
    pub const LESS_SIGNED: u8 = 0x14;
    pub const LESS_UNSIGNED: u8 = 0x15;
    pub const EXT: u8 = 0x16;
    pub const REF8: u8 = 0x17;
    pub const REF64: u8 = 0x1a;
    pub const IF_GOTO: u8 = 0x20;
    pub const GOTO: u8 = 0x21;
    pub const CONST8: u8 = 0x22;
    pub const CONST64: u8 = 0x25;
    pub const REG: u8 = 0x26;
    pub const END: u8 = 0x27;
    pub const DUP: u8 = 0x28;
    pub const POP: u8 = 0x29;
    pub const ZERO_EXT: u8 = 0x2a;
    pub const SWAP: u8 = 0x2b;
    pub const GETV: u8 = 0x2c;
    pub const SETV: u8 = 0x2d;
    pub const TRACEV: u8 = 0x2e;
    pub const TRACENZ: u8 = 0x2f;
    pub const PICK: u8 = 0x32;
    pub const ROT: u8 = 0x33;
    pub const PRINTF: u8 = 0x34;
}

struct Machine<'a> {
    code: &'a [u8],
    pc: usize,
    stack: Vec<u64>,
}

impl Machine<'_> {
    fn run(mut self, context: &mut impl AgentContext) -> Result<Option<u64>, AgentError> {
        for _ in 0..STEP_LIMIT {
            let opcode = self.immediate(1)? as u8;
            match opcode {
                op::ADD..=op::RSH_UNSIGNED | op::BIT_AND..=op::BIT_XOR | op::EQUAL..=op::LESS_UNSIGNED => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.push(binary(opcode, a, b)?)?;
                }
                // Tracepoint collection: nothing to collect at a breakpoint.
                op::TRACE | op::TRACENZ => {
                    self.pop()?;
                    self.pop()?;
                }
                op::TRACE_QUICK => {
                    self.immediate(1)?;
                    self.top()?;
                }
                op::TRACEV => {
                    self.immediate(2)?;
                }
                op::LOG_NOT => {
                    let a = self.pop()?;
                    self.push((a == 0) as u64)?;
                }
                op::BIT_NOT => {
                    let a = self.pop()?;
                    self.push(!a)?;
                }
                // Sign-extends from n bits.
                op::EXT => {
                    let bits = self.immediate(1)? as u32;
                    let a = self.pop()?;
                    self.push(sign_extend(a, bits))?;
                }
                op::ZERO_EXT => {
                    let bits = self.immediate(1)? as u32;
                    let a = self.pop()?;
                    self.push(if bits >= 64 { a } else { a & ((1u64 << bits) - 1) })?;
                }
                // 1, 2, 4 or 8 bytes; the target is little-endian.
                op::REF8..=op::REF64 => {
                    let size = 1usize << (opcode - op::REF8);
                    let address = self.pop()?;
                    let mut bytes = [0u8; 8];
                    context.read_memory(address, &mut bytes[..size])?;
                    self.push(u64::from_le_bytes(bytes))?;
                }
                op::IF_GOTO => {
                    let target = self.immediate(2)? as usize;
                    if self.pop()? != 0 {
                        self.jump(target)?;
                    }
                }
                op::GOTO => {
                    let target = self.immediate(2)? as usize;
                    self.jump(target)?;
                }
                // 1, 2, 4 or 8 bytes, big-endian in the bytecode.
                op::CONST8..=op::CONST64 => {
                    let value = self.immediate(1 << (opcode - op::CONST8))?;
                    self.push(value)?;
                }
                op::REG => {
                    let number = self.immediate(2)? as u16;
                    let value = context.register(number)?;
                    self.push(value)?;
                }
                op::END => return Ok(self.stack.last().copied()),
                op::DUP => {
                    let a = self.top()?;
                    self.push(a)?;
                }
                op::POP => {
                    self.pop()?;
                }
                op::SWAP => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.push(b)?;
                    self.push(a)?;
                }
                op::GETV | op::SETV => return Err(AgentError::NoTraceVariables),
                // A copy of the item n below the top (pick 0 = dup).
                op::PICK => {
                    let depth = self.immediate(1)? as usize;
                    let index = self.stack.len().checked_sub(depth + 1).ok_or(AgentError::StackUnderflow)?;
                    self.push(self.stack[index])?;
                }
                // a b c => c a b
                op::ROT => {
                    let c = self.pop()?;
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.push(c)?;
                    self.push(a)?;
                    self.push(b)?;
                }
                op::PRINTF => self.printf(context)?,
                // Floating point and trace16 gdb never sends; anything else is not an opcode.
                other => return Err(AgentError::UnknownOpcode(other)),
            }
        }
        Err(AgentError::TooManySteps)
    }

    /// `printf nargs len format`: pops the function and channel gdb pushed
    /// last (unused: output goes to the server's standard output, as
    /// gdbserver's does), then the arguments, first argument on top.
    fn printf(&mut self, context: &mut impl AgentContext) -> Result<(), AgentError> {
        let count = self.immediate(1)? as usize;
        let length = self.immediate(2)? as usize;
        let format = self.code.get(self.pc..self.pc + length).ok_or(AgentError::Truncated)?;
        self.pc += length;
        let format = format.strip_suffix(&[0]).ok_or_else(|| AgentError::BadFormat("format not terminated".into()))?;
        self.pop()?;
        self.pop()?;
        let arguments = (0..count).map(|_| self.pop()).collect::<Result<Vec<_>, _>>()?;
        // gdb sends the format as the user wrote it, escapes and all.
        let format = dbgkit::c_format::unescape(&String::from_utf8_lossy(format));
        let mut read_string = |address: u64| read_string(context, address);
        let text = dbgkit::c_format::printf(&format, &arguments, &mut read_string)
            .map_err(|e| AgentError::BadFormat(e.to_string()))?;
        context.print(text.as_bytes());
        Ok(())
    }

    /// The next `size` bytes of the bytecode as a big-endian number.
    fn immediate(&mut self, size: usize) -> Result<u64, AgentError> {
        let bytes = self.code.get(self.pc..self.pc + size).ok_or(AgentError::Truncated)?;
        self.pc += size;
        Ok(bytes.iter().fold(0u64, |value, &b| (value << 8) | b as u64))
    }

    fn jump(&mut self, target: usize) -> Result<(), AgentError> {
        if target >= self.code.len() {
            return Err(AgentError::Truncated);
        }
        self.pc = target;
        Ok(())
    }

    fn push(&mut self, value: u64) -> Result<(), AgentError> {
        if self.stack.len() >= STACK_LIMIT {
            return Err(AgentError::StackOverflow);
        }
        self.stack.push(value);
        Ok(())
    }

    fn pop(&mut self) -> Result<u64, AgentError> {
        self.stack.pop().ok_or(AgentError::StackUnderflow)
    }

    fn top(&self) -> Result<u64, AgentError> {
        self.stack.last().copied().ok_or(AgentError::StackUnderflow)
    }
}

/// A `%s` longer than this is cut: the program's memory may hold no NUL.
const STRING_LIMIT: usize = 4096;

/// The NUL-terminated string at `address` for a `%s` (`(null)` for 0, as
/// the C library prints it).
fn read_string(context: &mut impl AgentContext, address: u64) -> dbgkit::Result<String> {
    if address == 0 {
        return Ok("(null)".into());
    }
    let mut text = Vec::new();
    while text.len() < STRING_LIMIT {
        let mut byte = [0u8];
        let at = address.wrapping_add(text.len() as u64);
        if context.read_memory(at, &mut byte).is_err() {
            return Err(dbgkit::Error::InvalidArgument(format!("%s: cannot read memory at {at:#x}")));
        }
        if byte[0] == 0 {
            break;
        }
        text.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// `a OP b`, with `b` the value that was on top.
fn binary(opcode: u8, a: u64, b: u64) -> Result<u64, AgentError> {
    let (sa, sb) = (a as i64, b as i64);
    let nonzero = |d: u64| if d == 0 { Err(AgentError::DivisionByZero) } else { Ok(d) };
    Ok(match opcode {
        op::ADD => a.wrapping_add(b),
        op::SUB => a.wrapping_sub(b),
        op::MUL => a.wrapping_mul(b),
        op::DIV_SIGNED => sa.wrapping_div(nonzero(b)? as i64) as u64,
        op::DIV_UNSIGNED => a / nonzero(b)?,
        op::REM_SIGNED => sa.wrapping_rem(nonzero(b)? as i64) as u64,
        op::REM_UNSIGNED => a % nonzero(b)?,
        op::LSH => a.checked_shl(b.min(64) as u32).unwrap_or(0),
        op::RSH_SIGNED => sa.checked_shr(b.min(64) as u32).unwrap_or(if sa < 0 { -1 } else { 0 }) as u64,
        op::RSH_UNSIGNED => a.checked_shr(b.min(64) as u32).unwrap_or(0),
        op::BIT_AND => a & b,
        op::BIT_OR => a | b,
        op::BIT_XOR => a ^ b,
        op::EQUAL => (a == b) as u64,
        op::LESS_SIGNED => (sa < sb) as u64,
        op::LESS_UNSIGNED => (a < b) as u64,
        other => return Err(AgentError::UnknownOpcode(other)),
    })
}

fn sign_extend(value: u64, bits: u32) -> u64 {
    if bits == 0 || bits >= 64 {
        return value;
    }
    let shift = 64 - bits;
    (((value << shift) as i64) >> shift) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Registers are their number times 16; memory holds its address's low byte.
    struct Fake {
        printed: Vec<u8>,
    }

    impl AgentContext for Fake {
        fn register(&mut self, number: u16) -> Result<u64, AgentError> {
            if number > 60 {
                return Err(AgentError::Register(number));
            }
            Ok(number as u64 * 16)
        }
        fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), AgentError> {
            if address == 0 {
                return Err(AgentError::Memory(0));
            }
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (address as u8).wrapping_add(i as u8);
            }
            Ok(())
        }
        fn print(&mut self, text: &[u8]) {
            self.printed.extend_from_slice(text);
        }
    }

    fn run(bytes: &[u8]) -> Result<Option<u64>, AgentError> {
        AgentExpr::new(bytes.to_vec()).evaluate(&mut Fake { printed: Vec::new() })
    }

    #[test]
    fn arithmetic_takes_the_top_as_the_right_operand() {
        assert_eq!(run(&[0x22, 10, 0x22, 3, 0x03, 0x27]), Ok(Some(7)));
        assert_eq!(run(&[0x22, 10, 0x22, 3, 0x06, 0x27]), Ok(Some(3)));
        assert_eq!(run(&[0x22, 10, 0x22, 3, 0x08, 0x27]), Ok(Some(1)));
        assert_eq!(run(&[0x22, 3, 0x22, 10, 0x14, 0x27]), Ok(Some(1)));
        assert_eq!(run(&[0x22, 1, 0x22, 4, 0x09, 0x27]), Ok(Some(16)));
    }

    #[test]
    fn signed_operations_see_negative_numbers() {
        // -8 / 2 == -4, with -8 made by sign-extending 0xf8 from 8 bits.
        assert_eq!(run(&[0x22, 0xf8, 0x16, 8, 0x22, 2, 0x05, 0x27]), Ok(Some(-4i64 as u64)));
        // -1 < 1 signed, but not unsigned.
        assert_eq!(run(&[0x22, 0xff, 0x16, 8, 0x22, 1, 0x14, 0x27]), Ok(Some(1)));
        assert_eq!(run(&[0x22, 0xff, 0x16, 8, 0x22, 1, 0x15, 0x27]), Ok(Some(0)));
        assert_eq!(run(&[0x22, 0xff, 0x16, 8, 0x22, 1, 0x0a, 0x27]), Ok(Some(u64::MAX)));
    }

    #[test]
    fn constants_are_big_endian_and_registers_come_from_the_context() {
        assert_eq!(run(&[0x23, 0x12, 0x34, 0x27]), Ok(Some(0x1234)));
        assert_eq!(run(&[0x24, 0, 0, 1, 0, 0x27]), Ok(Some(0x100)));
        assert_eq!(run(&[0x26, 0, 6, 0x27]), Ok(Some(96)));
        assert_eq!(run(&[0x26, 0, 99, 0x27]), Err(AgentError::Register(99)));
    }

    #[test]
    fn memory_reads_are_little_endian_and_failures_are_errors() {
        assert_eq!(run(&[0x22, 0x10, 0x18, 0x27]), Ok(Some(0x1110)));
        assert_eq!(run(&[0x22, 0x10, 0x17, 0x27]), Ok(Some(0x10)));
        assert_eq!(run(&[0x22, 0, 0x19, 0x27]), Err(AgentError::Memory(0)));
    }

    #[test]
    fn jumps_follow_the_condition() {
        // if (1) goto 8 else push 5; 8: push 9
        let taken = [0x22, 1, 0x20, 0, 7, 0x22, 5, 0x22, 9, 0x27];
        assert_eq!(run(&taken), Ok(Some(9)));
        let mut not_taken = taken;
        not_taken[1] = 0;
        assert_eq!(run(&not_taken), Ok(Some(9)));
        assert_eq!(run(&[0x22, 0, 0x20, 0, 7, 0x22, 5, 0x27, 0x22, 9, 0x27]), Ok(Some(5)));
        assert_eq!(run(&[0x21, 0, 0]), Err(AgentError::TooManySteps));
        assert_eq!(run(&[0x21, 0, 40]), Err(AgentError::Truncated));
    }

    #[test]
    fn stack_shuffles() {
        assert_eq!(run(&[0x22, 1, 0x22, 2, 0x2b, 0x27]), Ok(Some(1)));
        assert_eq!(run(&[0x22, 1, 0x22, 2, 0x32, 1, 0x27]), Ok(Some(1)));
        // 1 2 3 rot => 3 1 2
        assert_eq!(run(&[0x22, 1, 0x22, 2, 0x22, 3, 0x33, 0x27]), Ok(Some(2)));
        assert_eq!(run(&[0x22, 1, 0x22, 2, 0x22, 3, 0x33, 0x29, 0x27]), Ok(Some(1)));
        assert_eq!(run(&[0x22, 1, 0x29, 0x27]), Ok(None));
    }

    #[test]
    fn bad_bytecode_is_an_error_not_a_panic() {
        assert_eq!(run(&[0x02, 0x27]), Err(AgentError::StackUnderflow));
        assert_eq!(run(&[0x22]), Err(AgentError::Truncated));
        assert_eq!(run(&[0x22, 1, 0x22, 0, 0x05, 0x27]), Err(AgentError::DivisionByZero));
        assert_eq!(run(&[0x01]), Err(AgentError::UnknownOpcode(1)));
        assert_eq!(run(&[0x2c, 0, 1, 0x27]), Err(AgentError::NoTraceVariables));
        assert_eq!(run(&[]), Err(AgentError::Truncated));
    }

    #[test]
    fn printf_pops_its_arguments_and_prints() {
        // printf("n=%d %s\n", 7, (char *) 0x41): args pushed last first, then chan and fn.
        let format = b"n=%d %s\n\0";
        let mut code = vec![0x22, 0x41, 0x22, 7, 0x22, 0, 0x22, 0, 0x34, 2, 0, format.len() as u8];
        code.extend_from_slice(format);
        code.push(0x27);
        let mut fake = Fake { printed: Vec::new() };
        // Memory at 0x41 reads "ABCD...": a string that never ends is cut.
        let result = AgentExpr::new(code).evaluate(&mut fake);
        assert_eq!(result, Ok(None));
        assert!(fake.printed.starts_with(b"n=7 ABC"), "{:?}", String::from_utf8_lossy(&fake.printed));
    }

    #[test]
    fn random_bytecode_ends_in_a_value_or_an_error() {
        // A fixed xorshift sequence: reproducible, with every opcode and its
        // immediates cut at every length.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let length = (next() % 24) as usize;
            let code: Vec<u8> = (0..length).map(|_| (next() % 0x36) as u8).collect();
            let _ = AgentExpr::new(code).evaluate(&mut Fake { printed: Vec::new() });
        }
    }

    #[test]
    fn packed_expressions_parse_one_after_another() {
        let (first, rest) = AgentExpr::parse_packed("X2,2227X1,27;cmds").unwrap();
        assert_eq!(first, AgentExpr::new(vec![0x22, 0x27]));
        let (second, rest) = AgentExpr::parse_packed(rest).unwrap();
        assert_eq!(second, AgentExpr::new(vec![0x27]));
        assert_eq!(rest, ";cmds");
        assert!(AgentExpr::parse_packed("X3,22").is_none());
        // Not hex, and not even ASCII: refused, never a panic.
        assert!(AgentExpr::parse_packed("X2,a\u{e9}b").is_none());
        assert!(AgentExpr::parse_packed("X1,+1").is_none());
        assert!(AgentExpr::parse_packed("Xzz,22").is_none());
    }
}
