//! The protocol's requests as typed calls: the handshake (`qSupported`,
//! no-ack mode, the target description), thread selection, registers,
//! memory, `Z`/`z` points, `vCont`, `qXfer` objects, host file reads
//! (`vFile`), monitor commands (`qRcmd`), `D` and `k`. No engine state
//! lives here; [`super::target`] keeps that.

use super::connection::{Connection, Traffic, Wait};
use super::error::RemoteError;
use super::features::{Features, OFFERED};
use super::packet::{from_hex, parse_hex_u64, to_hex, unescape};
use super::registers::{decode_packet, RegisterLayout};
use super::stop_reply::{format_ptid, Ptid, StopReply};
use super::transport::Address;
use std::time::Duration;

/// The kinds of `Z` points, by their number on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointKind {
    Software = 0,
    Hardware = 1,
    WriteWatch = 2,
    ReadWatch = 3,
    AccessWatch = 4,
}

/// What the stub said to a `Z`/`z` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointOutcome {
    Done,
    /// The stub has no such kind of point (an empty reply).
    Unsupported,
}

/// The largest memory read or write per packet, whatever the stub offers.
const MAX_MEMORY_CHUNK: usize = 64 * 1024;
const PAGE: u64 = 4096;

/// A connected stub and what it said about itself.
pub struct Client {
    conn: Connection,
    pub features: Features,
    pub layout: RegisterLayout,
    /// The actions `vCont?` listed (`c`, `C`, `s`, `S`, `t`, `r`).
    pub vcont_actions: Vec<String>,
    /// The thread `Hg` last selected (pid, tid).
    general_thread: Option<(i32, i32)>,
    /// Whether `P` works (QEMU has it; gdbserver only takes `G`).
    single_register_writes: bool,
    /// Whether `p` works (QEMU has it; gdbserver only answers `g`).
    pub single_register_reads: bool,
    /// The target description could not be read yet (no process on the stub).
    pub layout_pending: bool,
}

impl Client {
    /// Connects and negotiates: `qSupported`, no-ack mode when offered, the
    /// register layout, `vCont?`. Thread events (`QThreadEvents`) are not
    /// asked for: gdbserver 13 in all-stop mode ends on a thread's exit
    /// event; new threads show up in stop replies, and exits in the thread
    /// list read at each stop.
    pub fn connect(address: &Address, timeout: Duration) -> Result<Client, RemoteError> {
        let conn = Connection::open(address, timeout)?;
        let mut client = Client {
            conn,
            features: Features::default(),
            layout: RegisterLayout::amd64_default(),
            vcont_actions: Vec::new(),
            general_thread: None,
            single_register_writes: true,
            single_register_reads: true,
            layout_pending: false,
        };
        let reply = client.conn.request(OFFERED.as_bytes())?;
        client.features = Features::parse(&reply);
        if client.features.no_ack_mode && client.conn.request(b"QStartNoAckMode")? == b"OK" {
            client.conn.set_no_ack();
        }
        match client.load_layout() {
            Ok(()) => {}
            // An extended stub with no process yet (gdbserver --multi) describes
            // no registers: read them once there is one.
            Err(RemoteError::Refused { .. }) => client.layout_pending = true,
            Err(e) => return Err(e),
        }
        if client.features.vcont {
            let reply = client.conn.request(b"vCont?")?;
            if let Some(list) = reply.strip_prefix(b"vCont") {
                client.vcont_actions =
                    String::from_utf8_lossy(list).split(';').filter(|s| !s.is_empty()).map(str::to_string).collect();
            }
        }
        Ok(client)
    }

    pub fn address(&self) -> &str {
        self.conn.address()
    }

    pub fn traffic(&self) -> Traffic {
        self.conn.traffic()
    }

    pub fn is_lost(&self) -> bool {
        self.conn.is_lost()
    }

    pub fn lost_error(&self) -> RemoteError {
        self.conn.lost_error()
    }

