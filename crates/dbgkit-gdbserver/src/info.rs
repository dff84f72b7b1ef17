//! Small facts for the client: the host and process (lldb's `qHostInfo`
//! and `qProcessInfo`), and a thread's name (`qThreadExtraInfo`).

use crate::target::{tid_of, ServerError, ServerTarget};
use gdbstub::common::{Endianness, Tid};
use gdbstub::target::ext::host_info::{HostInfo, HostInfoResponse};
use gdbstub::target::ext::process_info::{ProcessInfo, ProcessInfoResponse};
use gdbstub::target::ext::thread_extra_info::ThreadExtraInfo;
use std::num::NonZeroUsize;

const TRIPLE: &str = "x86_64-pc-linux-gnu";
/// Threads whose `stat` file is kept open at most (dead ones are dropped as
/// they are found; this bounds the rest).
const MAX_OPEN_STAT_FILES: usize = 4096;

/// The processor field (39) of a `/proc/.../stat` text.
pub fn core_in_stat(stat: &str) -> Option<u32> {
    // Fields after the command name (which may hold spaces) start at field 3.
    stat.rsplit_once(')')?.1.split_whitespace().nth(36)?.parse().ok()
}

/// The processor each thread last ran on, for stop replies: its `stat`
/// file is kept open and read again from the start at each stop, which
/// costs a third of opening it each time (a stop reply is on every
/// breakpoint hit and step).
#[derive(Default)]
pub struct ThreadCores {
    files: std::collections::HashMap<i32, std::fs::File>,
}

impl ThreadCores {
    pub fn of(&mut self, pid: i32, tid: i32) -> Option<u32> {
        use std::os::unix::fs::FileExt;
        if self.files.len() >= MAX_OPEN_STAT_FILES {
            self.files.clear();
        }
        let file = match self.files.entry(tid) {
            std::collections::hash_map::Entry::Occupied(open) => open.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(std::fs::File::open(format!("/proc/{pid}/task/{tid}/stat")).ok()?)
            }
        };
        let mut buf = [0u8; 1024];
        match file.read_at(&mut buf, 0) {
            Ok(len) => core_in_stat(std::str::from_utf8(&buf[..len]).ok()?),
            Err(_) => {
                // The thread is gone (a new one with its id gets a new file).
                self.files.remove(&tid);
                None
            }
        }
    }
}

/// A small `/proc` file (a thread's `stat` or `comm`) in one read: these
/// are read at every stop, and the standard library's growing reads cost
/// several system calls each.
pub fn read_proc_file(path: &str) -> Option<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = [0u8; 1024];
    let mut len = 0;
    loop {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if len == buf.len() {
                    break;
                }
            }
            Err(_) => return None,
        }
    }
    Some(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// Whether the task whose `stat` file is at `path` has ended (a zombie not
/// reaped yet, or dead); `None` when the file is gone.
pub fn task_ended(stat_path: &str) -> Option<bool> {
    let stat = read_proc_file(stat_path)?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(matches!(rest.trim_start().chars().next(), Some('Z' | 'X')))
}

/// A thread's name (`/proc/PID/task/TID/comm`), empty when it is gone.
pub fn thread_name(pid: i32, tid: i32) -> String {
    read_proc_file(&format!("/proc/{pid}/task/{tid}/comm")).map(|n| n.trim_end().to_string()).unwrap_or_default()
}

impl HostInfo for ServerTarget {
    fn host_info(&self, write_item: &mut dyn FnMut(&HostInfoResponse<'_>)) -> Result<(), ServerError> {
        write_item(&HostInfoResponse::Triple(TRIPLE));
        write_item(&HostInfoResponse::Endianness(Endianness::Little));
        write_item(&HostInfoResponse::PointerSize(8));
        Ok(())
    }
}

impl ProcessInfo for ServerTarget {
    fn process_info(&self, write_item: &mut dyn FnMut(&ProcessInfoResponse<'_>)) -> Result<(), ServerError> {
        if let Some(pid) = self.inferior.as_ref().and_then(|i| NonZeroUsize::new(i.pid as usize)) {
            write_item(&ProcessInfoResponse::Pid(pid));
        }
        write_item(&ProcessInfoResponse::Triple(TRIPLE));
        write_item(&ProcessInfoResponse::Endianness(Endianness::Little));
        write_item(&ProcessInfoResponse::PointerSize(8));
        Ok(())
    }
}

impl ThreadExtraInfo for ServerTarget {
    fn thread_extra_info(&self, tid: Tid, buf: &mut [u8]) -> Result<usize, ServerError> {
        let Some(pid) = self.inferior.as_ref().map(|i| i.pid) else { return Ok(0) };
        let name = thread_name(pid, tid_of(tid));
        let name = name.as_bytes();
        let n = name.len().min(buf.len());
        buf[..n].copy_from_slice(&name[..n]);
        Ok(n)
    }
}
