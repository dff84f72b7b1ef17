//! Debian's stock gdbserver, started for one test: `gdbserver --once
//! 127.0.0.1:0 PROGRAM ARGS` (it picks a free port and says which).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running gdbserver; killed when dropped.
pub struct Gdbserver {
    child: Child,
    pub port: u16,
    /// What gdbserver and the program wrote on standard error.
    output: Arc<Mutex<String>>,
    /// What the program wrote on standard output (complete once gdbserver ended).
    program_output: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Gdbserver {
    /// Starts `program` under gdbserver, stopped at its first instruction.
    pub fn start(program: &Path, args: &[&str]) -> Gdbserver {
        let mut child = Command::new("gdbserver")
            .arg("--once")
            .args(std::env::var("DBGKIT_TEST_GDBSERVER_DEBUG").ok().map(|_| "--debug"))
            .arg("127.0.0.1:0")
            .arg(program)
            .args(args)
            .env("LANG", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gdbserver is not installed: scripts/setup installs it (apt-get install gdbserver)");
        let stderr = child.stderr.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let output = Arc::new(Mutex::new(String::new()));
        let program_output = Arc::new(Mutex::new(String::new()));
        let sink = program_output.clone();
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let mut text = String::new();
            let mut stdout = stdout;
            let _ = stdout.read_to_string(&mut text);
            sink.lock().unwrap().push_str(&text);
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("Listening on port ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(port.trim().parse::<u16>().ok());
                    }
                }
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
        });
        let port = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("gdbserver did not say its port: {}", output.lock().unwrap()));
        Gdbserver { child, port, output, program_output, reader: Some(reader) }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What gdbserver (and the program) wrote on standard error so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Everything the program wrote on standard output, once gdbserver
    /// (and so the program) ended by itself within `limit`.
    pub fn program_output(&mut self, limit: std::time::Duration) -> String {
        assert!(self.wait(limit), "gdbserver did not end: {}", self.output());
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.program_output.lock().unwrap().clone()
    }

    /// Ends gdbserver now (its connection drops).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for gdbserver to end by itself (after the program exits or is killed).
    pub fn wait(&mut self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Gdbserver {
    fn drop(&mut self) {
        self.kill();
        if std::env::var_os("DBGKIT_TEST_GDBSERVER_DEBUG").is_some() {
            eprintln!("---- gdbserver said:\n{}", self.output());
        }
    }
}
