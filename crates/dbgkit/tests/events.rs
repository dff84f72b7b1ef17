//! Events of launched and attached processes, with their fields checked
//! against the kernel's own view (`/proc`, ELF headers).

mod common;

use common::*;
use dbgkit::{ContinueStatus, EventKind, Session, SpawnOptions, Stdio};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn launch_reports_process_modules_threads_and_exit_in_order() {
    let mut s = Session::new();
    let exe = fixture("threads");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "3", "10"]).stdout(Stdio::Piped)).unwrap();
    let events = run_to_exit(&mut s, pid);
    let kinds: Vec<&EventKind> = events.iter().map(|e| &e.kind).collect();

    let EventKind::ProcessCreated { image, base, entry, .. } = kinds[0] else { panic!("first event: {:?}", kinds[0]) };
    assert_eq!(image, &exe.canonicalize().unwrap());
    assert_eq!(events[0].tid, pid);
    let header = std::fs::read(&exe).unwrap();
    let elf_entry = u64::from_le_bytes(header[24..32].try_into().unwrap());
    // Without randomisation switched off, a PIE still has its entry at base + e_entry.
    assert_eq!(*entry, base + elf_entry);

    let loaded: Vec<String> = kinds
        .iter()
        .filter_map(|k| if let EventKind::ModuleLoaded(m) = k { Some(m.name.clone()) } else { None })
        .collect();
    assert_eq!(loaded[0], "ld-linux-x86-64.so.2", "the loader comes first: {loaded:?}");
    assert_eq!(loaded[1], "linux-vdso.so.1");
    assert!(loaded.iter().any(|n| n == "libc.so.6"), "{loaded:?}");

    let created: Vec<i32> =
        events.iter().filter(|e| matches!(e.kind, EventKind::ThreadCreated { .. })).map(|e| e.tid).collect();
    let exited: Vec<(i32, i32)> = events
        .iter()
        .filter_map(|e| if let EventKind::ThreadExited { code } = e.kind { Some((e.tid, code)) } else { None })
        .collect();
    assert_eq!(created.len(), 3, "{events:#?}");
    assert_eq!(exited.len(), 3);
    assert!(exited.iter().all(|&(_, code)| code == 0));
    assert_eq!(created.iter().collect::<BTreeSet<_>>(), exited.iter().map(|(t, _)| t).collect::<BTreeSet<_>>());
    for e in &events {
        if let EventKind::ThreadCreated { start } = e.kind {
            assert_ne!(start, 0);
        }
    }
    let first_thread = events.iter().position(|e| matches!(e.kind, EventKind::ThreadCreated { .. })).unwrap();
    let libc_loaded =
        events.iter().position(|e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "libc.so.6")).unwrap();
    assert!(libc_loaded < first_thread);
    assert_eq!(kinds.last().unwrap(), &&EventKind::ProcessExited { code: Some(0), signal: None });
}

/// Every module's range is covered by mappings of its file in `/proc/PID/maps`, and every
/// file-backed executable mapping belongs to a module.
fn assert_modules_match_maps(s: &Session, pid: i32) {
    let modules = s.modules(pid).unwrap();
    let maps = s.memory_map(pid).unwrap();
    for m in &modules {
        let is_own = |path: &str| {
            if m.path == Path::new("[vdso]") {
                path == "[vdso]"
            } else {
                Path::new(path) == m.path || Path::new(path).canonicalize().ok() == m.path.canonicalize().ok()
            }
        };
        let first = maps.iter().filter(|r| is_own(&r.path)).map(|r| r.start).min();
        assert_eq!(Some(m.base), first, "base of {} is its first mapping", m.name);
        // Everything the module spans is its file's mappings or its anonymous bss, and covered.
        let mut covered = 0;
        for r in maps.iter().filter(|r| r.start < m.end() && r.end > m.base) {
            assert!(is_own(&r.path) || r.path.is_empty(), "{} spans a mapping of {}", m.name, r.path);
            covered += r.end.min(m.end()) - r.start.max(m.base);
        }
        assert_eq!(covered, m.size, "{} {:x}-{:x} is fully mapped", m.name, m.base, m.end());
    }
    for r in maps.iter().filter(|r| r.executable && r.path.starts_with('/')) {
        assert!(
            modules.iter().any(|m| m.contains(r.start)),
            "executable mapping of {} at {:x} is in no module",
            r.path,
            r.start
        );
    }
}

