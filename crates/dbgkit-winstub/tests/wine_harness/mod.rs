//! What every Wine test needs: the Windows build of the stub, the
//! mingw-built programs, `wine64` in the test prefix, and a stub running
//! one program (`Stub`), with gdb or dbgkit as its client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const WINE: &str = "/usr/lib/wine/wine64";
/// How long the stub may take to start the program (Wine's first start in
/// a cold prefix takes a few seconds).
pub const STARTUP: Duration = Duration::from_secs(90);
/// How long one gdb run may take.
pub const GDB_TIMEOUT_SECS: u32 = 90;

/// Whether the Wine tests run: they are `#[ignore]`d in the default run;
/// asked for without what `scripts/windows-tests` sets up, they fail and say so.
pub fn enabled(test: &str) -> bool {
    assert!(
        std::env::var("DBGKIT_WINE_TESTS").as_deref() == Ok("1"),
        "{test}: the Wine tests need Wine, mingw-w64 and the Windows build of the stub: run scripts/windows-tests"
    );
    true
}

pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_dir().join("target"))
}

/// The stub built for Windows.
pub fn stub_exe() -> PathBuf {
    std::env::var_os("DBGKIT_WINSTUB_EXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("x86_64-pc-windows-gnu/debug/dbgkit-winstub.exe"))
}

/// The directory of the mingw-built test programs (tests/windows/*.c).
pub fn programs_dir() -> PathBuf {
    std::env::var_os("DBGKIT_WINDOWS_PROGRAMS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("windows-programs"))
}

pub fn program(name: &str) -> PathBuf {
    let path = programs_dir().join(name).canonicalize().unwrap_or_else(|e| {
        panic!("{name} is not built in {} ({e}): run scripts/windows-tests", programs_dir().display())
    });
    path
}

/// A Linux path as Wine names it on its drive Z:.
pub fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// The stub, running a program, until it ends.
pub struct Stub {
    pub child: Child,
    pub port: u16,
    pub stderr: Arc<Mutex<Vec<String>>>,
    pub stdout: mpsc::Receiver<String>,
}

impl Stub {
    /// Starts the stub on `program` with `args`, and waits until it listens.
    pub fn start(options: &[&str], program_name: &str, args: &[&str]) -> Stub {
        let mut stub_args: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        stub_args.push("127.0.0.1:0".into());
        stub_args.push(windows_path(&program(program_name)));
        stub_args.extend(args.iter().map(|a| a.to_string()));
        Stub::spawn(&stub_args)
    }

    /// Starts the stub attaching to the Windows process `pid`.
    pub fn attach(pid: u32) -> Stub {
        Stub::spawn(&["--attach".into(), "127.0.0.1:0".into(), pid.to_string()])
    }

    pub fn spawn(stub_args: &[String]) -> Stub {
        let exe = stub_exe();
        assert!(exe.exists(), "{} is not built: run scripts/windows-tests", exe.display());
        let mut child = wine_command(&exe)
            .args(stub_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wine64 starts (scripts/windows-setup installs it)");

        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let lines = BufReader::new(child.stderr.take().expect("piped"));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("Listening on port ") {
                    let _ = port_tx.send(port.trim().parse::<u16>().expect("a port number"));
                }
                sink.lock().unwrap().push(line);
            }
        });
        let (out_tx, out_rx) = mpsc::channel();
        let mut program_output = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = program_output.read_to_string(&mut text);
            let _ = out_tx.send(text);
        });
        let port = match port_rx.recv_timeout(STARTUP) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!("the stub did not listen within {STARTUP:?}; it said:\n{}", stderr.lock().unwrap().join("\n"));
            }
        };
        Stub { child, port, stderr, stdout: out_rx }
    }

    /// Runs Linux gdb against the stub with `commands`, in batch mode.
    pub fn gdb(&self, program_name: &str, commands: &[&str]) -> String {
        self.gdb_command(program_name, commands).output().map(|o| text_of(&o.stdout, &o.stderr)).expect("gdb runs")
    }

    /// The gdb command line for `commands`, not started.
    pub fn gdb_command(&self, program_name: &str, commands: &[&str]) -> Command {
        let dlls = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows";
        let mut command = Command::new("timeout");
        // gdb may not end on SIGTERM while its target is stuck: KILL 10 s
        // later. --foreground: a signal to `timeout` reaches gdb once (in
        // its own process group, timeout would send it twice, and a second
        // SIGINT makes gdb give up on its target).
        command.args(["--foreground", "-k", "10"]).arg(GDB_TIMEOUT_SECS.to_string()).args(["gdb", "-nx", "-batch"]);
        // A gdb built for Linux knows no Windows OS ABI: "none" keeps it
        // from taking the program for a Linux one, so it reads the DLL list
        // the stub sends; DOS file names and the search path let it find
        // Wine's DLLs and the test's own on the Linux side.
        let setup = [
            "set osabi none".to_string(),
            "set target-file-system-kind dos-based".to_string(),
            format!("set solib-search-path {}:{dlls}", programs_dir().display()),
            "set breakpoint pending on".to_string(),
            format!("target remote 127.0.0.1:{}", self.port),
        ];
        for line in setup.iter().map(String::as_str).chain(commands.iter().copied()) {
            command.args(["-ex", line]);
        }
        command.arg(program(program_name));
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    }

    /// Waits until a line of the stub's log contains `text`.
    pub fn wait_for_log(&self, text: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.stderr.lock().unwrap().iter().any(|l| l.contains(text)) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("{text:?} is not in the stub's log: {}", self.stderr.lock().unwrap().join("\n")))
    }

    /// Waits for the stub to end; its log and the program's output.
    pub fn finish(mut self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.child.try_wait().expect("wait works").is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the stub did not end; it said:\n{}", self.stderr.lock().unwrap().join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The program's output ends when it does (a detached one outlives the stub).
        let output = self.stdout.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        // The reader thread may still be taking the last lines.
        std::thread::sleep(Duration::from_millis(100));
        let log = self.stderr.lock().unwrap().join("\n");
        (log, output)
    }
}

