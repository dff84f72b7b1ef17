//! A Windows environment block: what `CreateProcessW` takes with
//! `CREATE_UNICODE_ENVIRONMENT`, `NAME=value` strings in UTF-16, each
//! ending with a NUL, the block with one more. Names are compared without
//! case, as Windows does, and the block is sorted by them, as the system
//! expects of a block it is given.

/// `base` with `changes` applied (a change replaces a variable of the same
/// name, whatever its case), as a block.
pub fn environment_block(base: &[(String, String)], changes: &[(String, String)]) -> Vec<u16> {
    let mut vars: Vec<(String, String)> = Vec::with_capacity(base.len() + changes.len());
    for (name, value) in base.iter().chain(changes) {
        vars.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        vars.push((name.clone(), value.clone()));
    }
    vars.sort_by_key(|(name, _)| name.to_uppercase());
    let mut block = Vec::new();
    for (name, value) in vars {
        block.extend(format!("{name}={value}").encode_utf16());
        block.push(0);
    }
    if block.is_empty() {
        // An empty block still ends with two NULs.
        block.push(0);
    }
    block.push(0);
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(block: &[u16]) -> String {
        String::from_utf16_lossy(block)
    }

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn changes_replace_without_case_and_the_block_is_sorted() {
        let base = vars(&[("Path", "C:\\windows"), ("TEMP", "C:\\temp")]);
        let block = environment_block(&base, &vars(&[("PATH", "Z:\\bin"), ("GREETING", "hé")]));
        assert_eq!(text(&block), "GREETING=hé\0PATH=Z:\\bin\0TEMP=C:\\temp\0\0");
    }

    #[test]
    fn an_empty_environment_is_two_nuls() {
        assert_eq!(environment_block(&[], &[]), vec![0, 0]);
    }
}
