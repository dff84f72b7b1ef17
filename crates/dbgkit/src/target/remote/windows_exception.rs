//! The exception behind a Windows stop: `dbgkit-winstub` answers `monitor
//! exception` with the last exception stop's NTSTATUS, chance, address and
//! parameters (the protocol's stop reply carries only a signal).

/// One exception, as the stub's line gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowsException {
    pub tid: i32,
    pub code: u32,
    pub first_chance: bool,
    pub address: u64,
    pub parameters: Vec<u64>,
}

fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Reads `exception tid=264 code=0xc0000005 first_chance=1 address=0x140001570 parameters=0x1,0x0`;
/// `None` for `exception none` or anything else.
pub fn parse(line: &str) -> Option<WindowsException> {
    let rest = line.trim().strip_prefix("exception ")?;
    let mut found = WindowsException { tid: 0, code: 0, first_chance: false, address: 0, parameters: Vec::new() };
    let mut seen = 0;
    for field in rest.split_whitespace() {
        let (key, value) = field.split_once('=')?;
        match key {
            "tid" => found.tid = i32::try_from(number(value)?).ok()?,
            "code" => found.code = u32::try_from(number(value)?).ok()?,
            "first_chance" => found.first_chance = value == "1",
            "address" => found.address = number(value)?,
            "parameters" => {
                found.parameters = value.split(',').filter(|p| !p.is_empty()).map(number).collect::<Option<_>>()?
            }
            _ => continue,
        }
        seen += 1;
    }
    (seen >= 4).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_stub_s_line() {
        let e = parse("exception tid=264 code=0xc0000005 first_chance=1 address=0x140001570 parameters=0x1,0x0\n");
        assert_eq!(
            e,
            Some(WindowsException {
                tid: 264,
                code: crate::nt_status::ACCESS_VIOLATION,
                first_chance: true,
                address: 0x1_4000_1570,
                parameters: vec![1, 0]
            })
        );
        let no_parameters = parse("exception tid=8 code=0x80000003 first_chance=0 address=0x10 parameters=").unwrap();
        assert!(no_parameters.parameters.is_empty() && !no_parameters.first_chance);
        assert_eq!(parse("exception none"), None);
        assert_eq!(parse("unknown monitor command"), None);
        assert_eq!(parse("exception tid=x code=0x1 first_chance=1 address=0x1 parameters="), None);
    }
}