    fn protocol_error(&self, request: &str, reason: impl Into<String>) -> RemoteError {
        RemoteError::Protocol { address: self.conn.address().into(), request: request.into(), reason: reason.into() }
    }

    /// `Enn` as an error, an empty reply as "unsupported".
    fn check_reply(&self, request: &str, reply: &[u8]) -> Result<(), RemoteError> {
        if reply.is_empty() {
            return Err(unsupported(&self.conn, request));
        }
        if reply.first() == Some(&b'E') && reply.len() >= 2 && reply[1..].iter().all(|b| b.is_ascii_hexdigit()) {
            return Err(RemoteError::Refused {
                address: self.conn.address().into(),
                request: request.into(),
                code: String::from_utf8_lossy(&reply[1..]).into_owned(),
            });
        }
        Ok(())
    }

    /// Sends a request that must be answered `OK`.
    fn expect_ok(&mut self, request: &str) -> Result<(), RemoteError> {
        let reply = self.conn.request(request.as_bytes())?;
        self.check_reply(request, &reply)?;
        if reply != b"OK" {
            return Err(self.protocol_error(request, format!("expected OK, got {:?}", String::from_utf8_lossy(&reply))));
        }
        Ok(())
    }

    /// Reads the register layout from the target description (or keeps
    /// gdb's default one when the stub offers none), and checks it is x86_64's.
    pub fn load_layout(&mut self) -> Result<(), RemoteError> {
        // gdbserver describes the registers of the selected thread's process:
        // select any thread first, as gdb does.
        let any = if self.features.multiprocess { "Hgp0.0" } else { "Hg0" };
        let _ = self.conn.request(any.as_bytes())?;
        self.general_thread = None;
        if self.features.target_xml {
            let (conn, size) = (&mut self.conn, self.features.packet_size);
            let layout = RegisterLayout::from_description(&mut |annex| {
                let data = client_xfer(conn, size, "features", annex)?;
                let data = data.ok_or_else(|| unsupported(conn, &format!("qXfer:features:read:{annex}")))?;
                Ok(String::from_utf8_lossy(&data).into_owned())
            })?;
            self.layout = layout;
        }
        self.layout.check().map_err(|reason| self.protocol_error("qXfer:features:read:target.xml", reason))?;
        self.layout_pending = false;
        if std::env::var_os("DBGKIT_RSP_LOG").is_some() {
            let names: Vec<String> =
                self.layout.registers().iter().map(|r| format!("{}:{}/{}", r.regnum, r.name, r.bits)).collect();
            eprintln!("[rsp] registers: {}", names.join(" "));
        }
        Ok(())
    }

    /// Sends any request and returns the answer as it came.
    pub fn raw_request(&mut self, request: &str) -> Result<Vec<u8>, RemoteError> {
        self.conn.request(request.as_bytes())
    }

    /// The stop reply for the state the stub is in now (`?`).
    pub fn initial_stop(&mut self) -> Result<StopReply, RemoteError> {
        let reply = self.conn.request(b"?")?;
        StopReply::parse(&reply).map_err(|why| self.protocol_error("?", why))
    }

    /// Reads a whole `qXfer` object; `None` when the stub does not have it.
    pub fn xfer(&mut self, object: &str, annex: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        client_xfer(&mut self.conn, self.features.packet_size, object, annex)
    }

    /// Makes `tid` the thread of later register (and, on QEMU, memory) requests.
    pub fn select_thread(&mut self, pid: i32, tid: i32) -> Result<(), RemoteError> {
        if self.general_thread == Some((pid, tid)) {
            return Ok(());
        }
        let request = format!("Hg{}", format_ptid(self.features.multiprocess, pid, tid));
        self.expect_ok(&request)?;
        self.general_thread = Some((pid, tid));
        Ok(())
    }

    /// Forgets the selected thread (after a resume the stub picks its own).
    pub fn forget_selection(&mut self) {
        self.general_thread = None;
    }

    /// Hangs up: the target is gone, nothing more will be asked.
    pub fn close(&mut self, why: &str) {
        self.conn.close(why);
    }

