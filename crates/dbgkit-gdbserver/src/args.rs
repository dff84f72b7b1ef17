//! The command line, as gdbserver takes it, so tools and test harnesses
//! that start gdbserver can start this server unchanged:
//! `dbgkit-gdbserver [OPTIONS] COMM PROG [ARGS...]`,
//! `dbgkit-gdbserver [OPTIONS] --attach COMM PID`,
//! `dbgkit-gdbserver [OPTIONS] --multi COMM`.

use std::net::{SocketAddr, ToSocketAddrs};

pub const USAGE: &str = "\
Usage:\tdbgkit-gdbserver [OPTIONS] COMM PROG [ARGS ...]
\tdbgkit-gdbserver [OPTIONS] --attach COMM PID
\tdbgkit-gdbserver [OPTIONS] --multi COMM

COMM may be HOST:PORT (HOST defaults to the loopback address), :PORT,
or '-' / 'stdio' to talk over standard input and output.

Options:
  --once                exit after the first connection closes
  --multi               extended mode: start with no process, stay after it ends
  --attach              attach to the running process PID
  --debug               log what the server does on standard error
  --remote-debug        print every packet on standard error
  --debug-file=FILE     (accepted; logs go to standard error)
  --disable-randomization / --no-disable-randomization
                        address randomisation of launched programs (off by default)
  --startup-with-shell / --no-startup-with-shell
                        (accepted; programs are always started directly)
  --version             print the version
  --help                this text
";

/// Where the protocol runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comm {
    Stdio,
    Tcp(SocketAddr),
}

/// What to debug first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// Launch a program with its arguments.
    Launch(Vec<String>),
    /// Attach to a running process.
    Attach(i32),
    /// Nothing yet (extended mode).
    Nothing,
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub comm: Comm,
    pub start: Start,
    pub once: bool,
    pub multi: bool,
    pub debug: bool,
    pub remote_debug: bool,
    pub disable_randomization: bool,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Serve(Options),
    Help,
    Version,
}

/// Parses `HOST:PORT`, `:PORT`, `tcp:HOST:PORT`, `-` or `stdio`.
pub fn parse_comm(text: &str) -> Result<Comm, String> {
    if text == "-" || text == "stdio" {
        return Ok(Comm::Stdio);
    }
    let text = ["tcp:", "tcp4:", "tcp6:"].iter().find_map(|p| text.strip_prefix(p)).unwrap_or(text);
    let (host, port) = text.rsplit_once(':').unwrap_or(("", text));
    let port: u16 = port.parse().map_err(|_| format!("bad port number in {text:?}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host == "localhost" {
        return Ok(Comm::Tcp(SocketAddr::from(([127, 0, 0, 1], port))));
    }
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}: cannot resolve name: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: cannot resolve name"))?;
    Ok(Comm::Tcp(addr))
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut once = false;
    let mut multi = false;
    let mut attach = false;
    let mut debug = false;
    let mut remote_debug = false;
    let mut disable_randomization = true;
    let mut rest = args.iter().peekable();
    while let Some(arg) = rest.peek() {
        if !arg.starts_with("--") {
            break;
        }
        let arg = rest.next().expect("peeked");
        match arg.as_str() {
            "--once" => once = true,
            "--multi" => multi = true,
            "--attach" => attach = true,
            "--debug" => debug = true,
            "--remote-debug" => remote_debug = true,
            "--disable-randomization" => disable_randomization = true,
            "--no-disable-randomization" => disable_randomization = false,
            "--startup-with-shell" | "--no-startup-with-shell" => {}
            "--help" => return Ok(Command::Help),
            "--version" => return Ok(Command::Version),
            "--" => break,
            other if other.starts_with("--debug-file=") || other.starts_with("--debug-format=") => {}
            other if other.starts_with("--debug=") => debug = true,
            "--wrapper" => return Err("--wrapper is not supported".into()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let comm = rest.next().ok_or("no connection given (HOST:PORT, :PORT or -)")?;
    let comm = parse_comm(comm)?;
    let rest: Vec<String> = rest.cloned().collect();
    let start = if attach {
        let [pid] = rest.as_slice() else { return Err("--attach takes one process id".into()) };
        Start::Attach(pid.parse().map_err(|_| format!("bad process id {pid:?}"))?)
    } else if rest.is_empty() {
        if !multi {
            return Err("no program to run (or use --multi or --attach)".into());
        }
        Start::Nothing
    } else {
        Start::Launch(rest)
    };
    Ok(Command::Serve(Options { comm, start, once, multi, debug, remote_debug, disable_randomization }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_testsuite_command_lines_parse() {
        let Command::Serve(o) = parse(&args("--once localhost:2346 /tmp/prog a b")).unwrap() else { panic!() };
        assert!(o.once && !o.multi);
        assert_eq!(o.comm, Comm::Tcp("127.0.0.1:2346".parse().unwrap()));
        assert_eq!(o.start, Start::Launch(args("/tmp/prog a b")));
        let Command::Serve(o) = parse(&args("--once --multi localhost:2347")).unwrap() else { panic!() };
        assert_eq!(o.start, Start::Nothing);
        let Command::Serve(o) = parse(&args("--attach :99 1234")).unwrap() else { panic!() };
        assert_eq!(o.start, Start::Attach(1234));
        let Command::Serve(o) = parse(&args("- /bin/true")).unwrap() else { panic!() };
        assert_eq!(o.comm, Comm::Stdio);
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        assert!(parse(&args("localhost:2345")).unwrap_err().contains("no program"));
        assert!(parse(&args("--bogus :1 x")).unwrap_err().contains("--bogus"));
        assert!(parse(&args("host:notaport x")).unwrap_err().contains("port"));
        assert!(parse(&args("--attach :1 abc")).unwrap_err().contains("process id"));
        assert!(parse(&[]).unwrap_err().contains("connection"));
    }
}
