//! One Windows command line from a list of arguments. A Windows program
//! gets its arguments as one string and splits it itself (the C runtime's
//! rules, also `CommandLineToArgvW`'s): quotes group, a backslash is
//! literal unless a run of them precedes a quote, where they are halved.

/// Quotes `args` so that the program's C runtime splits them back unchanged.
pub fn command_line<S: AsRef<str>>(args: &[S]) -> String {
    let quoted: Vec<String> = args.iter().map(|a| quote_argument(a.as_ref())).collect();
    quoted.join(" ")
}

/// One argument as it must appear on a command line.
pub fn quote_argument(arg: &str) -> String {
    let needs_quotes = arg.is_empty() || arg.contains([' ', '\t', '\n', '\u{b}', '"']);
    if !needs_quotes {
        return arg.to_string();
    }
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    let mut backslashes = 0usize;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                // Each backslash before a quote is doubled, and the quote escaped.
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    // Backslashes before the closing quote are doubled so it stays a quote.
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C runtime's splitting (msvcrt's parse_cmdline, 2008 and later
    /// rules), to check that quoting round-trips.
    fn split(line: &str) -> Vec<String> {
        let chars: Vec<char> = line.chars().collect();
        let mut args = Vec::new();
        let mut i = 0;
        loop {
            while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
                i += 1;
            }
            if i >= chars.len() {
                return args;
            }
            let mut arg = String::new();
            let mut in_quotes = false;
            while i < chars.len() && (in_quotes || (chars[i] != ' ' && chars[i] != '\t')) {
                let mut backslashes = 0;
                while i < chars.len() && chars[i] == '\\' {
                    backslashes += 1;
                    i += 1;
                }
                if i < chars.len() && chars[i] == '"' {
                    arg.extend(std::iter::repeat_n('\\', backslashes / 2));
                    if backslashes % 2 == 1 {
                        arg.push('"');
                    } else if in_quotes && chars.get(i + 1) == Some(&'"') {
                        arg.push('"');
                        i += 1;
                    } else {
                        in_quotes = !in_quotes;
                    }
                    i += 1;
                } else {
                    arg.extend(std::iter::repeat_n('\\', backslashes));
                    if i < chars.len() && (in_quotes || (chars[i] != ' ' && chars[i] != '\t')) {
                        arg.push(chars[i]);
                        i += 1;
                    }
                }
            }
            args.push(arg);
        }
    }

    #[test]
    fn plain_arguments_stay_as_they_are() {
        assert_eq!(command_line(&["C:\\prog.exe", "run", "3"]), "C:\\prog.exe run 3");
    }

    #[test]
    fn spaces_quotes_and_backslashes_round_trip() {
        let cases: Vec<Vec<&str>> = vec![
            vec!["Z:\\tmp\\a b\\prog.exe", "x"],
            vec!["p", ""],
            vec!["p", "say \"hi\""],
            vec!["p", "C:\\dir with space\\"],
            vec!["p", "a\\\\\"b", "\\\\server\\share"],
            vec!["p", "tab\there", "trailing\\"],
        ];
        for args in cases {
            let line = command_line(&args);
            assert_eq!(split(&line), args, "line {line:?}");
        }
        assert_eq!(quote_argument("C:\\dir with space\\"), "\"C:\\dir with space\\\\\"");
        assert_eq!(quote_argument(""), "\"\"");
    }
}
