//! The command line, as gdbserver takes it: `[--once] HOST:PORT PROG
//! ARGS...` to start a program, `--attach HOST:PORT PID` to debug a running
//! one.

use thiserror::Error;

/// What the stub was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StubArgs {
    /// The address to listen on (`:PORT` means every interface, as gdbserver).
    pub listen: String,
    /// What to debug.
    pub debuggee: DebuggeeSpec,
    /// What the client hears of.
    pub reporting: Reporting,
}

/// Which debug events stop beyond what gdb's Windows support reports: DLL
/// loads and unloads (`--library-events`, a `library` stop gdb answers by
/// reading the DLL list again), every exception's first chance
/// (`--first-chance`; the client reads the NTSTATUS with `monitor exception`).
pub use dbgkit::os::windows::Reporting;

/// A program to start, or a process to attach to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebuggeeSpec {
    /// The program and its arguments.
    Launch(Vec<String>),
    /// The id of a running process.
    Attach(u32),
}

/// A command line the stub cannot use.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ArgsError {
    #[error(
        "usage: dbgkit-winstub [--once] [--library-events] [--first-chance] HOST:PORT PROG [ARGS...]\n       \
         dbgkit-winstub [--once] [--library-events] [--first-chance] --attach HOST:PORT PID"
    )]
    Usage,
    #[error("{0:?} is not a process id")]
    BadPid(String),
    #[error(
        "unknown option {0:?} (the options are --once, always in effect, --library-events, --first-chance and --attach)"
    )]
    UnknownOption(String),
    #[error("{0:?} is not HOST:PORT (for example 127.0.0.1:1234 or :1234)")]
    BadAddress(String),
}

/// Parses the arguments after the program name.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<StubArgs, ArgsError> {
    let mut args = args.into_iter().peekable();
    let mut reporting = Reporting::default();
    let mut attach = false;
    while let Some(option) = args.next_if(|a| a.starts_with("--")) {
        match option.as_str() {
            // gdb's testsuite starts stubs with --once, as it does
            // gdbserver; this stub serves one connection anyway.
            "--once" => {}
            "--library-events" => reporting.library_events = true,
            "--first-chance" => reporting.first_chance = true,
            "--attach" => attach = true,
            _ => return Err(ArgsError::UnknownOption(option)),
        }
    }
    let address = args.next().ok_or(ArgsError::Usage)?;
    let listen = listen_address(&address)?;
    let rest: Vec<String> = args.collect();
    let debuggee = match (attach, rest.as_slice()) {
        (_, []) => return Err(ArgsError::Usage),
        (true, [pid]) => DebuggeeSpec::Attach(parse_pid(pid)?),
        (true, _) => return Err(ArgsError::Usage),
        (false, _) => DebuggeeSpec::Launch(rest),
    };
    Ok(StubArgs { listen, debuggee, reporting })
}

/// A process id in decimal, or hexadecimal with `0x`.
fn parse_pid(text: &str) -> Result<u32, ArgsError> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.ok().filter(|&pid| pid != 0).ok_or_else(|| ArgsError::BadPid(text.into()))
}

/// `HOST:PORT` as a socket address to bind; an empty host means every interface.
fn listen_address(text: &str) -> Result<String, ArgsError> {
    let (host, port) = text.rsplit_once(':').ok_or_else(|| ArgsError::BadAddress(text.into()))?;
    port.parse::<u16>().map_err(|_| ArgsError::BadAddress(text.into()))?;
    let host = match host {
        "" => "0.0.0.0",
        "localhost" => "127.0.0.1",
        other => other,
    };
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<StubArgs, ArgsError> {
        parse_args(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn reads_the_address_and_the_program() {
        let args = parse(&["--once", "localhost:1234", "prog.exe", "a b"]).unwrap();
        assert_eq!(args.listen, "127.0.0.1:1234");
        assert_eq!(args.debuggee, DebuggeeSpec::Launch(vec!["prog.exe".into(), "a b".into()]));
        assert_eq!(args.reporting, Reporting::default());
        assert!(parse(&["--library-events", ":1", "p"]).unwrap().reporting.library_events);
        let both = parse(&["--first-chance", "--library-events", ":1", "p"]).unwrap().reporting;
        assert!(both.first_chance && both.library_events);
        assert_eq!(parse(&["--attach", ":1", "244"]).unwrap().debuggee, DebuggeeSpec::Attach(244));
        assert_eq!(parse(&["--attach", ":1", "0xf4"]).unwrap().debuggee, DebuggeeSpec::Attach(244));
        assert_eq!(parse(&[":0", "p"]).unwrap().listen, "0.0.0.0:0");
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        assert_eq!(parse(&[]), Err(ArgsError::Usage));
        assert_eq!(parse(&[":1234"]), Err(ArgsError::Usage));
        assert_eq!(parse(&["--multi", ":1", "p"]), Err(ArgsError::UnknownOption("--multi".into())));
        assert_eq!(parse(&["1234", "p"]), Err(ArgsError::BadAddress("1234".into())));
        assert_eq!(parse(&["h:99999", "p"]), Err(ArgsError::BadAddress("h:99999".into())));
        assert_eq!(parse(&["--attach", ":1", "prog.exe"]), Err(ArgsError::BadPid("prog.exe".into())));
        assert_eq!(parse(&["--attach", ":1", "0"]), Err(ArgsError::BadPid("0".into())));
        assert_eq!(parse(&["--attach", ":1", "12", "13"]), Err(ArgsError::Usage));
    }
}
