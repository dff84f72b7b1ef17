//! Crash triage on real programs: every class of `tests/fixtures/triage*`,
//! several inputs each, which must get the class and severity of the
//! program's bug and cluster together (the same stack hash, naming the
//! function with the bug), apart from every other bug; inputs that do not
//! crash and one that hangs. The stacks are compared with gdb's `bt` of the
//! same input.

mod common;

use common::fixture;
use dbgkit::triage::{self, Outcome, Record, RunOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One group of inputs that are the same bug.
struct Bug {
    /// Expected class id, severity, and the first frame of the hash.
    class: &'static str,
    severity: &'static str,
    top: &'static str,
    inputs: &'static [&'static [u8]],
}

const TRIAGE_BUGS: &[Bug] = &[
    Bug {
        class: "read-near-null",
        severity: "probably-not-exploitable",
        top: "triage!read_null",
        inputs: &[b"N1", b"N22"],
    },
    Bug {
        class: "write-near-null",
        severity: "probably-exploitable",
        top: "triage!write_null",
        inputs: &[b"W1", b"W333"],
    },
    Bug {
        class: "write-input-address",
        severity: "exploitable",
        top: "triage!write_where",
        inputs: &[b"PAAAAAAAA", b"PBBBBBBBBx"],
    },
    Bug {
        class: "read-input-address",
        severity: "probably-exploitable",
        top: "triage!read_where",
        inputs: &[b"RCCCCCCCC", b"RDDDDDDDDDD"],
    },
    Bug {
        class: "branch-invalid",
        severity: "exploitable",
        top: "triage!call_where",
        inputs: &[b"X\xef\xbe\xad\xde\0\0\0\0", b"X\x11\x22\x33\x44\0\0\0\0"],
    },
    Bug {
        class: "return-to-invalid",
        severity: "exploitable",
        top: "triage!smash_return",
        inputs: &[b"OAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", b"OAAAAAAAABBBBBBBBCCCCCC\0\0DDDDDDDD"],
    },
    Bug {
        class: "stack-smashing",
        severity: "exploitable",
        top: "triage!smash_canary",
        inputs: &[
            b"SAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            b"SBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        ],
    },
    Bug { class: "heap-corruption", severity: "exploitable", top: "triage!double_free", inputs: &[b"H1", b"H123"] },
    Bug {
        class: "assertion",
        severity: "probably-not-exploitable",
        top: "triage!check_length",
        inputs: &[b"A123", b"A1234"],
    },
    Bug {
        class: "division-by-zero",
        severity: "probably-not-exploitable",
        top: "triage!divide",
        inputs: &[b"D0", b"D0x"],
    },
    Bug {
        class: "illegal-instruction",
        severity: "probably-exploitable",
        top: "triage!illegal",
        inputs: &[b"I", b"Ix"],
    },
    Bug { class: "trap", severity: "probably-not-exploitable", top: "triage!trap", inputs: &[b"T", b"Tx"] },
    Bug {
        class: "stack-exhaustion",
        severity: "probably-not-exploitable",
        top: "triage!recurse",
        inputs: &[b"E", b"Ex"],
    },
    Bug { class: "abort", severity: "probably-not-exploitable", top: "triage!give_up", inputs: &[b"K", b"Kx"] },
];

/// Inputs of `triage` that exit cleanly.
const TRIAGE_CLEAN: &[&[u8]] = &[b"hello", b"D5"];

/// Writes inputs into a fresh directory; returns their paths, in order.
fn write_inputs(dir_name: &str, groups: &[&[&[u8]]]) -> (PathBuf, Vec<PathBuf>) {
    let dir = std::env::temp_dir().join(format!("dbgkit-triage-{dir_name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for (i, bytes) in group.iter().enumerate() {
            let path = dir.join(format!("{g:02}-{i}"));
            std::fs::write(&path, bytes).unwrap();
            paths.push(path);
        }
    }
    (dir, paths)
}

fn run(program: &Path, by_path: bool, inputs: &[PathBuf], timeout: Duration) -> Vec<Record> {
    let mut argv = vec![program.as_os_str().to_os_string()];
    if by_path {
        argv.push("@@".into());
    }
    let mut options = RunOptions::new(argv);
    options.timeout = timeout;
    triage::run_inputs(&options, inputs, 2, |_| {})
}

