//! Hardware breakpoints and watchpoints through the debug registers.

mod common;

use common::*;
use dbgkit::{ContinueStatus, Error, EventKind, Session, SpawnOptions, Stdio, WatchAccess};

fn spawn_watch(s: &mut Session, threads: &str, iterations: &str) -> (i32, dbgkit::SpawnedPipes) {
    let pid = s
        .spawn(&SpawnOptions::new([fixture("watch").to_str().unwrap(), threads, iterations]).stdout(Stdio::Piped))
        .unwrap();
    let pipes = s.take_pipes(pid).unwrap();
    (pid, pipes)
}

#[test]
fn a_write_watchpoint_sees_every_write_of_eight_threads_with_old_and_new_values() {
    let mut s = Session::new();
    let (pid, mut pipes) = spawn_watch(&mut s, "8", "25");
    let counter = s.lookup(pid, "counter").unwrap();
    let id = s.add_watchpoint(pid, counter, 8, WatchAccess::Write).unwrap();
    let mut writes = 0u64;
    let mut threads = std::collections::HashSet::new();
    for e in run_to_exit(&mut s, pid) {
        if let EventKind::Watchpoint { id: hit, access, address, old, new, .. } = &e.kind {
            assert_eq!((*hit, *access, *address), (id, WatchAccess::Write, counter));
            let old = u64::from_le_bytes(old.clone().unwrap().try_into().unwrap());
            let new = u64::from_le_bytes(new.clone().unwrap().try_into().unwrap());
            assert_eq!((old, new), (writes, writes + 1), "write {writes}");
            writes += 1;
            threads.insert(e.tid);
        }
    }
    assert_eq!(writes, 200);
    assert_eq!(threads.len(), 8, "writes from every thread, threads created after the watchpoint included");
    assert_eq!(read_all(&mut pipes.stdout).trim(), "counter 200 sum 35");
}

#[test]
fn an_eight_byte_read_watchpoint_and_a_hardware_breakpoint_in_libc() {
    let mut s = Session::new();
    let (pid, mut pipes) = spawn_watch(&mut s, "1", "1");
    let readme = s.lookup(pid, "readme").unwrap();
    let reads = s.add_watchpoint(pid, readme, 8, WatchAccess::ReadWrite).unwrap();
    // getpid lives in libc's read-only code: wait for libc, then break there without writing to it.
    run_until(&mut s, |e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "libc.so.6"));
    let getpid = s.lookup(pid, "libc.so.6!getpid").unwrap();
    let mut code_before = [0u8; 16];
    s.read_memory(pid, getpid, &mut code_before).unwrap();
    let exec = s.add_hardware_breakpoint(pid, getpid).unwrap();
    let mut raw = [0u8; 16];
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    std::os::unix::fs::FileExt::read_exact_at(&mem, &mut raw, getpid).unwrap();
    assert_eq!(raw, code_before, "a hardware breakpoint writes nothing into the code");
    s.continue_event(ContinueStatus::Handled).unwrap();
    let (mut read_hits, mut exec_hits) = (0, 0);
    for e in run_to_exit(&mut s, pid) {
        match e.kind {
            EventKind::Watchpoint { id, address, .. } if id == reads => {
                assert_eq!(address, readme);
                read_hits += 1;
            }
            EventKind::Watchpoint { id, address, pc, .. } if id == exec => {
                assert_eq!((address, pc), (getpid, getpid), "stops before the instruction runs");
                exec_hits += 1;
            }
            _ => {}
        }
    }
    assert_eq!(read_hits, 5);
    assert_eq!(exec_hits, 3);
    assert_eq!(read_all(&mut pipes.stdout).trim(), "counter 1 sum 35");
}

#[test]
fn ranges_split_over_registers_until_the_four_are_used() {
    let mut s = Session::new();
    let (pid, _pipes) = spawn_watch(&mut s, "1", "1");
    let counter = s.lookup(pid, "counter").unwrap();
    let main = s.lookup(pid, "main").unwrap();
    // 16 bytes need two registers.
    let wide = s.add_watchpoint(pid, counter, 16, WatchAccess::Write).unwrap();
    let one = s.add_hardware_breakpoint(pid, main).unwrap();
    // Three bytes at an odd address need two registers (1 + 2): one is left.
    let err = s.add_watchpoint(pid, counter + 1, 3, WatchAccess::Write).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("not enough free debug registers"), "{err}");
    let last = s.add_watchpoint(pid, counter, 1, WatchAccess::ReadWrite).unwrap();
    let err = s.add_hardware_breakpoint(pid, main).unwrap_err();
    assert!(err.to_string().contains("0 of 4 free"), "a fifth: {err}");
    assert!(s.add_watchpoint(pid, counter, 40, WatchAccess::Write).is_err(), "more than four registers can hold");
    assert!(s.add_watchpoint(pid, counter, 0, WatchAccess::Write).is_err());
    s.remove_watchpoint(wide).unwrap();
    s.add_watchpoint(pid, counter + 1, 3, WatchAccess::Write).unwrap();
    s.remove_watchpoint(one).unwrap();
    s.remove_watchpoint(last).unwrap();
    assert_eq!(s.watchpoints().len(), 1);
}