    /// Every register of a thread, as `g` bytes in layout order.
    pub fn read_registers(&mut self, pid: i32, tid: i32) -> Result<Vec<u8>, RemoteError> {
        self.select_thread(pid, tid)?;
        let reply = self.conn.request(b"g")?;
        self.check_reply("g", &reply)?;
        decode_packet(&reply).ok_or_else(|| self.protocol_error("g", "registers that are not hex"))
    }

    /// One register (`p`), little-endian bytes.
    pub fn read_register(&mut self, pid: i32, tid: i32, regnum: usize) -> Result<Vec<u8>, RemoteError> {
        self.select_thread(pid, tid)?;
        let request = format!("p{regnum:x}");
        let reply = self.conn.request(request.as_bytes())?;
        self.check_reply(&request, &reply)?;
        decode_packet(&reply).ok_or_else(|| self.protocol_error(&request, "a register that is not hex"))
    }

    /// Writes the named registers from `packet` (the thread's `g` bytes,
    /// changed): one `P` each, or the whole packet with `G`.
    pub fn write_registers(&mut self, pid: i32, tid: i32, packet: &[u8], changed: &[&str]) -> Result<(), RemoteError> {
        self.select_thread(pid, tid)?;
        if self.single_register_writes && changed.len() <= 4 {
            let mut done = true;
            for name in changed {
                let Some(r) = self.layout.find(name).cloned() else { continue };
                let request = format!("P{:x}={}", r.regnum, to_hex(&packet[r.offset..r.offset + r.bytes()]));
                let reply = self.conn.request(request.as_bytes())?;
                if reply.is_empty() {
                    self.single_register_writes = false;
                    done = false;
                    break;
                }
                self.check_reply(&request, &reply)?;
            }
            if done {
                return Ok(());
            }
        }
        let request = format!("G{}", to_hex(packet));
        let reply = self.conn.request(request.as_bytes())?;
        self.check_reply("G", &reply)
    }

    /// Reads what is readable from `address` on (page by page past a failure); returns the count.
    pub fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<usize, RemoteError> {
        let chunk = (self.features.packet_size.saturating_sub(32) / 2).clamp(16, MAX_MEMORY_CHUNK);
        let mut done = 0;
        while done < buf.len() {
            let at = address.wrapping_add(done as u64);
            let want = chunk.min(buf.len() - done);
            match self.read_chunk(at, &mut buf[done..done + want])? {
                n if n == want => done += n,
                0 if want as u64 > PAGE - at % PAGE => {
                    // The chunk failed as a whole: try up to its first page end, then page by page.
                    let first = (PAGE - at % PAGE) as usize;
                    let n = self.read_chunk(at, &mut buf[done..done + first])?;
                    done += n;
                    if n < first {
                        break;
                    }
                    // The next pages start on page boundaries; the loop reads them (smaller chunks fail page-wise).
                    while done < buf.len() {
                        let at = address.wrapping_add(done as u64);
                        let want = (PAGE as usize).min(buf.len() - done);
                        let n = self.read_chunk(at, &mut buf[done..done + want])?;
                        done += n;
                        if n < want {
                            return Ok(done);
                        }
                    }
                }
                n => {
                    done += n;
                    break;
                }
            }
        }
        Ok(done)
    }

