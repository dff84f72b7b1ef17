//! What gdb's `info os TYPE` shows (`qXfer:osdata:read:TYPE`): this
//! machine's processes, process groups, threads, open files, internet
//! sockets, System V shared memory, semaphores and message queues, CPUs and
//! kernel modules, read from `/proc`. The documents have the columns, names
//! and order of gdbserver's (`gdb/nat/linux-osdata.c`), since gdb prints
//! them as they come and its tests match the lines.

use crate::libraries::xml_escape;
use std::collections::BTreeSet;
use std::ffi::{c_char, CStr};
use std::fs;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;

/// One type gdb can ask for: its annex, the title and description the
/// `types` list gives it, and what lists it.
struct OsdataType {
    annex: &'static str,
    title: &'static str,
    description: &'static str,
    list: fn() -> String,
}

/// The types in gdbserver's order (its `osdata_table`, less `types` itself,
/// which the list does not name).
const TYPES: &[OsdataType] = &[
    OsdataType { annex: "cpus", title: "CPUs", description: "Listing of all cpus/cores on the system", list: cpus },
    OsdataType {
        annex: "files",
        title: "File descriptors",
        description: "Listing of all file descriptors",
        list: files,
    },
    OsdataType {
        annex: "modules",
        title: "Kernel modules",
        description: "Listing of all loaded kernel modules",
        list: modules,
    },
    OsdataType { annex: "msg", title: "Message queues", description: "Listing of all message queues", list: msg },
    OsdataType { annex: "processes", title: "Processes", description: "Listing of all processes", list: processes },
    OsdataType {
        annex: "procgroups",
        title: "Process groups",
        description: "Listing of all process groups",
        list: procgroups,
    },
    OsdataType { annex: "semaphores", title: "Semaphores", description: "Listing of all semaphores", list: semaphores },
    OsdataType {
        annex: "shm",
        title: "Shared-memory regions",
        description: "Listing of all shared-memory regions",
        list: shm,
    },
    OsdataType {
        annex: "sockets",
        title: "Sockets",
        description: "Listing of all internet-domain sockets",
        list: sockets,
    },
    OsdataType { annex: "threads", title: "Threads", description: "Listing of all threads", list: threads },
];

/// The `qXfer:osdata:read` document for `annex` (gdb's `info os ANNEX`), or `None` for a type there is none of.
pub fn document(annex: &str) -> Option<String> {
    // gdb asks with no annex for the list of types (plain `info os`).
    if annex.is_empty() || annex == "types" {
        return Some(types());
    }
    TYPES.iter().find(|kind| kind.annex == annex).map(|kind| (kind.list)())
}

/// A document being written as gdbserver writes it: the `<osdata>` line,
/// then the items with no line breaks between them, then the closing line.
struct Document(String);

impl Document {
    fn new(kind: &str) -> Self {
        Document(format!("<osdata type=\"{kind}\">\n"))
    }

    /// One `<item>` with its columns in the order given.
    fn item(&mut self, columns: &[(&str, &str)]) {
        self.start_item();
        for (name, value) in columns {
            self.column(name, value);
        }
        self.end_item();
    }

    fn start_item(&mut self) {
        self.0.push_str("<item>");
    }

    fn end_item(&mut self) {
        self.0.push_str("</item>");
    }

    fn column(&mut self, name: &str, value: &str) {
        self.0.push_str(&format!("<column name=\"{}\">{}</column>", xml_escape(name), xml_escape(value)));
    }

    fn finish(mut self) -> String {
        self.0.push_str("</osdata>\n");
        self.0
    }
}

/// The list of types: what plain `info os` shows.
fn types() -> String {
    let mut doc = Document::new("types");
    for kind in TYPES {
        doc.item(&[("Type", kind.annex), ("Description", kind.description), ("Title", kind.title)]);
    }
    doc.finish()
}

// ---- Processes, process groups, threads, files ----

/// The bytes of a command name gdbserver shows (`TASK_COMM_LEN` less the NUL).
const MAX_COMMAND_LEN: usize = 15;
/// Index of the process group among the fields after the command name in
/// `/proc/PID/stat` (field 5 of the whole line).
const STAT_PGRP: usize = 2;
/// Index of the CPU the task last ran on among the fields after the
/// command name (field 39 of the whole line).
const STAT_PROCESSOR: usize = 36;

fn processes() -> String {
    let mut doc = Document::new("processes");
    for pid in numbered_entries("/proc") {
        push_process(&mut doc, pid);
    }
    doc.finish()
}

/// The item of process `pid`; none when it ended while being read.
fn push_process(doc: &mut Document, pid: u32) -> Option<()> {
    let owner = fs::metadata(format!("/proc/{pid}")).ok()?.uid();
    let command_line = command_line_of(pid)?;
    doc.item(&[
        ("pid", &pid.to_string()),
        ("user", &user_name(owner)),
        ("command", &command_line),
        ("cores", &cores_of(pid)),
    ]);
    Some(())
}

