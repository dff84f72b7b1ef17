//! gdb's `printf "FORMAT", ARGS...`: C's integer, character, pointer and
//! string conversions, the arguments being expressions of the target
//! (`%s` reads a zero-terminated string from its memory).

use super::commands::Call;
use super::debugger::Debugger;
use super::output::emit;
use anyhow::{anyhow, bail, Result};
use dbgkit::c_format::unescape;

/// Splits `"FORMAT", ARG, ARG` into the format text and the argument
/// expressions (commas inside parentheses, brackets or quotes do not split).
fn split_printf(text: &str) -> Result<(String, Vec<String>)> {
    let text = text.trim();
    let Some(rest) = text.strip_prefix('"') else { bail!("printf takes a quoted format: printf \"%d\\n\", $rax") };
    let mut format = String::new();
    let mut chars = rest.char_indices();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                format.push('\\');
                if let Some((_, n)) = chars.next() {
                    format.push(n);
                }
            }
            '"' => {
                end = Some(i + 1);
                break;
            }
            c => format.push(c),
        }
    }
    let end = end.ok_or_else(|| anyhow!("unterminated format string: {text}"))?;
    let rest = rest[end..].trim();
    let mut args = Vec::new();
    if !rest.is_empty() {
        let rest = rest.strip_prefix(',').ok_or_else(|| anyhow!("expected a comma after the format, not {rest:?}"))?;
        let mut depth = 0i32;
        let mut quote = None;
        let mut current = String::new();
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '(' | '[') => depth += 1,
                (None, ')' | ']') => depth -= 1,
                (None, ',') if depth == 0 => {
                    args.push(std::mem::take(&mut current).trim().to_string());
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        args.push(current.trim().to_string());
        if args.iter().any(|a| a.is_empty()) {
            bail!("an argument of printf is empty");
        }
    }
    Ok((unescape(&format), args))
}

/// How many bytes `%s` reads at most.
const MAX_STRING: usize = 64 * 1024;

/// gdb's `printf "FORMAT", ARGS...` (integers, pointers, characters, strings from memory).
pub fn printf(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let (format, exprs) = split_printf(call.args)?;
    let mut values = Vec::with_capacity(exprs.len());
    for e in &exprs {
        values.push(dbg.eval(e)?);
    }
    let pid = dbg.current.map(|c| c.pid);
    let session = &dbg.session;
    let mut read_string = |address: u64| -> dbgkit::Result<String> {
        let pid = pid.ok_or_else(|| dbgkit::Error::InvalidArgument("%s reads memory: no process".into()))?;
        let bytes = session.read_c_string(pid, address, MAX_STRING)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let text = dbgkit::c_format::printf(&format, &values, &mut read_string)?;
    emit(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_arguments_split_on_top_level_commas() {
        let (f, a) = split_printf(r#""%d, %s\n", poi(rsp+8), by(rdi, 1)"#).unwrap();
        assert_eq!(f, "%d, %s\n");
        assert_eq!(a, ["poi(rsp+8)", "by(rdi, 1)"]);
        assert!(split_printf("%d").is_err());
        assert!(split_printf(r#""%d" 1"#).is_err());
    }
}
