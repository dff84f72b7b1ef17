//! Shared support: starting the server on a fixture, a raw protocol client,
//! and gdb in batch mode.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SERVER: &str = env!("CARGO_BIN_EXE_dbgkit-gdbserver");

pub fn fixture(name: &str) -> PathBuf {
    dbgkit_fixtures::path(name)
}

/// A server started on an ephemeral port, with what it said on stderr.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// The debugged process, from `Process ... created; pid = N` or `Attached; pid = N`.
    pub pid: Option<i32>,
    pub stderr_lines: std::sync::mpsc::Receiver<String>,
}

impl Server {
    /// `dbgkit-gdbserver ARGS` (ARGS include `127.0.0.1:0`).
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(SERVER)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dbgkit-gdbserver");
        let Some(stderr) = child.stderr.take() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no stderr pipe");
        };
        // What the server and the program say, on either stream, in one list.
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("stdout pipe");
        let program_tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if program_tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut pid = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("server output");
            if let Some(rest) = line.split("pid = ").nth(1) {
                pid = rest.trim().parse().ok();
            }
            if let Some(port) = line.strip_prefix("Listening on port ") {
                return Server { child, port: port.trim().parse().unwrap(), pid, stderr_lines: rx };
            }
        }
    }

    pub fn connect(&self) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client { stream, buffer: Vec::new(), notifications: Default::default() }
    }

    /// Waits for the server to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Every line the server printed so far.
    pub fn output(&self) -> Vec<String> {
        self.stderr_lines.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn checksum(body: &[u8]) -> u8 {
    body.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = vec![b'$'];
    out.extend_from_slice(body);
    out.extend_from_slice(format!("#{:02x}", checksum(body)).as_bytes());
    out
}

/// A raw protocol client (acknowledgements on, as gdb starts).
pub struct Client {
    pub stream: TcpStream,
    buffer: Vec<u8>,
    notifications: std::collections::VecDeque<String>,
}

impl Client {
    pub fn from_stream(stream: TcpStream) -> Client {
        Client { stream, buffer: Vec::new(), notifications: Default::default() }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next byte that is not part of a packet (`+` or `-`), skipping nothing else.
    pub fn read_ack(&mut self) -> u8 {
        self.fill_until(|b| !b.is_empty());
        self.buffer.remove(0)
    }

    /// The next packet's body (acks before it are skipped), checked and
    /// acknowledged; notifications met on the way are kept for
    /// [`Client::read_notification`].
    pub fn read_packet(&mut self) -> Vec<u8> {
        loop {
            if let Some((kind, body)) = self.take_framed() {
                if kind == b'%' {
                    self.notifications.push_back(String::from_utf8_lossy(&body).into_owned());
                    continue;
                }
                self.send_raw(b"+");
                return body;
            }
            self.fill_more();
        }
    }

    /// The next asynchronous notification (`%Stop:...`), without its `%`.
    pub fn read_notification(&mut self) -> String {
        loop {
            if let Some(notification) = self.notifications.pop_front() {
                return notification;
            }
            match self.take_framed() {
                Some((b'%', body)) => return String::from_utf8_lossy(&body).into_owned(),
                Some((_, body)) => {
                    panic!("a reply where a notification was awaited: {}", String::from_utf8_lossy(&body))
                }
                None => self.fill_more(),
            }
        }
    }

    /// The first complete `$...#xx` or `%...#xx` in the buffer, checked; acks before it dropped.
    fn take_framed(&mut self) -> Option<(u8, Vec<u8>)> {
        let start = self.buffer.iter().position(|&c| c == b'$' || c == b'%')?;
        let hash = start + self.buffer[start..].iter().position(|&c| c == b'#')?;
        if self.buffer.len() < hash + 3 {
            return None;
        }
        let kind = self.buffer[start];
        let body = self.buffer[start + 1..hash].to_vec();
        let sent = u8::from_str_radix(std::str::from_utf8(&self.buffer[hash + 1..hash + 3]).unwrap(), 16).unwrap();
        assert_eq!(sent, checksum(&body), "checksum of {:?}", String::from_utf8_lossy(&body));
        self.buffer.drain(..hash + 3);
        Some((kind, body))
    }

    fn fill_more(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).expect("read from the server");
        assert!(n > 0, "the server closed the connection");
        self.buffer.extend_from_slice(&chunk[..n]);
    }

    /// The next packet's body, or `None` when the server closed the connection.
    pub fn try_read_packet(&mut self) -> Option<Vec<u8>> {
        let mut chunk = [0u8; 4096];
        while self.buffer.iter().position(|&c| c == b'#').is_none_or(|h| self.buffer.len() < h + 3) {
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
        Some(self.read_packet())
    }

    /// Sends a packet and returns the reply's body (run-length encoding expanded).
    pub fn ask(&mut self, body: &str) -> String {
        self.send_raw(&frame(body.as_bytes()));
        expand_rle(&self.read_packet())
    }

    fn fill_until(&mut self, done: impl Fn(&[u8]) -> bool) {
        let mut chunk = [0u8; 4096];
        while !done(&self.buffer) {
            let n = self.stream.read(&mut chunk).expect("read from the server");
            assert!(n > 0, "the server closed the connection");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Expands the protocol's run-length encoding (`X*N`: N - 29 more of X).
pub fn expand_rle(body: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'*' && i + 1 < body.len() && !out.is_empty() {
            let count = body[i + 1] as usize - 29;
            let last = *out.last().unwrap();
            out.extend(std::iter::repeat_n(last, count));
            i += 2;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A fixture started beside the server (to be attached to); killed when
/// dropped, so a test that fails leaves nothing running.
pub struct Program(std::process::Child);

impl Program {
    pub fn start(name: &str) -> Program {
        Program(Command::new(fixture(name)).stdin(Stdio::null()).spawn().expect("start a fixture"))
    }

    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    /// Whether it still runs (not ended, not reaped).
    pub fn running(&mut self) -> bool {
        self.0.try_wait().expect("wait for a fixture").is_none()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The pid tracing `pid` (`TracerPid` of `/proc/PID/status`; 0 for none).
pub fn tracer_of(pid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("TracerPid:"))?.trim().parse().ok()
}

/// Whether a process exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().and_then(|r| r.split_whitespace().next()) != Some("Z"))
        .unwrap_or(false)
}

/// Runs `gdb -batch -nx` with these commands; returns stdout and stderr together.
pub fn gdb(program: &std::path::Path, commands: &[String]) -> String {
    // A server that hangs fails the test (gdb is ended, and the server
    // with it) instead of the whole run.
    let mut command = Command::new("timeout");
    command.args(["300", "gdb", "-batch", "-nx", "-iex", "set debuginfod enabled off"]);
    for c in commands {
        command.arg("-ex").arg(c);
    }
    command.arg(program);
    let out = command.stdin(Stdio::null()).output().expect("gdb (scripts/setup installs it)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
