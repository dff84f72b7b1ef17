//! The byte stream to a stub: a TCP connection (`host:port`), or the
//! standard input and output of a command (`| gdbserver - prog`, as gdb's
//! `target remote | CMD`).

use super::error::RemoteError;
use std::io::{Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::fd::{AsRawFd, RawFd};
use std::process::{Child, ChildStdin, ChildStdout};
#[cfg(unix)]
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where a stub is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// `host:port` (also `tcp:host:port`, `[::1]:port`, and `:port` for this machine).
    Tcp { host: String, port: u16 },
    /// `| command args...`: run through `sh -c`, speaking on its standard input and output.
    Pipe { command: String },
}

impl Address {
    /// Reads an address as gdb's `target remote` takes it.
    pub fn parse(text: &str) -> Result<Address, RemoteError> {
        let bad = |reason: &str| RemoteError::BadAddress { address: text.into(), reason: reason.into() };
        let text = text.trim();
        if let Some(command) = text.strip_prefix('|') {
            let command = command.trim();
            if command.is_empty() {
                return Err(bad("`|` must be followed by the command that runs the stub"));
            }
            return Ok(Address::Pipe { command: command.into() });
        }
        let rest = text.strip_prefix("tcp:").or_else(|| text.strip_prefix("tcp4:")).unwrap_or(text);
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("an IPv6 address needs its closing `]`"))?;
            let port = after.strip_prefix(':').ok_or_else(|| bad("a port is needed after the address: [HOST]:PORT"))?;
            (host, port)
        } else {
            rest.rsplit_once(':').ok_or_else(|| bad("expected HOST:PORT (or `| COMMAND`)"))?
        };
        let port: u16 = port.parse().map_err(|_| bad("the port must be a number from 1 to 65535"))?;
        if port == 0 {
            return Err(bad("port 0 is not a port a stub listens on"));
        }
        let host = if host.is_empty() { "127.0.0.1" } else { host };
        Ok(Address::Tcp { host: host.into(), port })
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Pipe { command } => write!(f, "| {command}"),
        }
    }
}

/// What one read gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Bytes(usize),
    /// Nothing arrived within the time allowed.
    Nothing,
    /// A signal to the debugger (Ctrl-C) interrupted the wait.
    Interrupted,
    /// The other end closed the stream.
    Closed,
}

/// An open stream to a stub.
pub enum Transport {
    Tcp(TcpStream),
    Pipe { child: Child, input: Option<ChildStdin>, output: ChildStdout },
}

