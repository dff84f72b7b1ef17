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
}

impl Gdbserver {
    /// Starts `program` under gdbserver, stopped at its first instruction.
    pub fn start(program: &Path, args: &[&str]) -> Gdbserver {
        let mut child = Command::new("gdbserver")
            .arg("--once")
            .arg("127.0.0.1:0")
            .arg(program)
            .args(args)
            .env("LANG", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gdbserver is not installed: scripts/setup installs it (apt-get install gdbserver)");
        let stderr = child.stderr.take().expect("piped");
        let output = Arc::new(Mutex::new(String::new()));
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
        Gdbserver { child, port, output }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What gdbserver (and the program) wrote on standard error so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
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
    }
}
