//! The instruction under a breakpoint runs out of line (relocated copy or
//! emulated call): every form must behave exactly as without a debugger.

mod common;

use common::*;
use dbgkit::{ContinueStatus, EventKind, HitAction, Registers, Session, SpawnOptions, Stdio};
use object::{Object, ObjectSymbol};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Every `bp_*` label of the forms fixture, with its file address.
fn form_labels() -> BTreeMap<String, u64> {
    let data = std::fs::read(fixture("forms")).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.symbols()
        .filter_map(|s| {
            let name = s.name().ok()?;
            name.starts_with("bp_").then(|| (name.to_string(), s.address()))
        })
        .collect()
}

fn undebugged_output(name: &str) -> String {
    let out = std::process::Command::new(fixture(name)).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the forms fixture; returns its output, the hits of each label and
/// the registers at every pass through `done_form`.
fn run_forms(with_breakpoints: bool) -> (String, BTreeMap<String, u64>, Vec<Registers>) {
    let mut s = Session::new();
    let pid = s
        .spawn(&SpawnOptions::new([fixture("forms").to_str().unwrap()]).stdout(Stdio::Piped).disable_aslr(true))
        .unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let bias = s.modules(pid).unwrap()[0].bias;
    let hits: Rc<RefCell<BTreeMap<String, u64>>> = Default::default();
    if with_breakpoints {
        for (name, address) in form_labels() {
            let h = hits.clone();
            s.add_fast_breakpoint(pid, bias + address, move |_| {
                *h.borrow_mut().entry(name.clone()).or_default() += 1;
                HitAction::Continue
            })
            .unwrap();
        }
    }
    let done = exe_symbol(&s, pid, "done_form");
    let done_id = s.add_breakpoint(pid, done).unwrap();
    let mut at_done = Vec::new();
    loop {
        let e = next(&mut s);
        match e.kind {
            EventKind::Breakpoint { id, .. } if id == done_id => at_done.push(s.registers(pid, e.tid).unwrap()),
            EventKind::Breakpoint { .. } => panic!("only done_form reports: {e:?}"),
            EventKind::Exception { .. } => panic!("the fixture faulted: {e:?}"),
            EventKind::ProcessExited { .. } => {
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => {}
        }
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    let hits = hits.borrow().clone();
    (read_all(&mut pipes.stdout), hits, at_done)
}

#[test]
fn every_instruction_form_behaves_as_without_a_debugger() {
    let (plain_output, _, plain_registers) = run_forms(false);
    assert_eq!(plain_output, undebugged_output("forms"));
    let (output, hits, registers) = run_forms(true);
    assert_eq!(output, plain_output, "program output with a breakpoint on every form");
    assert_eq!(registers.len(), 32);
    for (i, (with, without)) in registers.iter().zip(&plain_registers).enumerate() {
        assert_eq!(with, without, "registers after form call {i}");
    }
    let labels = form_labels();
    assert_eq!(hits.len(), labels.len(), "every form was hit: {hits:?}");
    for (name, n) in &hits {
        // The `loop`s run 4 then 5 times; every other form once per call.
        let expected = if name == "bp_loop" || name == "bp_loop_self" { 9 } else { 2 };
        assert_eq!(*n, expected, "{name}");
    }
}

#[test]
fn an_emulated_call_pushes_the_original_return_address() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("forms").to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    let bias = s.modules(pid).unwrap()[0].bias;
    let labels = form_labels();
    for name in ["bp_call_rel32", "bp_call_riprel", "bp_call_reg", "bp_call_rsp"] {
        s.add_fast_breakpoint(pid, bias + labels[name], |_| HitAction::Continue).unwrap();
    }
    let target = exe_symbol(&s, pid, "target_fn");
    s.add_breakpoint(pid, target).unwrap();
    let mut seen = 0;
    loop {
        let e = next(&mut s);
        match e.kind {
            EventKind::Breakpoint { .. } => {
                let rsp = s.registers(pid, pid).unwrap().rsp;
                let mut ret = [0u8; 8];
                s.read_memory(pid, rsp, &mut ret).unwrap();
                let ret = u64::from_le_bytes(ret);
                let call_sites: Vec<u64> = ["bp_call_rel32", "bp_call_riprel", "bp_call_reg", "bp_call_rsp"]
                    .iter()
                    .map(|n| bias + labels[*n])
                    .collect();
                // The return address is right after one of the call instructions, in the executable.
                assert!(
                    call_sites.iter().any(|&c| ret > c && ret <= c + 7),
                    "return address {ret:#x} after a call site"
                );
                seen += 1;
            }
            EventKind::ModuleLoaded(ref m) => {
                assert!(m.path.is_absolute() || m.path.as_os_str() == "[vdso]", "no scratch memory as a module: {m:?}");
            }
            EventKind::ProcessExited { .. } => {
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => {}
        }
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    assert_eq!(seen, 8);
}

#[test]
fn a_cpp_exception_unwinds_through_functions_with_breakpoints() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("throw").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let counts = Rc::new(RefCell::new(BTreeMap::<u64, u64>::new()));
    for name in ["thrower", "middle", "main"] {
        let c = counts.clone();
        let address = exe_symbol(&s, pid, name);
        s.add_fast_breakpoint(pid, address, move |hit| {
            *c.borrow_mut().entry(hit.address).or_default() += 1;
            HitAction::Continue
        })
        .unwrap();
    }
    let events = run_to_exit(&mut s, pid);
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::Exception { .. })));
    assert_eq!(read_all(&mut pipes.stdout).trim(), "caught 5 passed 5");
    let counts = counts.borrow();
    assert_eq!(counts.values().copied().collect::<Vec<_>>().iter().sum::<u64>(), 21, "{counts:?}");
}