impl Transport {
    /// Connects to a stub, waiting at most `timeout` for a TCP connection
    /// (a stub that is still starting, such as QEMU, gets a few tries).
    pub fn open(address: &Address, timeout: Duration) -> Result<Transport, RemoteError> {
        let failed = |reason: String| RemoteError::ConnectFailed { address: address.to_string(), reason };
        match address {
            Address::Tcp { host, port } => {
                use std::net::ToSocketAddrs;
                let targets: Vec<_> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| failed(format!("cannot resolve {host}: {e}")))?
                    .collect();
                let deadline = std::time::Instant::now() + timeout;
                loop {
                    let mut last = None;
                    for t in &targets {
                        match TcpStream::connect_timeout(t, timeout) {
                            Ok(stream) => {
                                // Packets are small and each waits for its answer: no batching delay.
                                stream.set_nodelay(true).map_err(|e| failed(e.to_string()))?;
                                return Ok(Transport::Tcp(stream));
                            }
                            Err(e) => last = Some(e),
                        }
                    }
                    let e = last.map(|e| e.to_string()).unwrap_or_else(|| "no address".into());
                    if std::time::Instant::now() >= deadline {
                        return Err(failed(e));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            #[cfg(not(unix))]
            Address::Pipe { command } => Err(failed(format!(
                "cannot run `{command}`: a stub on a pipe is started on Unix systems only (give HOST:PORT)"
            ))),
            #[cfg(unix)]
            Address::Pipe { command } => {
                use std::os::unix::process::CommandExt;
                let mut child = Command::new("/bin/sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    // Its own process group: Ctrl-C at the debugger's terminal is a
                    // break-in request for the debugger, not a signal to the stub.
                    .process_group(0)
                    .spawn()
                    .map_err(|e| failed(format!("cannot run `{command}`: {e}")))?;
                let input = child.stdin.take().expect("piped");
                let output = child.stdout.take().expect("piped");
                Ok(Transport::Pipe { child, input: Some(input), output })
            }
        }
    }

    #[cfg(unix)]
    fn read_fd(&self) -> RawFd {
        match self {
            Transport::Tcp(s) => s.as_raw_fd(),
            Transport::Pipe { output, .. } => output.as_raw_fd(),
        }
    }

    /// Reads what is there, waiting at most `timeout` (`None`: as long as it
    /// takes). `interruptible`: a signal to the debugger ends the wait.
    #[cfg(unix)]
    pub fn read(
        &mut self,
        buf: &mut [u8],
        timeout: Option<Duration>,
        interruptible: bool,
    ) -> std::io::Result<Received> {
        let millis = timeout.map(|t| t.as_millis().min(i32::MAX as u128) as i32).unwrap_or(-1);
        loop {
            let mut fd = libc::pollfd { fd: self.read_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut fd, 1, millis) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    if interruptible {
                        return Ok(Received::Interrupted);
                    }
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                return Ok(Received::Nothing);
            }
            let got = match self {
                Transport::Tcp(s) => s.read(buf),
                Transport::Pipe { output, .. } => output.read(buf),
            };
            match received(got) {
                Some(result) => return result,
                None => continue,
            }
        }
    }

    /// Reads what is there, waiting at most `timeout` (`None`: as long as
    /// it takes) with `WSAPoll`, as `poll` on Unix. No signal ends a wait
    /// on Windows: an interruptible one returns `Interrupted` every tenth
    /// of a second, for the caller to look at its Ctrl-C flag.
    #[cfg(windows)]
    pub fn read(
        &mut self,
        buf: &mut [u8],
        timeout: Option<Duration>,
        interruptible: bool,
    ) -> std::io::Result<Received> {
        use std::os::windows::io::AsRawSocket;
        use windows_sys::Win32::Networking::WinSock::{WSAGetLastError, WSAPoll, POLLRDNORM, SOCKET, WSAPOLLFD};
        const SLICE: Duration = Duration::from_millis(100);
        let Transport::Tcp(stream) = self else {
            return Err(std::io::ErrorKind::Unsupported.into());
        };
        let (wait, slice_ended) = match (timeout, interruptible) {
            (Some(t), true) if t > SLICE => (Some(SLICE), Received::Interrupted),
            (None, true) => (Some(SLICE), Received::Interrupted),
            (t, _) => (t, Received::Nothing),
        };
        let millis = wait.map(|t| t.as_millis().min(i32::MAX as u128) as i32).unwrap_or(-1);
        loop {
            let mut fd = WSAPOLLFD { fd: stream.as_raw_socket() as SOCKET, events: POLLRDNORM, revents: 0 };
            // SAFETY: one valid WSAPOLLFD for a socket we own.
            let n = unsafe { WSAPoll(&mut fd, 1, millis) };
            if n < 0 {
                // SAFETY: plain call.
                return Err(std::io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
            }
            if n == 0 {
                return Ok(slice_ended);
            }
            match received(stream.read(buf)) {
                Some(result) => return result,
                None => continue,
            }
        }
    }

    /// Reads what is there, waiting at most `timeout` (`None`: as long as
    /// it takes), with the socket's receive timeout. No wait is interrupted.
    #[cfg(not(any(unix, windows)))]
    pub fn read(
        &mut self,
        buf: &mut [u8],
        timeout: Option<Duration>,
        _interruptible: bool,
    ) -> std::io::Result<Received> {
        let Transport::Tcp(stream) = self else {
            return Err(std::io::ErrorKind::Unsupported.into());
        };
        // A zero timeout means "block" to the socket: poll with the shortest one instead.
        stream.set_read_timeout(timeout.map(|t| t.max(Duration::from_millis(1))))?;
        match stream.read(buf) {
            Ok(0) => Ok(Received::Closed),
            Ok(n) => Ok(Received::Bytes(n)),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                Ok(Received::Nothing)
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(Received::Closed),
            Err(e) => Err(e),
        }
    }

    /// Writes every byte.
    pub fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Transport::Tcp(s) => s.write_all(bytes),
            Transport::Pipe { input: Some(input), .. } => input.write_all(bytes),
            Transport::Pipe { input: None, .. } => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// Ends the conversation: the stub sees the connection close.
    pub fn shutdown(&mut self) {
        match self {
            Transport::Tcp(s) => {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            Transport::Pipe { input, .. } => *input = None,
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        if let Transport::Pipe { child, input, .. } = self {
            // The stub sees its input close and ends; one that does not is ended.
            *input = None;
            for _ in 0..50 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a read of readable input gave: `None` when a signal cut it short
/// (read again).
#[cfg(any(unix, windows))]
fn received(got: std::io::Result<usize>) -> Option<std::io::Result<Received>> {
    match got {
        Ok(0) => Some(Ok(Received::Closed)),
        Ok(n) => Some(Ok(Received::Bytes(n))),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => None,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(Ok(Received::Closed)),
        Err(e) => Some(Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_gdb_takes_them() {
        assert_eq!(Address::parse("localhost:1234").unwrap(), Address::Tcp { host: "localhost".into(), port: 1234 });
        assert_eq!(Address::parse(":1234").unwrap(), Address::Tcp { host: "127.0.0.1".into(), port: 1234 });
        assert_eq!(Address::parse("tcp:10.0.0.1:99").unwrap(), Address::Tcp { host: "10.0.0.1".into(), port: 99 });
        assert_eq!(Address::parse("[::1]:5").unwrap(), Address::Tcp { host: "::1".into(), port: 5 });
        assert_eq!(Address::parse("[::1]:5").unwrap().to_string(), "[::1]:5");
        assert_eq!(
            Address::parse("| gdbserver - /bin/true").unwrap(),
            Address::Pipe { command: "gdbserver - /bin/true".into() }
        );
        for bad in ["", "host", "host:", "host:port", "host:70000", "host:0", "|", "[::1]5"] {
            let e = Address::parse(bad).unwrap_err();
            assert!(matches!(e, RemoteError::BadAddress { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn a_closed_port_is_a_clear_error() {
        // Bind then drop: the port is (almost certainly) closed now.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = Address::Tcp { host: "127.0.0.1".into(), port };
        let e = Transport::open(&address, Duration::from_millis(200)).err().expect("refused");
        let text = e.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")) && text.contains("refused"), "{text}");
    }

    #[test]
    fn a_pipe_carries_bytes_both_ways() {
        let mut t = Transport::open(&Address::Pipe { command: "cat".into() }, Duration::from_secs(1)).unwrap();
        t.write_all(b"$OK#9a").unwrap();
        let mut buf = [0u8; 16];
        let mut got = Vec::new();
        while got.len() < 6 {
            match t.read(&mut buf, Some(Duration::from_secs(5)), false).unwrap() {
                Received::Bytes(n) => got.extend_from_slice(&buf[..n]),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, b"$OK#9a");
        let mut quiet = Transport::open(&Address::Pipe { command: "exit 0".into() }, Duration::from_secs(1)).unwrap();
        assert_eq!(quiet.read(&mut buf, Some(Duration::from_secs(5)), false).unwrap(), Received::Closed);
    }
}