#[test]
fn module_list_matches_proc_maps_after_launch() {
    let mut s = Session::new();
    let exe = fixture("counter");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "5"]).stdout(Stdio::Null)).unwrap();
    // Stop in main, where every initial library is loaded.
    let main = {
        run_until(&mut s, |e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "libc.so.6"));
        exe_symbol(&s, pid, "main")
    };
    s.add_breakpoint(pid, main).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_modules_match_maps(&s, pid);
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_exit(&mut s, pid);
}

#[test]
fn attach_replays_process_threads_and_modules() {
    let exe = fixture("worker");
    let mut child =
        std::process::Command::new(&exe).args(["5", "3"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let pid = child.id() as i32;
    // Wait until it has started its threads.
    let mut line = String::new();
    use std::io::BufRead;
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "started 5");

    let mut s = Session::new();
    s.attach(pid).unwrap();
    let mut events = Vec::new();
    loop {
        let e = next(&mut s);
        let is_module = matches!(e.kind, EventKind::ModuleLoaded(_));
        let is_thread = matches!(e.kind, EventKind::ThreadCreated { .. });
        let first = events.is_empty();
        events.push(e);
        if !(first || is_module || is_thread) {
            break;
        }
        // The process stays stopped while the replayed events are handed out.
        assert!(s.is_stopped(pid).unwrap());
        s.continue_event(ContinueStatus::Handled).unwrap();
        if !s.is_stopped(pid).unwrap() {
            break;
        }
    }
    let EventKind::ProcessCreated { image, .. } = &events[0].kind else { panic!("{:?}", events[0]) };
    assert_eq!(image, &exe.canonicalize().unwrap());
    let threads: BTreeSet<i32> =
        events.iter().filter(|e| matches!(e.kind, EventKind::ThreadCreated { .. })).map(|e| e.tid).collect();
    let proc_threads: BTreeSet<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .filter(|&t| t != pid)
        .collect();
    assert_eq!(threads, proc_threads);
    let modules: Vec<String> = events
        .iter()
        .filter_map(|e| if let EventKind::ModuleLoaded(m) = &e.kind { Some(m.name.clone()) } else { None })
        .collect();
    assert_eq!(&modules[..2], &["ld-linux-x86-64.so.2".to_string(), "linux-vdso.so.1".to_string()]);
    assert!(modules.contains(&"libc.so.6".to_string()));
    s.break_in(pid).unwrap();
    let e = next(&mut s);
    assert_eq!(e.kind, EventKind::BreakIn);
    assert_modules_match_maps(&s, pid);
    s.detach(pid).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest.trim(), "finished 5 worked");
}

#[test]
fn dlopen_and_dlclose_report_module_load_and_unload() {
    let mut s = Session::new();
    let lib = fixture("libfixture.so");
    let pid = s
        .spawn(&SpawnOptions::new([fixture("dlopener").to_str().unwrap(), lib.to_str().unwrap()]).stdout(Stdio::Piped))
        .unwrap();
    let events = run_to_exit(&mut s, pid);
    let load = events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "libfixture.so"))
        .expect("load");
    let unload = events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::ModuleUnloaded(m) if m.name == "libfixture.so"))
        .expect("unload");
    assert!(load < unload);
    let EventKind::ModuleLoaded(m) = &events[load].kind else { unreachable!() };
    assert_eq!(m.path, lib);
    assert!(m.size > 0);
}

#[test]
fn static_executable_reports_process_vdso_and_exit() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("static_hello").to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(matches!(events[0].kind, EventKind::ProcessCreated { .. }));
    let modules: Vec<String> = events
        .iter()
        .filter_map(|e| if let EventKind::ModuleLoaded(m) = &e.kind { Some(m.name.clone()) } else { None })
        .collect();
    assert_eq!(modules, vec!["linux-vdso.so.1".to_string()]);
    assert_eq!(events.last().unwrap().kind, EventKind::ProcessExited { code: Some(3), signal: None });
}

#[test]
fn exec_reports_the_new_image_and_its_modules() {
    let mut s = Session::new();
    let target = fixture("static_hello");
    let pid = s
        .spawn(&SpawnOptions::new([fixture("execer").to_str().unwrap(), target.to_str().unwrap()]).stdout(Stdio::Null))
        .unwrap();
    let events = run_to_exit(&mut s, pid);
    let exec = events.iter().position(|e| matches!(&e.kind, EventKind::Exec { .. })).expect("exec event");
    assert_eq!(events[exec].kind, EventKind::Exec { image: target.canonicalize().unwrap() });
    assert!(matches!(&events[exec + 1].kind, EventKind::ModuleLoaded(m) if m.name == "linux-vdso.so.1"));
    assert_eq!(events.last().unwrap().kind, EventKind::ProcessExited { code: Some(3), signal: None });
}