/// Checks each group: class, severity, one hash per group naming its bug, a
/// different hash for every group.
fn check_groups(bugs: &[Bug], records: &[Record]) -> HashMap<String, &'static str> {
    let mut hashes: HashMap<String, &'static str> = HashMap::new();
    let mut index = 0;
    for bug in bugs {
        let mut group_hash = None;
        for input in bug.inputs {
            let r = &records[index];
            index += 1;
            let a = r.analysis.as_ref().unwrap_or_else(|| panic!("{:?} ({input:?}): no analysis: {r:?}", bug.class));
            assert_eq!(r.outcome, Outcome::Crash, "{}: {input:?}", bug.class);
            assert_eq!(a.class.id(), bug.class, "{input:?}: {}\n{:#?}", a.explanation(), a.frames);
            assert_eq!(a.severity().name(), bug.severity, "{input:?}");
            assert_eq!(a.hash_frames.first().map(String::as_str), Some(bug.top), "{input:?}: {:?}", a.hash_frames);
            match &group_hash {
                None => group_hash = Some(a.hash.clone()),
                Some(h) => assert_eq!(h, &a.hash, "{}: the inputs of one bug must cluster", bug.class),
            }
        }
        let hash = group_hash.unwrap();
        if let Some(other) = hashes.insert(hash.clone(), bug.class) {
            panic!("{} and {other} have the same hash {hash}", bug.class);
        }
    }
    hashes
}

