//! Bad input on the wire (noise, bad checksums, packets cut short, too long,
//! malformed or unknown) gets an answer and leaves the server working; a
//! client that vanishes leaves the target killed (launched) or detached and
//! clean (attached). Raw packets, no gdb.

mod common;

use common::*;
use std::io::Write;
use std::time::Duration;

/// Every register the description lists, in bytes (general, x87, SSE,
/// orig_rax, fs/gs base, AVX upper halves).
const REGISTER_BYTES: usize = 16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 8 * 3 + 16 * 16;

#[test]
fn bad_packets_get_answers_and_the_server_goes_on() {
    let counter = fixture("counter");
    let server = Server::start(&["--debug", "127.0.0.1:0", counter.to_str().unwrap(), "3"]);
    let mut c = server.connect();
    c.send_raw(b"hello");
    c.send_raw(b"$g#00");
    assert_eq!(c.read_ack(), b'-', "a bad checksum asks for the packet again");
    // A packet cut short by the next one: only the second is answered.
    c.send_raw(b"$m1000,$?#3f");
    assert!(c.read_packet().starts_with(b"T05thread:"));
    assert_eq!(c.ask("qDbgkitNoSuchPacket"), "", "unknown packets get the empty reply");
    assert!(c.ask("mzz,10").starts_with('E'), "a malformed packet gets an error");
    assert!(c.ask("Z0,nothex,1").starts_with('E'));
    // Conditions and commands that do not parse are dropped, as gdbserver
    // drops them; the breakpoint itself goes in.
    let entry = {
        let registers = c.ask("g");
        u64::from_str_radix(&registers[16 * 16..16 * 16 + 16], 16).unwrap().swap_bytes()
    };
    for options in ["X2,a\u{e9}b", "X9,22", "Xzz,1", "cmds:", "cmds:1,X", "Q;;X1,27;cmds:0,X1,27", ";"] {
        assert_eq!(c.ask(&format!("Z0,{entry:x},1;{options}")), "OK", "{options}");
        assert_eq!(c.ask(&format!("z0,{entry:x},1")), "OK", "{options}");
    }
    let too_long = format!("X1000,{}:{}", 20000, "a".repeat(20000));
    assert_eq!(c.ask(&too_long), "E01", "a packet over PacketSize is refused");
    // Everything still works.
    let registers = c.ask("g");
    assert_eq!(registers.len(), 2 * REGISTER_BYTES, "{registers}");
    let rip = u64::from_str_radix(&registers[16 * 16..16 * 16 + 16], 16).unwrap().swap_bytes();
    let code = c.ask(&format!("m{rip:x},4"));
    assert_eq!(code.len(), 8, "{code}");
    assert!(c.ask("?").starts_with("T05thread:"));
    let log = server.output().join("\n");
    assert!(log.contains("bad checksum"), "--debug names the bad checksum:\n{log}");
    assert!(log.contains("mzz,10"), "--debug names the packet that failed:\n{log}");
}

#[test]
fn random_packets_never_stop_the_server() {
    let counter = fixture("counter");
    let mut server = Server::start(&["--once", "--debug", "127.0.0.1:0", counter.to_str().unwrap(), "3"]);
    let pid = server.pid.unwrap();
    let mut c = server.connect();
    assert_eq!(c.ask("QStartNoAckMode"), "OK");
    let mut last = Vec::new();
    // Queries and breakpoints, never a resume, a kill or a write: the target must stay as it is.
    const PREFIXES: &[&str] = &[
        "m",
        "g",
        "p",
        "H",
        "Hg",
        "Hc",
        "T",
        "x",
        "?",
        "qC",
        "vCont?",
        "qfThreadInfo",
        "qsThreadInfo",
        "qXfer:features:read:",
        "qXfer:libraries-svr4:read:",
        "qXfer:threads:read:",
        "qXfer:auxv:read:",
        "qXfer:exec-file:read:",
        "Z0,",
        "z0,",
        "Z1,",
        "z1,",
        "Z2,",
        "z2,",
        "Z4,",
        "z4,",
        "qThreadExtraInfo,",
        "qAttached",
        "QPassSignals:",
        "qSupported:",
        "vFile:pread:",
        "vFile:close:",
        "vFile:fstat:",
        "qHostInfo",
        "qProcessInfo",
        "qShlibInfoAddr",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..500 {
        let mut body = PREFIXES[(next() % PREFIXES.len() as u64) as usize].as_bytes().to_vec();
        for _ in 0..next() % 24 {
            body.push(match next() % 6 {
                0 => b',',
                1 => b':',
                2 => b';',
                3 => (next() % 94 + 33) as u8,
                _ => b"0123456789abcdef"[(next() % 16) as usize],
            });
        }
        body.retain(|b| !matches!(b, b'$' | b'#' | b'}' | b'*'));
        if c.stream.write_all(&frame(&body)).is_err() || c.try_read_packet().is_none() {
            std::thread::sleep(Duration::from_millis(500));
            panic!(
                "the server left after {:?} (before: {:?}); it said:\n{}",
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&last),
                server.output().iter().rev().take(12).cloned().collect::<Vec<_>>().join("\n")
            );
        }
        last = body;
    }
    assert!(c.ask("?").starts_with("T05thread:"), "the server still answers");
    assert_eq!(c.ask("g").len(), 2 * REGISTER_BYTES);
    assert!(alive(pid), "the target is still there");
    drop(c);
    assert!(server.wait_exit(Duration::from_secs(20)).is_some(), "the server ends when its client leaves");
    assert!(!alive(pid), "the launched target is killed when the client goes away");
}