    /// One `m` request: the bytes read (fewer on a partial read, 0 on an error).
    fn read_chunk(&mut self, address: u64, buf: &mut [u8]) -> Result<usize, RemoteError> {
        let request = format!("m{address:x},{:x}", buf.len());
        let reply = self.conn.request(request.as_bytes())?;
        if reply.first() == Some(&b'E') || reply.is_empty() {
            return Ok(0);
        }
        let bytes = from_hex(&reply).ok_or_else(|| self.protocol_error(&request, "memory that is not hex"))?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    /// Writes memory (`M`, hex), in packets the stub takes.
    pub fn write_memory(&mut self, address: u64, data: &[u8]) -> Result<(), RemoteError> {
        let chunk = (self.features.packet_size.saturating_sub(40) / 2).clamp(16, MAX_MEMORY_CHUNK);
        for (i, piece) in data.chunks(chunk).enumerate() {
            let at = address.wrapping_add((i * chunk) as u64);
            let request = format!("M{at:x},{:x}:{}", piece.len(), to_hex(piece));
            let reply = self.conn.request(request.as_bytes())?;
            self.check_reply(&format!("M{at:x},{:x}", piece.len()), &reply)?;
        }
        Ok(())
    }

    /// Plants (`Z`) or removes (`z`) a breakpoint or watchpoint.
    pub fn point(
        &mut self,
        insert: bool,
        kind: PointKind,
        address: u64,
        len: u64,
    ) -> Result<PointOutcome, RemoteError> {
        let request = format!("{}{},{address:x},{len:x}", if insert { 'Z' } else { 'z' }, kind as u8);
        let reply = self.conn.request(request.as_bytes())?;
        if reply.is_empty() {
            return Ok(PointOutcome::Unsupported);
        }
        self.check_reply(&request, &reply)?;
        Ok(PointOutcome::Done)
    }

    /// Sends a resume (`vCont;...`, or `c`/`s` to a stub without `vCont`);
    /// its answer is the next stop reply.
    pub fn resume(&mut self, request: &str) -> Result<(), RemoteError> {
        self.general_thread = None;
        self.conn.send(request.as_bytes())
    }

    /// The next stop reply; `None` when the wait ended first.
    pub fn wait_stop(&mut self, wait: Wait) -> Result<Option<StopReply>, RemoteError> {
        let Some(reply) = self.conn.receive(wait)? else { return Ok(None) };
        let stop = StopReply::parse(&reply).map_err(|why| self.protocol_error("a resume", why))?;
        // A stop makes its thread the stub's selected one (gdbserver, QEMU
        // and gdbstub all do; gdb's own client counts on it): no `Hg` is
        // needed to read its registers, the hot path of every hit.
        if let StopReply::Signal { thread: Some(Ptid { pid: Some(pid), tid }), .. } = &stop {
            self.general_thread = Some((*pid as i32, *tid as i32));
        }
        Ok(Some(stop))
    }

    /// Asks the running target to stop (`\x03`).
    pub fn interrupt(&mut self) -> Result<(), RemoteError> {
        self.conn.send_interrupt()
    }

    /// The console output (`O` packets) received since it was last taken.
    pub fn take_console(&mut self) -> Vec<u8> {
        self.conn.take_console()
    }

    /// Runs a monitor command (`qRcmd`); returns its output.
    pub fn monitor(&mut self, command: &str) -> Result<String, RemoteError> {
        let request = format!("qRcmd,{}", to_hex(command.as_bytes()));
        // Output that came before (a Windows program's debug strings) is not the command's.
        let earlier = self.conn.take_console();
        let reply = self.conn.request(request.as_bytes());
        let mut output = self.conn.take_console();
        self.conn.restore_console(earlier);
        let reply = reply?;
        if reply != b"OK" {
            self.check_reply(&format!("monitor {command}"), &reply)?;
            // Some stubs answer with the output itself, in hex.
            output.extend(from_hex(&reply).unwrap_or_default());
        }
        Ok(String::from_utf8_lossy(&output).into_owned())
    }

    /// Reads a whole file on the stub's machine (`vFile`), as process `pid`
    /// sees it when given; `None` when the stub has no file access.
    pub fn read_host_file(&mut self, pid: Option<i32>, path: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        if let Some(pid) = pid {
            let reply = self.conn.request(format!("vFile:setfs:{pid:x}").as_bytes())?;
            if reply.is_empty() {
                return Ok(None);
            }
        }
        let reply = self.conn.request(format!("vFile:open:{},0,0", to_hex(path.as_bytes())).as_bytes())?;
        if reply.is_empty() {
            return Ok(None);
        }
        let Some(fd) = file_result(&reply) else { return Ok(None) };
        let mut data = Vec::new();
        let chunk = (self.features.packet_size.saturating_sub(32) / 2).max(256);
        loop {
            let reply = self.conn.request(format!("vFile:pread:{fd:x},{chunk:x},{:x}", data.len()).as_bytes())?;
            let split = reply.iter().position(|&b| b == b';');
            let Some(count) = file_result(&reply[..split.unwrap_or(reply.len())]) else { break };
            if count == 0 {
                break;
            }
            let body = split.map(|s| unescape(&reply[s + 1..])).unwrap_or_default();
            data.extend_from_slice(&body);
            if data.len() > 64 << 20 {
                break;
            }
        }
        let _ = self.conn.request(format!("vFile:close:{fd:x}").as_bytes())?;
        Ok(Some(data))
    }

    /// Detaches (`D`): the target runs on, undebugged.
    pub fn detach(&mut self, pid: i32) -> Result<(), RemoteError> {
        let request = if self.features.multiprocess { format!("D;{pid:x}") } else { "D".into() };
        let reply = self.conn.request(request.as_bytes());
        self.conn.close("detached");
        match reply {
            Ok(r) if r == b"OK" || r.is_empty() => Ok(()),
            Ok(r) => self.check_reply(&request, &r),
            // A stub that closes the connection right after `D` has detached.
            Err(RemoteError::ConnectionLost { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Kills the target (`vKill`, or `k`, which has no answer).
    pub fn kill(&mut self, pid: i32) -> Result<(), RemoteError> {
        if self.features.multiprocess {
            match self.conn.request(format!("vKill;{pid:x}").as_bytes()) {
                Ok(r) if r == b"OK" => {
                    self.conn.close("the target was killed");
                    return Ok(());
                }
                Ok(_) => {}
                Err(RemoteError::ConnectionLost { .. }) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        let sent = self.conn.send(b"k");
        self.conn.close("the target was killed");
        match sent {
            Ok(()) | Err(RemoteError::ConnectionLost { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn unsupported(conn: &Connection, request: &str) -> RemoteError {
    RemoteError::Unsupported { address: conn.address().into(), request: request.into() }
}

/// `Fnn` (hex result) of a host I/O reply; `None` for `F-1,errno`.
fn file_result(reply: &[u8]) -> Option<u64> {
    let rest = reply.strip_prefix(b"F")?;
    let number = rest.split(|&b| b == b',').next()?;
    if number.starts_with(b"-") {
        return None;
    }
    parse_hex_u64(number)
}

/// Reads a `qXfer` object in pieces (`m` more, `l` last).
fn client_xfer(
    conn: &mut Connection,
    packet_size: usize,
    object: &str,
    annex: &str,
) -> Result<Option<Vec<u8>>, RemoteError> {
    let length = packet_size.saturating_sub(8).max(64);
    let mut data = Vec::new();
    loop {
        let request = format!("qXfer:{object}:read:{annex}:{:x},{length:x}", data.len());
        let reply = conn.request(request.as_bytes())?;
        match reply.split_first() {
            None => return Ok(None),
            Some((b'm', rest)) if !rest.is_empty() => data.extend(unescape(rest)),
            Some((b'l' | b'm', rest)) => {
                data.extend(unescape(rest));
                return Ok(Some(data));
            }
            Some((b'E', _)) => {
                return Err(RemoteError::Refused {
                    address: conn.address().into(),
                    request: format!("qXfer:{object}:read:{annex}"),
                    code: String::from_utf8_lossy(&reply[1..]).into_owned(),
                })
            }
            Some(_) => {
                return Err(RemoteError::Protocol {
                    address: conn.address().into(),
                    request: request.clone(),
                    reason: "an answer that is neither `m`, `l` nor an error".into(),
                })
            }
        }
        if data.len() > 64 << 20 {
            return Err(RemoteError::Protocol {
                address: conn.address().into(),
                request,
                reason: "an object larger than 64 MiB".into(),
            });
        }
    }
}