/// The CPUs the threads of `pid` last ran on, ascending and comma
/// separated, each once.
fn cores_of(pid: u32) -> String {
    let cores: BTreeSet<i64> = numbered_entries(&format!("/proc/{pid}/task"))
        .into_iter()
        .filter_map(|tid| read_text(&format!("/proc/{pid}/task/{tid}/stat")))
        .filter_map(|stat| stat_number(&stat, STAT_PROCESSOR))
        .filter(|core| *core >= 0)
        .collect();
    cores.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn procgroups() -> String {
    let mut doc = Document::new("process groups");
    for (pid, pgid) in processes_by_group() {
        // The leader may have ended while its group lives on: gdbserver
        // then shows the group's number in its place.
        let leader_command = command_of(pgid).unwrap_or_else(|| pgid.to_string());
        let Some(command_line) = command_line_of(pid) else { continue };
        doc.item(&[
            ("pgid", &pgid.to_string()),
            ("leader command", &leader_command),
            ("pid", &pid.to_string()),
            ("command line", &command_line),
        ]);
    }
    doc.finish()
}

/// Each process with its group, sorted as gdbserver sorts them: by group,
/// the leader first, then by process.
fn processes_by_group() -> Vec<(u32, u32)> {
    let mut list: Vec<(u32, u32)> = numbered_entries("/proc")
        .into_iter()
        .filter_map(|pid| {
            let stat = read_text(&format!("/proc/{pid}/stat"))?;
            let pgid = u32::try_from(stat_number(&stat, STAT_PGRP)?).ok()?;
            (pgid > 0).then_some((pid, pgid))
        })
        .collect();
    list.sort_by_key(|&(pid, pgid)| (pgid, pid != pgid, pid));
    list
}

fn threads() -> String {
    let mut doc = Document::new("threads");
    for pid in numbered_entries("/proc") {
        let Some(command) = command_of(pid) else { continue };
        for tid in numbered_entries(&format!("/proc/{pid}/task")) {
            let Some(stat) = read_text(&format!("/proc/{pid}/task/{tid}/stat")) else { continue };
            // gdbserver shows -1 for a core it cannot read.
            let core = stat_number(&stat, STAT_PROCESSOR).unwrap_or(-1);
            doc.item(&[
                ("pid", &pid.to_string()),
                ("command", &command),
                ("tid", &tid.to_string()),
                ("core", &core.to_string()),
            ]);
        }
    }
    doc.finish()
}

fn files() -> String {
    let mut doc = Document::new("files");
    for pid in numbered_entries("/proc") {
        let Some(command) = command_of(pid) else { continue };
        // Other users' processes cannot be listed without privilege: they show none.
        for fd in numbered_entries(&format!("/proc/{pid}/fd")) {
            let Some(name) = descriptor_name(pid, fd) else { continue };
            doc.item(&[
                ("pid", &pid.to_string()),
                ("command", &command),
                ("file descriptor", &fd.to_string()),
                ("name", &name),
            ]);
        }
    }
    doc.finish()
}

/// What descriptor `fd` of `pid` refers to; `None` when it was closed
/// meanwhile. One that cannot be read (a process in another user namespace)
/// shows its number, as gdbserver shows it.
fn descriptor_name(pid: u32, fd: u32) -> Option<String> {
    match fs::read_link(format!("/proc/{pid}/fd/{fd}")) {
        Ok(target) => Some(target.to_string_lossy().into_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(_) => Some(fd.to_string()),
    }
}

/// The entries of `dir` named by a number (the processes in `/proc`, a
/// process's threads or descriptors), in directory order as gdbserver
/// walks them; none when `dir` is gone or not readable.
fn numbered_entries(dir: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok()).collect()
}

/// A `/proc` file as text (names in it need not be UTF-8).
fn read_text(path: &str) -> Option<String> {
    fs::read(path).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// The command name of process `pid` (what `/proc/PID/stat` shows between
/// parentheses); `None` when there is no such process.
fn command_of(pid: u32) -> Option<String> {
    let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The name itself may hold spaces and parentheses: it ends at the last ')'.
    let start = stat.iter().position(|byte| *byte == b'(')?;
    let end = stat.iter().rposition(|byte| *byte == b')')?;
    let name = stat.get(start + 1..end)?;
    // gdbserver keeps at most 15 bytes of it (the kernel's usual limit, which
    // its workqueue threads' names go past).
    Some(String::from_utf8_lossy(&name[..name.len().min(MAX_COMMAND_LEN)]).into_owned())
}

/// Field `index` of a `stat` text, counted from the first field after the
/// command name, as a number.
fn stat_number(stat: &str, index: usize) -> Option<i64> {
    let (_, after_command) = stat.rsplit_once(')')?;
    after_command.split_whitespace().nth(index)?.parse().ok()
}

/// The command line of process `pid` with its arguments separated by
/// spaces, as gdbserver shows it (each NUL, the last one too, becomes a
/// space); a process without one (a kernel thread, a zombie) shows its
/// command name in brackets. `None` when there is no such process.
fn command_line_of(pid: u32) -> Option<String> {
    let bytes = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if bytes.is_empty() {
        let command = command_of(pid).unwrap_or_else(|| pid.to_string());
        return Some(format!("[{command}]"));
    }
    let spaced: Vec<u8> = bytes.into_iter().map(|byte| if byte == 0 { b' ' } else { byte }).collect();
    Some(String::from_utf8_lossy(&spaced).into_owned())
}

// ---- Sockets ----

/// The address family of a socket table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Inet,
    Inet6,
}

/// The socket tables in gdbserver's order, with their family and whether
/// they hold TCP (stream) sockets.
const SOCKET_TABLES: [(&str, Family, bool); 4] = [
    ("/proc/net/tcp", Family::Inet, true),
    ("/proc/net/udp", Family::Inet, false),
    ("/proc/net/tcp6", Family::Inet6, true),
    ("/proc/net/udp6", Family::Inet6, false),
];

fn sockets() -> String {
    let mut doc = Document::new("I sockets");
    for (path, family, tcp) in SOCKET_TABLES {
        let Some(table) = read_text(path) else { continue };
        // The heading line does not parse and is left out.
        for columns in table.lines().filter_map(|line| socket_columns(line, family)) {
            let names = ["local address", "local port", "remote address", "remote port", "state", "user"];
            let mut item: Vec<(&str, &str)> = names.iter().copied().zip(columns.iter().map(String::as_str)).collect();
            item.push(("family", if family == Family::Inet { "INET" } else { "INET6" }));
            item.push(("protocol", if tcp { "STREAM" } else { "DGRAM" }));
            doc.item(&item);
        }
    }
    doc.finish()
}

/// The local address and port, remote address and port, state and user of
/// one line of a socket table (`sl local rem st tx:rx tr:when retrnsmt uid ...`).
/// A UDP socket's state is named as a TCP one, as gdbserver does (`CLOSE`
/// when unconnected).
fn socket_columns(line: &str, family: Family) -> Option<[String; 6]> {
    let mut fields = line.split_whitespace();
    fields.next()?.strip_suffix(':')?.parse::<u64>().ok()?;
    let (local_address, local_port) = socket_endpoint(fields.next()?, family)?;
    let (remote_address, remote_port) = socket_endpoint(fields.next()?, family)?;
    let state = u8::from_str_radix(fields.next()?, 16).ok()?;
    let uid: u32 = fields.nth(3)?.parse().ok()?;
    Some([local_address, local_port, remote_address, remote_port, socket_state(state).to_string(), user_name(uid)])
}

/// An address and port as the kernel writes them (`0100007F:0016`), as
/// text: the address numeric, as `getnameinfo` gives it, the port decimal.
fn socket_endpoint(field: &str, family: Family) -> Option<(String, String)> {
    let (address, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some((socket_address(address, family)?, port.to_string()))
}

/// The kernel writes an address as the words of its memory image in hex,
/// each in this machine's byte order.
fn socket_address(hex: &str, family: Family) -> Option<String> {
    let words = hex_words(hex)?;
    match (family, words.as_slice()) {
        (Family::Inet, [word]) => Some(Ipv4Addr::from(word.to_ne_bytes()).to_string()),
        (Family::Inet6, [a, b, c, d]) => {
            let mut bytes = [0u8; 16];
            for (chunk, word) in bytes.chunks_exact_mut(4).zip([a, b, c, d]) {
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            Some(ipv6_text(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// Eight-digit hex words, in order.
fn hex_words(hex: &str) -> Option<Vec<u32>> {
    if hex.is_empty() || !hex.len().is_multiple_of(8) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len()).step_by(8).map(|at| u32::from_str_radix(&hex[at..at + 8], 16).ok()).collect()
}

/// An IPv6 address as glibc's `inet_ntop` writes it. Rust writes it the
/// same way except for the old IPv4-compatible form (`::a.b.c.d`), which
/// glibc still uses when exactly the first six words are zero.
fn ipv6_text(address: Ipv6Addr) -> String {
    let words = address.segments();
    if words[..6].iter().all(|word| *word == 0) && words[6] != 0 {
        let [.., a, b, c, d] = address.octets();
        return format!("::{}", Ipv4Addr::new(a, b, c, d));
    }
    address.to_string()
}

/// The name of a TCP state, as gdbserver prints it (from the kernel's
/// `include/net/tcp_states.h`).
fn socket_state(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "(unknown)",
    }
}

// ---- System V IPC ----

/// Whitespace-separated fields of one line, taken in order.
struct Fields<'a>(std::str::SplitWhitespace<'a>);

impl<'a> Fields<'a> {
    fn of(line: &'a str) -> Self {
        Fields(line.split_whitespace())
    }

    fn number<T: std::str::FromStr>(&mut self) -> Option<T> {
        self.0.next()?.parse().ok()
    }

    /// Permissions: the kernel writes them in octal, and gdbserver shows
    /// them so (`666`).
    fn octal(&mut self) -> Option<String> {
        let mode = u32::from_str_radix(self.0.next()?, 8).ok()?;
        Some(format!("{mode:o}"))
    }

    fn user(&mut self) -> Option<String> {
        Some(user_name(self.number()?))
    }

    fn group(&mut self) -> Option<String> {
        Some(group_name(self.number()?))
    }

    /// The command of a process id, or the id when that process is gone
    /// (0 for "none yet" shows as `0`), as gdbserver shows it.
    fn command(&mut self) -> Option<String> {
        let pid: i64 = self.number()?;
        let command = u32::try_from(pid).ok().and_then(command_of);
        Some(command.unwrap_or_else(|| pid.to_string()))
    }

    fn time(&mut self) -> Option<String> {
        Some(ctime_text(self.number()?))
    }
}

/// A document of one `/proc/sysvipc` table: `columns` turns each line into
/// the item's values, in the order of `names`; the heading line and lines
/// that do not parse are left out.
fn sysvipc_document(kind: &str, path: &str, names: &[&str], columns: fn(&mut Fields) -> Option<Vec<String>>) -> String {
    let mut doc = Document::new(kind);
    let table = read_text(path).unwrap_or_default();
    for values in table.lines().filter_map(|line| columns(&mut Fields::of(line))) {
        let item: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().map(String::as_str)).collect();
        doc.item(&item);
    }
    doc.finish()
}

fn shm() -> String {
    const NAMES: [&str; 14] = [
        "key",
        "shmid",
        "permissions",
        "size",
        "creator command",
        "last op. command",
        "num attached",
        "user",
        "group",
        "creator user",
        "creator group",
        "last shmat() time",
        "last shmdt() time",
        "last shmctl() time",
    ];
    sysvipc_document("shared memory", "/proc/sysvipc/shm", &NAMES, shm_columns)
}

/// `key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime ...`
fn shm_columns(fields: &mut Fields) -> Option<Vec<String>> {
    let key: i32 = fields.number()?;
    let shmid: i32 = fields.number()?;
    let permissions = fields.octal()?;
    let size: u64 = fields.number()?;
    let creator_command = fields.command()?;
    let last_command = fields.command()?;
    let attached: u64 = fields.number()?;
    let (user, group, creator_user, creator_group) = (fields.user()?, fields.group()?, fields.user()?, fields.group()?);
    let (attach_time, detach_time, change_time) = (fields.time()?, fields.time()?, fields.time()?);
    Some(vec![
        key.to_string(),
        shmid.to_string(),
        permissions,
        size.to_string(),
        creator_command,
        last_command,
        attached.to_string(),
        user,
        group,
        creator_user,
        creator_group,
        attach_time,
        detach_time,
        change_time,
    ])
}

fn semaphores() -> String {
    const NAMES: [&str; 10] = [
        "key",
        "semid",
        "permissions",
        "num semaphores",
        "user",
        "group",
        "creator user",
        "creator group",
        "last semop() time",
        "last semctl() time",
    ];
    sysvipc_document("semaphores", "/proc/sysvipc/sem", &NAMES, semaphore_columns)
}

/// `key semid perms nsems uid gid cuid cgid otime ctime`
fn semaphore_columns(fields: &mut Fields) -> Option<Vec<String>> {
    let key: i32 = fields.number()?;
    let semid: i32 = fields.number()?;
    let permissions = fields.octal()?;
    let count: u32 = fields.number()?;
    let (user, group, creator_user, creator_group) = (fields.user()?, fields.group()?, fields.user()?, fields.group()?);
    let (operation_time, change_time) = (fields.time()?, fields.time()?);
    Some(vec![
        key.to_string(),
        semid.to_string(),
        permissions,
        count.to_string(),
        user,
        group,
        creator_user,
        creator_group,
        operation_time,
        change_time,
    ])
}

fn msg() -> String {
    const NAMES: [&str; 14] = [
        "key",
        "msqid",
        "permissions",
        "num used bytes",
        "num messages",
        "last msgsnd() command",
        "last msgrcv() command",
        "user",
        "group",
        "creator user",
        "creator group",
        "last msgsnd() time",
        "last msgrcv() time",
        "last msgctl() time",
    ];
    sysvipc_document("message queues", "/proc/sysvipc/msg", &NAMES, message_queue_columns)
}

/// `key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime`
fn message_queue_columns(fields: &mut Fields) -> Option<Vec<String>> {
    let key: i32 = fields.number()?;
    let msqid: i32 = fields.number()?;
    let permissions = fields.octal()?;
    let bytes: u64 = fields.number()?;
    let messages: u64 = fields.number()?;
    let (send_command, receive_command) = (fields.command()?, fields.command()?);
    let (user, group, creator_user, creator_group) = (fields.user()?, fields.group()?, fields.user()?, fields.group()?);
    let (send_time, receive_time, change_time) = (fields.time()?, fields.time()?, fields.time()?);
    Some(vec![
        key.to_string(),
        msqid.to_string(),
        permissions,
        bytes.to_string(),
        messages.to_string(),
        send_command,
        receive_command,
        user,
        group,
        creator_user,
        creator_group,
        send_time,
        receive_time,
        change_time,
    ])
}

// ---- CPUs and kernel modules ----

/// One item a CPU, each `/proc/cpuinfo` line of it a column, split as
/// gdbserver splits them: the key and value are cut at `:` and at their
/// first tab, so a value keeps its leading space and line break (gdb trims
/// them when it reads the document).
fn cpus() -> String {
    let mut doc = Document::new("cpus");
    let info = read_text("/proc/cpuinfo").unwrap_or_default();
    let mut in_item = false;
    for (key, value) in info.split_inclusive('\n').filter_map(cpuinfo_pair) {
        // Each CPU's lines start at its `processor` line.
        if key == "processor" {
            if in_item {
                doc.end_item();
            }
            doc.start_item();
            in_item = true;
        }
        doc.column(key, value);
    }
    if in_item {
        doc.end_item();
    }
    doc.finish()
}

/// The key and value of a `/proc/cpuinfo` line; none for a line without a
/// value (the blank line between CPUs).
fn cpuinfo_pair(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = strtok(line, ':')?;
    let (value, _) = strtok(rest, ':')?;
    Some((before_tab(key), before_tab(value)))
}

fn before_tab(text: &str) -> &str {
    text.split('\t').next().unwrap_or(text)
}

/// C's `strtok` on one delimiter: the next token after any delimiters, and
/// what follows the delimiter that ends it.
fn strtok(text: &str, delimiter: char) -> Option<(&str, &str)> {
    let text = text.trim_start_matches(delimiter);
    if text.is_empty() {
        return None;
    }
    Some(text.split_once(delimiter).unwrap_or((text, "")))
}

fn modules() -> String {
    const NAMES: [&str; 6] = ["name", "size", "num uses", "dependencies", "status", "address"];
    let mut doc = Document::new("modules");
    let table = read_text("/proc/modules").unwrap_or_default();
    for values in table.split_inclusive('\n').filter_map(module_columns) {
        let item: Vec<(&str, &str)> = NAMES.iter().copied().zip(values.iter().map(String::as_str)).collect();
        doc.item(&item);
    }
    doc.finish()
}

/// One `/proc/modules` line (`name size uses deps status address [taints]`):
/// the address in hex without `0x`, as gdbserver shows it.
fn module_columns(line: &str) -> Option<[String; 6]> {
    let (name, rest) = strtok(line, ' ')?;
    let (size, rest) = strtok(rest, ' ')?;
    let (uses, rest) = strtok(rest, ' ')?;
    let (dependencies, rest) = strtok(rest, ' ')?;
    let (status, rest) = strtok(rest, ' ')?;
    let (address, _) = strtok(rest, '\n')?;
    let size: u32 = size.parse().ok()?;
    let uses: i32 = uses.parse().ok()?;
    let address = leading_hex(address)?;
    Some([
        name.to_string(),
        size.to_string(),
        uses.to_string(),
        dependencies.to_string(),
        status.to_string(),
        format!("{address:x}"),
    ])
}

/// The hex number at the start of `text` (`0x` optional), as `%llx` reads it.
fn leading_hex(text: &str) -> Option<u64> {
    let text = text.trim_start();
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    let end = digits.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(digits.len());
    u64::from_str_radix(&digits[..end], 16).ok()
}

// ---- Names and times ----

/// gdbserver keeps user and group names in `UT_NAMESIZE` (32) bytes.
const MAX_NAME_LEN: usize = 31;
/// Lookup buffers grow up to this on `ERANGE` (a group with many members).
const MAX_LOOKUP_BUFFER: usize = 1 << 20;

/// The login name of `uid`, or "" when it has none, as gdbserver shows it.
fn user_name(uid: u32) -> String {
    // SAFETY: getpwuid_r fills `entry` and `found` within the buffer given;
    // on success `found` points to `entry`, whose name lies in the buffer.
    name_lookup(
        |entry: *mut libc::passwd, buffer, len, found| unsafe { libc::getpwuid_r(uid, entry, buffer, len, found) },
        |entry| entry.pw_name,
    )
}

/// The name of group `gid`, or "" when it has none, as gdbserver shows it.
fn group_name(gid: u32) -> String {
    // SAFETY: as for `user_name`, with getgrgid_r.
    name_lookup(
        |entry: *mut libc::group, buffer, len, found| unsafe { libc::getgrgid_r(gid, entry, buffer, len, found) },
        |entry| entry.gr_name,
    )
}

/// A `get*id_r` lookup (user or group): the buffer grows on `ERANGE`; the
/// name is cut as gdbserver cuts it, "" when there is none.
fn name_lookup<T>(
    lookup: impl Fn(*mut T, *mut c_char, usize, *mut *mut T) -> libc::c_int,
    name_of: impl Fn(&T) -> *const c_char,
) -> String {
    let mut buffer: Vec<c_char> = vec![0; 1024];
    loop {
        let mut entry = MaybeUninit::<T>::uninit();
        let mut found: *mut T = std::ptr::null_mut();
        let status = lookup(entry.as_mut_ptr(), buffer.as_mut_ptr(), buffer.len(), &mut found);
        if status == libc::ERANGE && buffer.len() < MAX_LOOKUP_BUFFER {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if status != 0 || found.is_null() {
            return String::new();
        }
        // SAFETY: on success `found` points to `entry`, now filled in, whose
        // name is a NUL-terminated string in `buffer`, still alive.
        let name = unsafe { CStr::from_ptr(name_of(&*found)) };
        return short_name(name);
    }
}

/// A user or group name cut as gdbserver's fixed buffer cuts it.
fn short_name(name: &CStr) -> String {
    let bytes = name.to_bytes();
    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_NAME_LEN)]).into_owned()
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A time in seconds since the epoch as gdbserver shows it: `ctime`'s
/// local-time text, line break included ("Thu Jan  1 00:00:00 1970\n"),
/// or "" for 0, which the kernel writes for "never".
fn ctime_text(seconds: i64) -> String {
    if seconds == 0 {
        return String::new();
    }
    let Some(time) = libc::time_t::try_from(seconds).ok() else { return String::new() };
    let mut broken_down = MaybeUninit::<libc::tm>::uninit();
    // SAFETY: both pointers are to locals that outlive the call.
    let filled = unsafe { libc::localtime_r(&time, broken_down.as_mut_ptr()) };
    if filled.is_null() {
        return String::new();
    }
    // SAFETY: `localtime_r` succeeded, so it filled `broken_down` in.
    let tm = unsafe { broken_down.assume_init() };
    // The format of C's `asctime`.
    let weekday = usize::try_from(tm.tm_wday).ok().and_then(|day| WEEKDAYS.get(day)).unwrap_or(&"???");
    let month = usize::try_from(tm.tm_mon).ok().and_then(|month| MONTHS.get(month)).unwrap_or(&"???");
    format!(
        "{weekday} {month}{:3} {:02}:{:02}:{:02} {}\n",
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        i64::from(tm.tm_year) + 1900
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};
    use std::os::fd::AsRawFd;

    type Row = Vec<(String, String)>;

    /// The items of a document, each as its (column name, value) pairs.
    fn rows(doc: &str) -> Vec<Row> {
        doc.split("<item>")
            .skip(1)
            .map(|item| {
                let item = item.split("</item>").next().unwrap_or("");
                item.split("<column name=\"")
                    .skip(1)
                    .filter_map(|column| {
                        let (name, rest) = column.split_once("\">")?;
                        let value = rest.strip_suffix("</column>")?;
                        Some((name.to_string(), value.to_string()))
                    })
                    .collect()
            })
            .collect()
    }

    fn value<'a>(row: &'a Row, name: &str) -> &'a str {
        row.iter().find(|(column, _)| column == name).map(|(_, value)| value.as_str()).unwrap_or("")
    }

    /// The rows of `annex` where column `name` is `wanted`, after checking
    /// the document's frame and that every row has exactly `columns`, in order.
    fn rows_where(annex: &str, kind: &str, columns: &[&str], name: &str, wanted: &str) -> Vec<Row> {
        let doc = document(annex).expect("a known type");
        assert!(doc.starts_with(&format!("<osdata type=\"{kind}\">\n")), "{doc}");
        assert!(doc.ends_with("</osdata>\n"), "{doc}");
        let all = rows(&doc);
        for row in &all {
            let names: Vec<&str> = row.iter().map(|(column, _)| column.as_str()).collect();
            assert_eq!(names, columns);
        }
        all.into_iter().filter(|row| value(row, name) == wanted).collect()
    }

    /// The command name the kernel gives this test program: its file's
    /// name, cut to 15 bytes.
    fn own_command() -> String {
        let exe = std::env::current_exe().expect("the test's executable");
        let name = exe.file_name().expect("a file name").to_string_lossy().into_owned();
        name.chars().take(15).collect()
    }

    fn own_user() -> String {
        // SAFETY: getuid cannot fail.
        user_name(unsafe { libc::getuid() })
    }

    #[test]
    fn the_processes_document_lists_this_process_with_its_command_line() {
        let pid = std::process::id().to_string();
        let found = rows_where("processes", "processes", &["pid", "user", "command", "cores"], "pid", &pid);
        assert_eq!(found.len(), 1);
        let argv0 = std::env::args().next().expect("argv[0]");
        assert!(value(&found[0], "command").starts_with(&format!("{} ", xml_escape(&argv0))), "{found:?}");
        assert_eq!(value(&found[0], "user"), own_user());
        let cores = value(&found[0], "cores");
        assert!(!cores.is_empty() && cores.chars().all(|c| c.is_ascii_digit() || c == ','), "{cores}");
    }

    #[test]
    fn the_procgroups_document_lists_this_process_after_its_group_leader() {
        let pid = std::process::id();
        let columns = ["pgid", "leader command", "pid", "command line"];
        let found = rows_where("procgroups", "process groups", &columns, "pid", &pid.to_string());
        assert_eq!(found.len(), 1);
        // SAFETY: getpgid of this process cannot fail.
        let pgid = unsafe { libc::getpgid(0) };
        assert_eq!(value(&found[0], "pgid"), pgid.to_string());
        let group = rows_where("procgroups", "process groups", &columns, "pgid", &pgid.to_string());
        if group.iter().any(|row| value(row, "pid") == pgid.to_string()) {
            assert_eq!(value(&group[0], "pid"), pgid.to_string(), "the leader comes first");
        }
    }

    #[test]
    fn the_threads_document_lists_this_thread() {
        // SAFETY: gettid cannot fail.
        let tid = unsafe { libc::gettid() }.to_string();
        let found = rows_where("threads", "threads", &["pid", "command", "tid", "core"], "tid", &tid);
        assert_eq!(found.len(), 1);
        assert_eq!(value(&found[0], "pid"), std::process::id().to_string());
        assert_eq!(value(&found[0], "command"), own_command());
        assert!(value(&found[0], "core").parse::<u32>().is_ok(), "{found:?}");
    }

    #[test]
    fn the_files_document_lists_a_descriptor_on_dev_null() {
        let file = fs::File::open("/dev/null").expect("open /dev/null");
        let fd = file.as_raw_fd().to_string();
        let columns = ["pid", "command", "file descriptor", "name"];
        let found: Vec<Row> = rows_where("files", "files", &columns, "pid", &std::process::id().to_string())
            .into_iter()
            .filter(|row| value(row, "file descriptor") == fd)
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(value(&found[0], "name"), "/dev/null");
        assert_eq!(value(&found[0], "command"), own_command());
    }

    const SOCKET_COLUMNS: [&str; 8] =
        ["local address", "local port", "remote address", "remote port", "state", "user", "family", "protocol"];

    #[test]
    fn the_sockets_document_lists_a_listening_tcp_socket() {
        let listener = TcpListener::bind("0.0.0.0:0").expect("bind");
        let port = listener.local_addr().expect("address").port().to_string();
        let found = rows_where("sockets", "I sockets", &SOCKET_COLUMNS, "local port", &port);
        let values: Vec<Vec<&str>> =
            found.iter().map(|row| row.iter().map(|(_, value)| value.as_str()).collect()).collect();
        let user = own_user();
        let expected = vec!["0.0.0.0", &port, "0.0.0.0", "0", "LISTEN", &user, "INET", "STREAM"];
        assert!(values.contains(&expected), "{values:?}");
    }

    #[test]
    fn the_sockets_document_lists_a_udp_socket_on_the_loopback_address() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("address").port().to_string();
        let found = rows_where("sockets", "I sockets", &SOCKET_COLUMNS, "local port", &port);
        let udp: Vec<&Row> = found.iter().filter(|row| value(row, "protocol") == "DGRAM").collect();
        assert_eq!(udp.len(), 1, "{found:?}");
        assert_eq!(value(udp[0], "local address"), "127.0.0.1");
        assert_eq!(value(udp[0], "state"), "CLOSE");
        assert_eq!(value(udp[0], "family"), "INET");
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn socket_addresses_read_as_the_kernel_writes_them() {
        assert_eq!(socket_endpoint("0100007F:0016", Family::Inet), Some(("127.0.0.1".into(), "22".into())));
        let any6 = "00000000000000000000000000000000:0000";
        assert_eq!(socket_endpoint(any6, Family::Inet6), Some(("::".into(), "0".into())));
        let loopback6 = "00000000000000000000000001000000:1F90";
        assert_eq!(socket_endpoint(loopback6, Family::Inet6), Some(("::1".into(), "8080".into())));
        let mapped = "0000000000000000FFFF00000100007F";
        assert_eq!(socket_address(mapped, Family::Inet6).as_deref(), Some("::ffff:127.0.0.1"));
        assert_eq!(socket_address("0100007F", Family::Inet6), None);
        assert_eq!(socket_address("XYZ", Family::Inet), None);
    }

    #[test]
    fn ipv6_addresses_are_written_as_glibc_writes_them() {
        let text = |address: &str| ipv6_text(address.parse().expect("an address"));
        assert_eq!(text("::"), "::");
        assert_eq!(text("::1"), "::1");
        assert_eq!(text("::2"), "::2");
        assert_eq!(text("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(text("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(text("fe80::1:0:0:1"), "fe80::1:0:0:1");
        assert_eq!(text("1:0:2:0:3:0:4:0"), "1:0:2:0:3:0:4:0");
    }

    #[test]
    fn the_socket_table_heading_is_left_out() {
        let heading =
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
        assert_eq!(socket_columns(heading, Family::Inet), None);
    }

    /// A System V object this test made, removed however the test ends.
    struct Removed(Box<dyn Fn()>);

    impl Drop for Removed {
        fn drop(&mut self) {
            (self.0)();
        }
    }

    #[test]
    fn the_shm_document_lists_a_segment_this_test_made() {
        // SAFETY: a new private segment, removed below.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, 4096, libc::IPC_CREAT | 0o666) };
        assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
        // SAFETY: removing the segment made above.
        let _removed = Removed(Box::new(move || unsafe {
            libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut());
        }));
        let columns = [
            "key",
            "shmid",
            "permissions",
            "size",
            "creator command",
            "last op. command",
            "num attached",
            "user",
            "group",
            "creator user",
            "creator group",
            "last shmat() time",
            "last shmdt() time",
            "last shmctl() time",
        ];
        let found = rows_where("shm", "shared memory", &columns, "shmid", &id.to_string());
        assert_eq!(found.len(), 1);
        let row = &found[0];
        assert_eq!(value(row, "key"), "0");
        assert_eq!(value(row, "permissions"), "666");
        assert_eq!(value(row, "size"), "4096");
        assert_eq!(value(row, "creator command"), own_command());
        assert_eq!(value(row, "num attached"), "0");
        assert_eq!(value(row, "creator user"), own_user());
        assert_eq!(value(row, "last shmat() time"), "", "never attached");
        assert!(value(row, "last shmctl() time").ends_with('\n'), "{row:?}");
    }

    #[test]
    fn the_semaphores_document_lists_a_set_this_test_made() {
        // SAFETY: a new private semaphore set, removed below.
        let id = unsafe { libc::semget(libc::IPC_PRIVATE, 1, libc::IPC_CREAT | 0o666) };
        assert!(id >= 0, "semget: {}", std::io::Error::last_os_error());
        // SAFETY: removing the set made above.
        let _removed = Removed(Box::new(move || unsafe {
            libc::semctl(id, 0, libc::IPC_RMID);
        }));
        let columns = [
            "key",
            "semid",
            "permissions",
            "num semaphores",
            "user",
            "group",
            "creator user",
            "creator group",
            "last semop() time",
            "last semctl() time",
        ];
        let found = rows_where("semaphores", "semaphores", &columns, "semid", &id.to_string());
        assert_eq!(found.len(), 1);
        assert_eq!(value(&found[0], "key"), "0");
        assert_eq!(value(&found[0], "permissions"), "666");
        assert_eq!(value(&found[0], "num semaphores"), "1");
        assert_eq!(value(&found[0], "user"), own_user());
        assert_eq!(value(&found[0], "last semop() time"), "", "never operated on");
    }

    #[test]
    fn the_msg_document_lists_a_queue_this_test_made() {
        // SAFETY: a new private message queue, removed below.
        let id = unsafe { libc::msgget(libc::IPC_PRIVATE, libc::IPC_CREAT | 0o666) };
        assert!(id >= 0, "msgget: {}", std::io::Error::last_os_error());
        // SAFETY: removing the queue made above.
        let _removed = Removed(Box::new(move || unsafe {
            libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut());
        }));
        let columns = [
            "key",
            "msqid",
            "permissions",
            "num used bytes",
            "num messages",
            "last msgsnd() command",
            "last msgrcv() command",
            "user",
            "group",
            "creator user",
            "creator group",
            "last msgsnd() time",
            "last msgrcv() time",
            "last msgctl() time",
        ];
        let found = rows_where("msg", "message queues", &columns, "msqid", &id.to_string());
        assert_eq!(found.len(), 1);
        let row = &found[0];
        assert_eq!(value(row, "key"), "0");
        assert_eq!(value(row, "permissions"), "666");
        assert_eq!(value(row, "num used bytes"), "0");
        assert_eq!(value(row, "num messages"), "0");
        assert_eq!(value(row, "last msgsnd() command"), "0", "no sender yet: gdbserver shows the pid, 0");
        assert_eq!(value(row, "last msgsnd() time"), "");
    }

    #[test]
    fn the_cpus_document_has_an_item_a_processor() {
        let doc = document("cpus").expect("cpus");
        assert!(doc.starts_with("<osdata type=\"cpus\">\n") && doc.ends_with("</osdata>\n"), "{doc}");
        let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let processors = info.lines().filter(|line| line.split('\t').next() == Some("processor")).count();
        let all = rows(&doc);
        assert_eq!(all.len(), processors);
        for (index, row) in all.iter().enumerate() {
            assert_eq!(row[0].0, "processor");
            assert_eq!(row[0].1.trim(), index.to_string());
        }
    }

    #[test]
    fn cpuinfo_lines_split_as_gdbserver_splits_them() {
        assert_eq!(cpuinfo_pair("processor\t: 0\n"), Some(("processor", " 0\n")));
        assert_eq!(cpuinfo_pair("cpu MHz\t\t: 2600.000\n"), Some(("cpu MHz", " 2600.000\n")));
        assert_eq!(cpuinfo_pair("power management:\n"), Some(("power management", "\n")));
        assert_eq!(cpuinfo_pair("\n"), None);
    }

    #[test]
    fn module_lines_read_as_gdbserver_reads_them() {
        let line = "nf_tables 270336 3 nft_chain_nat,nf_nat, Live 0xffffffffc0a00000 (OE)\n";
        let expected = ["nf_tables", "270336", "3", "nft_chain_nat,nf_nat,", "Live", "ffffffffc0a00000"];
        assert_eq!(module_columns(line), Some(expected.map(String::from)));
        let hidden = "ext4 1036288 1 - Live 0x0000000000000000\n";
        assert_eq!(module_columns(hidden).map(|columns| columns[5].clone()), Some("0".to_string()));
        assert_eq!(module_columns("broken line\n"), None);
    }

    #[test]
    fn the_modules_document_has_an_item_a_module() {
        let doc = document("modules").expect("modules");
        assert!(doc.starts_with("<osdata type=\"modules\">\n") && doc.ends_with("</osdata>\n"), "{doc}");
        let lines = fs::read_to_string("/proc/modules").map(|text| text.lines().count()).unwrap_or(0);
        assert_eq!(rows(&doc).len(), lines);
    }

    #[test]
    fn the_types_document_names_every_type_and_is_the_empty_annex() {
        let doc = document("").expect("types");
        assert_eq!(document("types").as_deref(), Some(doc.as_str()));
        assert!(doc.starts_with("<osdata type=\"types\">\n") && doc.ends_with("</osdata>\n"), "{doc}");
        let all = rows(&doc);
        let names: Vec<&str> = all.iter().map(|row| value(row, "Type")).collect();
        let expected =
            ["cpus", "files", "modules", "msg", "processes", "procgroups", "semaphores", "shm", "sockets", "threads"];
        assert_eq!(names, expected);
        for row in &all {
            let columns: Vec<&str> = row.iter().map(|(column, _)| column.as_str()).collect();
            assert_eq!(columns, ["Type", "Description", "Title"]);
            assert!(document(value(row, "Type")).is_some());
        }
        assert!(doc.contains(
            "<item><column name=\"Type\">processes</column><column name=\"Description\">Listing of all \
             processes</column><column name=\"Title\">Processes</column></item>"
        ));
    }

    #[test]
    fn an_unknown_type_has_no_document() {
        assert_eq!(document("unknown_entry"), None);
        assert_eq!(document("Processes"), None);
    }

    #[test]
    fn names_are_looked_up_and_unknown_ones_are_empty() {
        let root = c"root";
        if fs::read_to_string("/etc/passwd").unwrap_or_default().starts_with("root:") {
            assert_eq!(user_name(0), short_name(root));
        }
        assert_eq!(user_name(u32::MAX - 7), "");
        assert_eq!(group_name(u32::MAX - 7), "");
        let long = c"a-very-long-user-name-of-40-characters-x";
        assert_eq!(short_name(long).len(), 31);
    }

    #[test]
    #[cfg(target_env = "gnu")]
    fn times_are_written_as_ctime_writes_them() {
        assert_eq!(ctime_text(0), "");
        for seconds in [1i64, 86_399, 951_782_400, 1_700_000_000, 2_000_000_000] {
            let mut buffer = [0 as c_char; 64];
            let time = seconds as libc::time_t;
            // SAFETY: `buffer` is over the 26 bytes ctime_r needs; both pointers are to locals.
            let written = unsafe { libc::ctime_r(&time, buffer.as_mut_ptr()) };
            assert!(!written.is_null());
            // SAFETY: ctime_r wrote a NUL-terminated string into `buffer`.
            let expected = unsafe { CStr::from_ptr(buffer.as_ptr()) }.to_string_lossy().into_owned();
            assert_eq!(ctime_text(seconds), expected);
        }
    }
}