#[test]
fn break_in_stops_a_running_target_with_sigint() {
    let spin = fixture("spin");
    let mut server = Server::start(&["--once", "127.0.0.1:0", spin.to_str().unwrap()]);
    let pid = server.pid.unwrap();
    let mut c = server.connect();
    c.ask("qSupported:multiprocess+");
    c.send_raw(&frame(b"vCont;c"));
    std::thread::sleep(Duration::from_millis(200));
    c.send_raw(b"\x03");
    let stop = c.read_packet();
    assert!(stop.starts_with(b"T02thread:"), "{}", String::from_utf8_lossy(&stop));
    // A client gone in the middle of a packet: the launched target is killed.
    c.send_raw(b"$m12");
    drop(c);
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
    assert!(!alive(pid));
}

#[test]
fn a_ctrl_c_between_packets_stops_the_next_resume_with_sigint() {
    // gdb stepping for a software watchpoint is stopped most of the time:
    // its Ctrl-C comes between a stop reply and the next step. As under
    // gdbserver (which sends SIGINT to the stopped process), that step
    // stops with SIGINT, and gdb's `continue` ends.
    let spin = fixture("spin");
    let mut server = Server::start(&["--once", "127.0.0.1:0", spin.to_str().unwrap()]);
    let mut c = server.connect();
    c.ask("qSupported:multiprocess+");
    let first = c.ask("?");
    let thread = first.split(';').find_map(|f| f.strip_prefix("T05thread:")).expect("a thread").to_string();
    c.send_raw(b"\x03");
    let stop = c.ask(&format!("vCont;s:{thread};c"));
    assert!(stop.starts_with("T02thread:"), "{stop}");
    // The SIGINT is told once: the next step is a plain step.
    let step = c.ask(&format!("vCont;s:{thread};c"));
    assert!(step.starts_with("T05thread:"), "{step}");
    drop(c);
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
}

#[test]
fn an_attached_process_is_left_running_and_clean_when_the_client_vanishes() {
    let spin = Program::start("spin");
    let pid = spin.pid();
    let mut server = Server::start(&["--once", "--attach", "127.0.0.1:0", &pid.to_string()]);
    let mut c = server.connect();
    c.ask("qSupported:multiprocess+");
    let registers = c.ask("g");
    let rip = u64::from_str_radix(&registers[16 * 16..16 * 16 + 16], 16).unwrap().swap_bytes();
    let original = c.ask(&format!("m{rip:x},1"));
    assert_eq!(c.ask(&format!("Z0,{rip:x},1")), "OK");
    let stop = c.ask("vCont;c");
    assert!(stop.contains("swbreak"), "the loop comes back to the breakpoint: {stop}");
    let core = stop.split(';').find_map(|field| field.strip_prefix("core:"));
    assert!(core.is_some_and(|n| u32::from_str_radix(n, 16).is_ok()), "the processor is named: {stop}");
    assert_eq!(c.ask(&format!("m{rip:x},1")), original, "reads show the original byte");
    c.send_raw(b"$g");
    drop(c);
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
    assert_eq!(tracer_of(pid), Some(0), "detached");
    let mut byte = [0u8];
    let file = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut byte, rip).unwrap();
    assert_eq!(format!("{:02x}", byte[0]), original, "no breakpoint byte left in the target");
    assert!(alive(pid), "the attached process runs on");
}

#[test]
fn without_once_the_process_waits_stopped_for_the_next_client() {
    let spin = fixture("spin");
    let server = Server::start(&["127.0.0.1:0", spin.to_str().unwrap()]);
    let pid = server.pid.unwrap();
    let mut first = server.connect();
    first.ask("qSupported:multiprocess+");
    first.send_raw(&frame(b"vCont;c"));
    std::thread::sleep(Duration::from_millis(100));
    // Gone while the program runs: the server stops it and listens again.
    drop(first);
    let mut c = connect_again(&server);
    assert!(c.ask("?").starts_with("T"), "the process is stopped for the new client");
    assert!(alive(pid));
    let status = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let state = status.rsplit(')').next().and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    assert_eq!(state, "t", "stopped under the debugger: {status}");
    assert_eq!(c.ask(&format!("vKill;{pid:x}")), "OK");
}

#[test]
fn a_client_that_connects_again_hears_the_signal_the_process_is_held_at() {
    // As gdbserver: `?` names the signal and the thread that got it, so gdb
    // passes the signal on when it resumes.
    let program = fixture("siginfo_call");
    let server = Server::start(&["127.0.0.1:0", program.to_str().unwrap()]);
    let pid = server.pid.unwrap();
    let mut first = server.connect();
    first.ask("qSupported:multiprocess+");
    let stop = first.ask("vCont;c");
    assert!(stop.starts_with("T1e"), "SIGUSR1 (gdb's 30) stops it: {stop}");
    drop(first);
    let mut c = connect_again(&server);
    c.ask("qSupported:multiprocess+");
    let again = c.ask("?");
    assert!(again.starts_with(&format!("T1ethread:p{pid:x}.{pid:x};")), "the same stop: {again}");
}

/// A new client of a server that listens again after its first client left.
fn connect_again(server: &Server) -> Client {
    for _ in 0..100 {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", server.port)) {
            stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            return Client::from_stream(stream);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server does not listen again");
}