/// `debuggee.exe spin ROUNDS` started by Wine alone, not debugged.
pub struct Spinning {
    pub child: Child,
    /// The rest of its output, after the first line.
    pub lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    /// Its first line, which gives its Windows process id.
    pub first: String,
    pub pid: u32,
}

impl Spinning {
    pub fn start(rounds: u32) -> Spinning {
        let mut child = wine_command(&program("debuggee.exe"))
            .args(["spin", &rounds.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wine64 starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the program speaks").unwrap();
        let pid = first.trim().rsplit(' ').next().unwrap().parse().expect("a process id");
        Spinning { child, lines, first, pid }
    }
}

/// `wine64 EXE` in the test programs' directory, quiet, in the test prefix.
pub fn wine_command(exe: &Path) -> Command {
    let mut command = Command::new(WINE);
    command.arg(exe).current_dir(programs_dir()).env("WINEDEBUG", "-all");
    if std::env::var_os("WINEPREFIX").is_none() {
        command.env("WINEPREFIX", "/var/tmp/dbgkit-wine/prefix");
    }
    command
}

/// Everything a child writes on its standard output and error (read at
/// the same time, so that neither pipe fills up), once it has ended.
pub fn collect_output(mut child: Child) -> String {
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut out = String::new();
    let _ = child.stdout.take().expect("piped").read_to_string(&mut out);
    child.wait().expect("the child ends");
    out + &errors.join().expect("standard error is read")
}

pub fn text_of(stdout: &[u8], stderr: &[u8]) -> String {
    format!("{}{}", String::from_utf8_lossy(stdout), String::from_utf8_lossy(stderr))
}

/// The line number of the first line of `tests/windows/FILE` containing `text`.
pub fn source_line(file: &str, text: &str) -> usize {
    let path = workspace_dir().join("tests/windows").join(file);
    let source = std::fs::read_to_string(&path).expect("the test program's source is there");
    source.lines().position(|l| l.contains(text)).expect("the line is in the source") + 1
}

/// The process id the stub's log gives ("...; pid = N").
pub fn logged_pid(log: &str) -> u32 {
    let start = log.find("; pid = ").expect("the stub says the process id") + "; pid = ".len();
    log[start..].lines().next().unwrap().trim().parse().expect("a process id")
}

/// The hexadecimal number after `prefix` in `text`.
pub fn hex_after(text: &str, prefix: &str) -> Option<u64> {
    let start = text.find(prefix)? + prefix.len();
    let digits: String = text[start..].trim_start_matches("0x").chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    u64::from_str_radix(&digits, 16).ok()
}
