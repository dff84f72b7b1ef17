//! `monitor` commands (`qRcmd`): a few of the dbgkit debugger's own
//! commands, answered by the engine, plus gdbserver's `set debug` and `exit`.

use crate::target::ServerTarget;
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd};
use std::fmt::Write as _;

const HELP: &str = "\
dbgkit-gdbserver monitor commands:
  lm                 loaded modules (base, end, path)
  k [TID]            the stack of a thread (default: the stopped one), named by the engine
  ln ADDRESS         the symbol, module and source line of an address (an expression)
  ? EXPRESSION       evaluate a dbgkit expression (registers of the stopped thread)
  bl                 the engine's breakpoints and watchpoints
  set debug 0|1      log what the server does on its standard error
  exit               end the server when this connection closes
  help               this list
";

impl ServerTarget {
    /// The thread of the current stop, or the process's first.
    fn current_thread(&self) -> Option<(i32, i32)> {
        let pid = self.inferior.as_ref()?.pid;
        let tid = self.stop_event.as_ref().map(|e| e.tid).unwrap_or(pid);
        Some((pid, tid))
    }

    /// Runs one monitor command; the answer is text for the client's console.
    pub fn monitor(&mut self, line: &str) -> String {
        let mut out = String::new();
        let line = line.trim();
        let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        match command {
            "" | "help" => out.push_str(HELP),
            "exit" => {
                self.exit_requested = true;
                out.push_str("The server will exit when this connection closes.\n");
            }
            "set" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["debug", value] | ["remote-debug", value] => {
                    self.debug = *value != "0";
                    let _ = writeln!(out, "Debug output {}.", if self.debug { "enabled" } else { "disabled" });
                }
                _ => out.push_str("usage: set debug 0|1\n"),
            },
            _ => {
                let Some((pid, tid)) = self.current_thread() else {
                    return "No process is being debugged.\n".to_string();
                };
                if let Err(e) = self.monitor_on_process(command, rest, pid, tid, &mut out) {
                    let _ = writeln!(out, "{command}: {e}");
                }
            }
        }
        out
    }

    fn monitor_on_process(
        &mut self,
        command: &str,
        rest: &str,
        pid: i32,
        tid: i32,
        out: &mut String,
    ) -> Result<(), dbgkit::Error> {
        match command {
            "lm" => {
                for m in self.session.modules(pid)? {
                    let _ = writeln!(out, "{:016x} {:016x}   {:<24} {}", m.base, m.end(), m.name, m.path.display());
                }
            }
            "k" => {
                let tid = if rest.is_empty() {
                    tid
                } else {
                    rest.parse().map_err(|_| dbgkit::Error::InvalidArgument(format!("bad thread id {rest:?}")))?
                };
                let stack = self.session.stack(pid, tid)?;
                let _ = writeln!(out, " # Child-SP         RetAddr          Call Site");
                let frames = &stack.frames;
                for (i, frame) in frames.iter().enumerate() {
                    let ret = frames.get(i + 1).map(|f| f.pc).unwrap_or(0);
                    let name = self.session.symbolize(pid, frame.pc).map(|s| s.to_string()).unwrap_or_default();
                    let _ = writeln!(out, "{:02x} {:016x} {:016x} {name}", frame.number, frame.sp, ret);
                }
                if let Some(why) = stack.stopped {
                    let _ = writeln!(out, "(the walk stopped: {why})");
                }
            }
            "ln" => {
                let address = self.session.eval(pid, tid, rest)?;
                let s = self.session.symbolize(pid, address)?;
                let _ = write!(out, "{address:016x} {s}");
                if let Some(loc) = &s.location {
                    let _ = write!(out, " ({}:{})", loc.file, loc.line);
                }
                out.push('\n');
            }
            "?" => {
                let value = self.session.eval(pid, tid, rest)?;
                let _ = writeln!(out, "Evaluate expression: {} = {value:016x}", value as i64);
            }
            "bl" => {
                for b in self.session.breakpoints() {
                    let _ = writeln!(
                        out,
                        "{:3} {} {:016x} hits={}",
                        b.id,
                        if b.enabled { 'e' } else { 'd' },
                        b.address,
                        b.hits
                    );
                }
                for w in self.session.watchpoints() {
                    let _ = writeln!(
                        out,
                        "{:3} w {:016x} {} bytes {} hits={}",
                        w.id,
                        w.address,
                        w.len,
                        w.access.name(),
                        w.hits
                    );
                }
            }
            other => {
                let _ = writeln!(out, "unknown monitor command {other:?}; `monitor help` lists them");
            }
        }
        Ok(())
    }
}

impl MonitorCmd for ServerTarget {
    fn handle_monitor_cmd(&mut self, cmd: &[u8], mut out: ConsoleOutput<'_>) -> Result<(), Self::Error> {
        let text = self.monitor(&String::from_utf8_lossy(cmd));
        out.write_raw(text.as_bytes());
        Ok(())
    }
}