#[test]
fn detach_clears_the_debug_registers_of_every_thread() {
    let mut s = Session::new();
    let (pid, mut pipes) = spawn_watch(&mut s, "4", "50");
    let counter = s.lookup(pid, "counter").unwrap();
    s.add_watchpoint(pid, counter, 8, WatchAccess::Write).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Watchpoint { .. }));
    s.detach(pid).unwrap();
    // A debug register left set would kill the next writer with SIGTRAP.
    let mut status = 0;
    // SAFETY: reaping our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "status {status:#x}");
    assert_eq!(read_all(&mut pipes.stdout).trim(), "counter 200 sum 35");
}

#[test]
fn a_page_watchpoint_sees_exactly_the_accesses_in_its_range() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("pagewatch").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    s.add_breakpoint_at(pid, "ready", Default::default()).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let buf = s.registers(pid, e.tid).unwrap().rdi;
    let id = s.add_page_watchpoint(pid, buf + 16, 3 * 4096 - 32, WatchAccess::ReadWrite).unwrap();
    let perms: Vec<String> =
        s.memory_map(pid).unwrap().iter().filter(|r| r.start <= buf && buf < r.end).map(|r| r.permissions()).collect();
    assert_eq!(perms, vec!["---p".to_string()]);
    // The debugger still reads and writes the watched memory.
    let mut byte = [0xffu8; 1];
    s.read_memory(pid, buf + 5000, &mut byte).unwrap();
    assert_eq!(byte, [0]);
    s.write_memory(pid, buf + 5000, &[9]).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let mut seen = Vec::new();
    loop {
        let e = next(&mut s);
        match e.kind {
            EventKind::Watchpoint { id: hit, access, address, .. } => {
                assert_eq!(hit, id);
                seen.push((access, address - buf));
                if seen.len() == 4 {
                    s.remove_watchpoint(id).unwrap();
                }
            }
            EventKind::Exception { .. } => panic!("the target saw a fault: {e:?}"),
            EventKind::ProcessExited { code, .. } => {
                assert_eq!(code, Some(0));
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => {}
        }
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    assert_eq!(
        seen,
        vec![
            (WatchAccess::Write, 100),
            (WatchAccess::Read, 5000),
            (WatchAccess::Read, 9000),
            (WatchAccess::Write, 9001)
        ]
    );
    assert_eq!(read_all(&mut pipes.stdout).trim(), "read 9 0");
}

#[test]
fn page_watchpoints_are_undone_by_detach() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("pagewatch").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    s.add_breakpoint_at(pid, "ready", Default::default()).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let buf = s.registers(pid, e.tid).unwrap().rdi;
    s.add_page_watchpoint(pid, buf, 4096, WatchAccess::Write).unwrap();
    assert!(s.add_page_watchpoint(pid, buf + 10, 1, WatchAccess::Write).is_err(), "one watch per page");
    assert!(s.add_page_watchpoint(pid, 0x10, 1, WatchAccess::Write).is_err(), "unmapped");
    s.detach(pid).unwrap();
    let mut status = 0;
    // SAFETY: reaping our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the page is writable again: {status:#x}");
    assert_eq!(read_all(&mut pipes.stdout).trim(), "read 0 0");
}

#[test]
fn an_address_not_mapped_yet_can_be_watched() {
    // As gdb's `watch *ptr` while ptr is still null: the debug registers take any address.
    let mut s = Session::new();
    let (pid, _pipes) = spawn_watch(&mut s, "1", "3");
    let id = s.add_watchpoint(pid, 0x10, 4, WatchAccess::Write).unwrap();
    assert_eq!(s.watchpoint(id).unwrap().address, 0x10);
    let events = run_to_exit(&mut s, pid);
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::Watchpoint { .. })), "nothing writes there");
}