#[test]
fn every_class_of_crash_clusters_by_its_bug() {
    let program = fixture("triage");
    let mut groups: Vec<&[&[u8]]> = TRIAGE_BUGS.iter().map(|b| b.inputs).collect();
    groups.push(TRIAGE_CLEAN);
    groups.push(&[b"L"]);
    let (dir, inputs) = write_inputs("c", &groups);
    let records = run(&program, true, &inputs, Duration::from_secs(3));
    let hashes = check_groups(TRIAGE_BUGS, &records);
    let crashes: usize = TRIAGE_BUGS.iter().map(|b| b.inputs.len()).sum();
    for r in &records[crashes..crashes + TRIAGE_CLEAN.len()] {
        assert_eq!((&r.outcome, r.exit_code), (&Outcome::NoCrash, Some(0)), "{}", r.input.display());
        assert!(r.analysis.is_none());
    }
    let hang = records.last().unwrap();
    assert_eq!(hang.outcome, Outcome::Hang);
    let a = hang.analysis.as_ref().unwrap();
    assert_eq!(a.class.id(), "hang");
    assert_eq!(a.hash_frames.first().map(String::as_str), Some("triage!spin"), "the hang is seen where it spins");

    // The details the classes rest on.
    let by_class = |class: &str| {
        records
            .iter()
            .find(|r| r.analysis.as_ref().is_some_and(|a| a.class.id() == class))
            .unwrap()
            .analysis
            .clone()
            .unwrap()
    };
    let write = by_class("write-input-address");
    assert_eq!(write.bad_address, Some(0x4141414141414141));
    let insn = write.instruction.unwrap();
    assert_eq!(insn.access, Some(triage::Access::Write));
    assert!(insn.text.starts_with("mov") && insn.memory_operand.as_deref() == Some("qword ptr [rax]"), "{insn:?}");
    assert_eq!(write.registers.unwrap().rax, 0x4141414141414141);
    let null = by_class("read-near-null");
    assert_eq!((null.signal, null.access), (Some(libc::SIGSEGV), Some(triage::Access::Read)));
    assert!(null.fault_address.unwrap() < 0x10);
    let assertion = by_class("assertion");
    assert!(
        assertion.reason.unwrap().summary().ends_with("check_length: Assertion `input_len < 3' failed."),
        "the assertion's message is read from the target"
    );
    let heap = by_class("heap-corruption");
    assert_eq!(heap.reason.unwrap().summary(), "free(): double free detected in tcache 2");
    let frame = &by_class("division-by-zero").frames[0];
    assert_eq!((frame.function.as_deref(), frame.line), (Some("divide"), Some(49)));
    assert!(frame.file.as_deref().unwrap().ends_with("triage.c"));

    // The clusters: one per bug and the hang, most severe first.
    let clusters = triage::cluster(&records);
    assert_eq!(clusters.len(), hashes.len() + 1);
    assert!(clusters.windows(2).all(|w| w[0].severity <= w[1].severity));
    assert_eq!(clusters[0].severity, triage::Severity::Exploitable);
    let json = triage::triage_to_json(&records, &clusters);
    assert!(json.contains("\"class\": \"write-input-address\""));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn exceptions_panics_and_sanitizer_reports() {
    // C++: uncaught exceptions with their type read from the target.
    let (dir, inputs) = write_inputs("cxx", &[&[b"E1", b"E12"], &[b"B1"], &[b"C1", b"x"]]);
    let records = run(&fixture("triage_throw"), false, &inputs, Duration::from_secs(20));
    let types: Vec<Option<String>> =
        records[..3].iter().map(|r| r.analysis.as_ref().and_then(|a| a.exception_type.clone())).collect();
    assert_eq!(
        types,
        [Some("std::runtime_error".into()), Some("std::runtime_error".into()), Some("parser::BadHeader".into())]
    );
    for r in &records[..3] {
        let a = r.analysis.as_ref().unwrap();
        assert_eq!((a.class.id().as_str(), a.hash_frames[0].as_str()), ("uncaught-exception", "triage_throw!parse"));
    }
    assert!(records[3..].iter().all(|r| r.outcome == Outcome::NoCrash), "a caught exception is no crash");
    let _ = std::fs::remove_dir_all(dir);

    // Rust: the panic's stack (at rust_panic) and message.
    let (dir, inputs) = write_inputs("rust", &[&[b"I", b"Ixx"], &[b"Uabc"], &[b"hi"]]);
    let records = run(&fixture("triage_panic"), false, &inputs, Duration::from_secs(20));
    let a = records[0].analysis.as_ref().unwrap();
    assert_eq!((a.class.id().as_str(), a.severity().name()), ("rust-panic", "probably-not-exploitable"));
    assert_eq!(a.hash_frames[0], "triage_panic!triage_panic::pick");
    assert!(a.reason.as_ref().unwrap().summary().starts_with("index out of bounds: the len is 3 but the index is 11"));
    assert_eq!(records[1].analysis.as_ref().unwrap().hash, a.hash);
    let unwrap = records[2].analysis.as_ref().unwrap();
    assert_eq!(unwrap.hash_frames[0], "triage_panic!triage_panic::parse_number");
    assert_eq!((records[3].outcome.clone(), records[3].exit_code), (Outcome::NoCrash, Some(0)));
    let _ = std::fs::remove_dir_all(dir);

    // AddressSanitizer and UndefinedBehaviorSanitizer reports, parsed.
    let overflow: &[&[u8]] = &[b"OAAAAAAAAAAAAAAAAAAAAAAA", b"OBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"];
    let (dir, inputs) = write_inputs("asan", &[overflow, &[b"F1", b"F12"], &[b"ok"]]);
    let records = run(&fixture("triage_asan"), false, &inputs, Duration::from_secs(20));
    let bugs = [
        Bug {
            class: "asan-heap-buffer-overflow-write",
            severity: "exploitable",
            top: "triage_asan!overflow",
            inputs: overflow,
        },
        Bug {
            class: "asan-heap-use-after-free-read",
            severity: "exploitable",
            top: "triage_asan!use_after_free",
            inputs: &[b"F1", b"F12"],
        },
    ];
    check_groups(&bugs, &records);
    let report = records[2].analysis.as_ref().unwrap().sanitizer.clone().unwrap();
    assert_eq!((report.access_size, report.free_stack.is_empty()), (Some(4), false));
    assert!(report.allocation_stack.iter().any(|f| f.function.as_deref() == Some("use_after_free")));
    assert_eq!(records[4].outcome, Outcome::NoCrash);
    let _ = std::fs::remove_dir_all(dir);

    let (dir, inputs) = write_inputs("ubsan", &[&[b"V1", b"V12"]]);
    let records = run(&fixture("triage_ubsan"), false, &inputs, Duration::from_secs(20));
    let bugs = [Bug {
        class: "ubsan-signed-integer-overflow",
        severity: "probably-not-exploitable",
        top: "triage_ubsan!add",
        inputs: &[b"V1", b"V12"],
    }];
    check_groups(&bugs, &records);
    let _ = std::fs::remove_dir_all(dir);
}

// ---- gdb's bt of the same inputs -------------------------------------------

/// The functions of gdb's backtrace that belong to the program (their
/// frames say `at triage.c:N`), innermost first. None: no gdb.
fn gdb_functions(program: &Path, input: &Path, frames: usize) -> Option<Vec<String>> {
    let out = Command::new(std::env::var_os("DBGKIT_TEST_GDB").unwrap_or("gdb".into()))
        .args(["-batch", "-nx", "-ex", "set debuginfod enabled off", "-ex", "run", "-ex"])
        .arg(format!("bt {frames}"))
        .arg("--args")
        .arg(program)
        .arg(input)
        .env("LIBC_FATAL_STDERR_", "1")
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("gdb cannot run ({e}): not compared");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let functions = text
        .lines()
        .filter(|l| l.starts_with('#') && l.contains(" at ") && l.contains("triage.c:"))
        .filter_map(|l| {
            // `#3  0x... in name (args) at file:line` or `#0  name (args) at ...`
            let rest =
                l.split_once(" in ").map(|(_, r)| r).unwrap_or_else(|| l.split_whitespace().nth(1).unwrap_or(""));
            let rest = if l.contains(" in ") { rest } else { &l[l.find(rest).unwrap()..] };
            rest.split_whitespace().next().map(str::to_string)
        })
        .collect();
    Some(functions)
}

#[test]
fn stacks_match_gdbs_backtraces() {
    let program = fixture("triage");
    let groups: Vec<&[&[u8]]> = TRIAGE_BUGS.iter().map(|b| &b.inputs[..1]).collect();
    let (dir, inputs) = write_inputs("gdb", &groups);
    let records = run(&program, true, &inputs, Duration::from_secs(20));
    let mut compared = 0;
    for (bug, record) in TRIAGE_BUGS.iter().zip(&records) {
        // gdb walks an exhausted stack for minutes: only its top is compared.
        let depth = if bug.class == "stack-exhaustion" { 6 } else { 64 };
        let Some(theirs) = gdb_functions(&program, &record.input, depth) else { return };
        let a = record.analysis.as_ref().unwrap();
        let ours: Vec<String> = a
            .frames
            .iter()
            .take(depth)
            .filter(|f| {
                f.module.as_deref() == Some("triage") && f.file.as_deref().is_some_and(|f| f.ends_with("triage.c"))
            })
            .map(|f| f.function.clone().unwrap_or_default())
            .collect();
        assert!(!ours.is_empty(), "{}: no frame of the program", bug.class);
        if matches!(bug.class, "return-to-invalid" | "stack-smashing") {
            // Past a smashed return address there is no stack: we stop (and say
            // why) where gdb guesses on. Up to there, the frames must agree.
            assert!(a.stack_stopped.is_some(), "{}: the walk must say why it stopped", bug.class);
            assert_eq!(ours[..], theirs[..ours.len().min(theirs.len())], "{}: frames differ from gdb's", bug.class);
        } else {
            assert_eq!(ours, theirs, "{}: the program's frames differ from gdb's", bug.class);
        }
        compared += 1;
    }
    assert_eq!(compared, TRIAGE_BUGS.len());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_crashing_child_is_the_crash_when_children_are_followed() {
    let program = fixture("triage_fork");
    let (dir, inputs) = write_inputs("fork", &[&[b"W1", b"W22"], &[b"hello"]]);
    let argv = [program.as_os_str().to_os_string(), "@@".into()];
    // Without following, the worker's crash is invisible: the server exits 0.
    let unfollowed = triage::run_inputs(&RunOptions::new(argv.clone()), &inputs, 2, |_| {});
    assert!(unfollowed.iter().all(|r| r.outcome == Outcome::NoCrash), "{unfollowed:#?}");
    let mut options = RunOptions::new(argv);
    options.follow_children = true;
    let records = triage::run_inputs(&options, &inputs, 2, |_| {});
    let bug = Bug {
        class: "write-near-null",
        severity: "probably-exploitable",
        top: "triage_fork!handle_request",
        inputs: &[b"W1", b"W22"],
    };
    check_groups(&[bug], &records);
    assert_eq!(records[2].outcome, Outcome::NoCrash, "{:#?}", records[2]);
    let _ = std::fs::remove_dir_all(dir);
}
