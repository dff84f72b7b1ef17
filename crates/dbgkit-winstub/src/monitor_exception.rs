//! `monitor exception`: the GDB remote protocol carries only a signal, so a
//! client that wants the NTSTATUS, its chance and its parameters (an access
//! violation's kind and address) of the last exception stop asks for them.

use dbgkit::os::windows::ExceptionRecord;
use std::fmt::Write;

/// The monitor command's answer, one line:
/// `exception tid=264 code=0xc0000005 first_chance=1 address=0x140001570 parameters=0x1,0x0`.
pub fn monitor_line(record: &ExceptionRecord) -> String {
    let mut line = format!(
        "exception tid={} code={:#010x} first_chance={} address={:#x} parameters=",
        record.tid, record.code, record.first_chance as u8, record.address
    );
    for (i, p) in record.parameters.iter().enumerate() {
        let _ = write!(line, "{}{p:#x}", if i > 0 { "," } else { "" });
    }
    line.push('\n');
    line
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
            monitor_line(&record),
            "exception tid=264 code=0xc0000005 first_chance=1 address=0x140001570 parameters=0x1,0x0\n"
        );
        let none = ExceptionRecord { parameters: vec![], first_chance: false, ..record };
        assert!(monitor_line(&none).ends_with("first_chance=0 address=0x140001570 parameters=\n"));
    }
}
