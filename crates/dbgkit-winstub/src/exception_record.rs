//! The last exception a stop reported, as `monitor exception` tells it: the
//! GDB remote protocol carries only a signal, so a client that wants the
//! NTSTATUS, its chance and its parameters (an access violation's kind and
//! address) asks for them.

use std::fmt::Write;

/// What the system reported of one exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub tid: u32,
    /// The NTSTATUS (`0xC0000005`).
    pub code: u32,
    pub first_chance: bool,
    /// Where it happened.
    pub address: u64,
    /// `ExceptionInformation[..NumberParameters]`: for an access violation,
    /// the kind (0 read, 1 write, 8 execute) and the address accessed.
    pub parameters: Vec<u64>,
}

impl ExceptionRecord {
    /// The monitor command's answer, one line:
    /// `exception tid=264 code=0xc0000005 first_chance=1 address=0x140001570 parameters=0x1,0x0`.
    pub fn monitor_line(&self) -> String {
        let mut line = format!(
            "exception tid={} code={:#010x} first_chance={} address={:#x} parameters=",
            self.tid, self.code, self.first_chance as u8, self.address
        );
        for (i, p) in self.parameters.iter().enumerate() {
            let _ = write!(line, "{}{p:#x}", if i > 0 { "," } else { "" });
        }
        line.push('\n');
        line
    }
}

/// The answer to `monitor exception` when no stop was an exception yet.
pub const NO_EXCEPTION: &str = "exception none\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_client_can_read() {
        let record = ExceptionRecord {
            tid: 264,
            code: 0xC000_0005,
            first_chance: true,
            address: 0x1_4000_1570,
            parameters: vec![1, 0],
        };
        assert_eq!(
            record.monitor_line(),
            "exception tid=264 code=0xc0000005 first_chance=1 address=0x140001570 parameters=0x1,0x0\n"
        );
        let none = ExceptionRecord { parameters: vec![], first_chance: false, ..record };
        assert!(none.monitor_line().ends_with("first_chance=0 address=0x140001570 parameters=\n"));
    }
}