#[test]
fn exec_from_a_thread_after_the_leader_ended_reports_the_new_image() {
    // The kernel ends the other threads and gives the thread that execs the
    // leader's id: no thread left to stop may be waited for.
    let mut s = Session::new();
    let target = fixture("static_hello");
    let argv = [fixture("exec_after_leader").to_str().unwrap().to_string(), target.to_str().unwrap().to_string()];
    let pid = s.spawn(&SpawnOptions::new(argv).stdout(Stdio::Null)).unwrap();
    let events = run_to_exit(&mut s, pid);
    let exec = events.iter().find(|e| matches!(&e.kind, EventKind::Exec { .. })).expect("exec event");
    assert_eq!(exec.kind, EventKind::Exec { image: target.canonicalize().unwrap() });
    assert_eq!(exec.tid, pid, "the thread that exec'd has the leader's id");
    assert_eq!(events.last().unwrap().kind, EventKind::ProcessExited { code: Some(3), signal: None });
}

#[test]
fn fork_child_runs_free_of_breakpoints() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("forker").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let hit = exe_symbol(&s, pid, "hit");
    let id = s.add_breakpoint(pid, hit).unwrap();
    let events = run_to_exit(&mut s, pid);
    let hits = events.iter().filter(|e| matches!(e.kind, EventKind::Breakpoint { .. })).count();
    assert_eq!(hits, 2, "the parent's two calls; the child's call is not ours: {events:#?}");
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::Fork { .. })));
    assert!(s.breakpoint(id).is_none(), "gone with the process");
    assert_eq!(read_all(&mut pipes.stdout).trim(), "child exited 3, parent hits 2");
}

#[test]
fn two_processes_interleave_and_continue_independently() {
    let mut s = Session::new();
    let a = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "20"]).stdout(Stdio::Null)).unwrap();
    let b = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "30"]).stdout(Stdio::Null)).unwrap();
    let bump_a = exe_symbol(&s, a, "bump");
    let bump_b = exe_symbol(&s, b, "bump");
    s.add_breakpoint(a, bump_a).unwrap();
    s.add_breakpoint(b, bump_b).unwrap();
    let mut hits = std::collections::HashMap::new();
    let mut exited = BTreeSet::new();
    // Keep A's event waiting while B's events go on: A stays stopped, B runs.
    let mut parked: Option<i32> = None;
    while exited.len() < 2 {
        let e = next(&mut s);
        if let EventKind::Breakpoint { .. } = e.kind {
            *hits.entry(e.pid).or_insert(0) += 1;
            if e.pid == a && parked.is_none() && hits[&a] == 5 {
                parked = Some(a);
                assert!(s.is_stopped(a).unwrap());
                continue;
            }
        }
        if let EventKind::ProcessExited { .. } = e.kind {
            exited.insert(e.pid);
            if e.pid == b {
                if let Some(p) = parked.take() {
                    assert_eq!(hits[&a], 5, "A did not move while parked");
                    s.continue_event(ContinueStatus::Handled).unwrap();
                    s.continue_process(p, ContinueStatus::Handled).unwrap();
                    continue;
                }
            }
        }
        s.continue_process(e.pid, default_status(&e)).unwrap();
    }
    assert_eq!(hits[&a], 20);
    assert_eq!(hits[&b], 30);
}

#[test]
fn a_leader_that_exits_first_does_not_stall_the_process() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("leader_exit").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let hit = exe_symbol(&s, pid, "hit");
    s.add_breakpoint(pid, hit).unwrap();
    let events = run_to_exit(&mut s, pid);
    let hits: Vec<_> = events.iter().filter(|e| matches!(e.kind, EventKind::Breakpoint { .. })).collect();
    assert_eq!(hits.len(), 5);
    assert!(hits.iter().all(|e| e.tid != pid), "the worker hits, not the exited leader");
    assert_eq!(events.last().unwrap().kind, EventKind::ProcessExited { code: Some(0), signal: None });
    assert_eq!(read_all(&mut pipes.stdout).trim(), "worker hits 5");
}
