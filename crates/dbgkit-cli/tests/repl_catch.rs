//! Catchpoints in the interactive debugger (gdb's `catch`, `tcatch`):
//! system calls, C++ exceptions, forks, execs, library loads and signals,
//! numbered and listed with the breakpoints.

mod support;

use support::{batch, fixture, gdb, output_of};

fn lines_starting<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn catch_syscall_stops_at_each_entry_and_return_as_gdb_does() {
    let watch = fixture("watch");
    let program = [watch.to_str().unwrap(), "1", "1"];
    let script = "catch syscall getpid\nbl\ng\ng\ng\ng\ng\ng\ng\n";
    let run = batch(script, &program);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    assert_eq!(output_of(&run.out, "catch syscall getpid"), ["Catchpoint 1 (syscall 'getpid' [39])"]);
    assert_eq!(output_of(&run.out, "bl"), ["  1 e catchpoint       hits=0 catch syscall 'getpid' [39]"]);
    let ours: Vec<&str> = lines_starting(&run.out, "Catchpoint 1 (")
        .into_iter()
        .map(|l| l.split(')').next().unwrap())
        .filter(|l| l.contains(" syscall "))
        .collect();
    // gdb says the same of the same program.
    let theirs = gdb(&program, &["catch syscall getpid", "run", "c", "c", "c", "c", "c", "c"]);
    // gdb: `Thread 1 "watch" hit Catchpoint 1 (call to syscall getpid), __GI_getpid () at ...`.
    let theirs: Vec<&str> = theirs
        .lines()
        .filter_map(|l| l.find("Catchpoint 1 (").map(|at| &l[at..]))
        .map(|l| l.split(')').next().unwrap())
        .filter(|l| l.contains(" syscall "))
        .collect();
    assert_eq!(ours.len(), 6, "{}", run.out);
    assert_eq!(ours, theirs);
    let pid = run.out.lines().find_map(|l| l.strip_prefix("CreateProcess: pid=")).unwrap();
    let pid = pid.split_whitespace().next().unwrap();
    assert!(run.out.contains(&format!("(returned from syscall getpid), result {pid}")), "{}", run.out);
}

#[test]
fn catch_throw_and_catch_show_the_exception_type_and_tcatch_goes_once() {
    let throw = fixture("throw");
    let script = "catch throw\ntcatch catch\ng\ng\ng\nbl\nbd 1\ng\n";
    let run = batch(script, &[throw.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    let stops = lines_starting(&run.out, "Catchpoint ");
    assert_eq!(
        stops,
        [
            "Catchpoint 1 (throw)",
            "Catchpoint 2 (catch)",
            "Catchpoint 1 (exception thrown), type std::runtime_error",
            "Catchpoint 2 (exception caught), type std::runtime_error",
            "Catchpoint 1 (exception thrown), type std::runtime_error",
        ],
        "{}",
        run.out
    );
    assert_eq!(output_of(&run.out, "bl"), ["  1 e catchpoint       hits=2 catch throw"], "tcatch is gone");
    assert!(run.out.contains("caught 5 passed 5"), "{}", run.out);
}

#[test]
fn catch_fork_vfork_and_exec() {
    let spawner = fixture("spawner");
    let script = "catch vfork\ncatch fork\ncatch exec\ng\ng\ng\ng\ng\n";
    let run = batch(script, &[spawner.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    let stops: Vec<String> = lines_starting(&run.out, "Catchpoint ")
        .iter()
        .skip(3)
        .map(|l| l.split(" process ").next().unwrap().to_string())
        .collect();
    // posix_spawn, vfork and system() vfork; clone (without CLONE_VM) forks. Children run undebugged: no exec.
    assert_eq!(
        stops,
        ["Catchpoint 1 (vforked", "Catchpoint 1 (vforked", "Catchpoint 1 (vforked", "Catchpoint 2 (forked"],
        "{}",
        run.out
    );
    let followed = batch(".childdbg 1\ncatch exec\ng\n", &[spawner.to_str().unwrap()]);
    let execs = lines_starting(&followed.out, "Catchpoint 1 (exec'd /");
    assert_eq!(execs.len(), 1, "the first child's exec stops (then the batch ends): {}", followed.out);
    let shell = std::fs::canonicalize("/bin/sh").unwrap();
    assert_eq!(execs[0], format!("Catchpoint 1 (exec'd {})", shell.display()));
}

#[test]
fn catch_load_with_a_regex_and_catch_signal_over_the_signal_table() {
    let dlopener = fixture("dlopener");
    let lib = fixture("libfixture.so");
    let run =
        batch("catch load fixture\ncatch unload\ng\ng\ng\n", &[dlopener.to_str().unwrap(), lib.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    let stops = lines_starting(&run.out, "Catchpoint ");
    assert_eq!(stops.len(), 4, "{}", run.out);
    assert_eq!(stops[2], format!("Catchpoint 1 (loaded {})", lib.display()));
    assert_eq!(stops[3], format!("Catchpoint 2 (unloaded {})", lib.display()));
    assert!(run.out.contains("fixture_function(1)="), "{}", run.out);

    let signals = fixture("signals");
    let run = batch("handle SIGUSR1 nostop noprint\ncatch signal SIGUSR1\ng\ng\n", &[signals.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    // Set, then stopped at, though the table says not to stop.
    assert_eq!(lines_starting(&run.out, "Catchpoint 1 (signal"), ["Catchpoint 1 (signal SIGUSR1)"; 2], "{}", run.out);
    assert!(run.out.contains("handler ran"), "the signal is still delivered: {}", run.out);
}

#[test]
fn bad_catchpoints_are_refused_clearly() {
    let watch = fixture("watch");
    for (script, message) in [
        ("catch\n", "catch what?"),
        ("catch syscall no_such_call\n", "unknown system call \"no_such_call\""),
        ("catch signal SIGNOPE\n", "unknown signal \"SIGNOPE\""),
        ("catch load [\n", "bad regular expression"),
        ("catch fork now\n", "catch fork takes no argument"),
        ("catch breakfast\n", "cannot catch \"breakfast\""),
    ] {
        let run = batch(script, &[watch.to_str().unwrap()]);
        assert_ne!(run.code, 0, "{script}");
        assert!(run.err.contains(message), "{script}: {}", run.err);
    }
}

#[test]
fn windbg_sxe_ld_breaks_when_the_module_loads() {
    let dlopener = fixture("dlopener");
    let lib = fixture("libfixture.so");
    let program = [dlopener.to_str().unwrap(), lib.to_str().unwrap()];
    let run = batch("sxe ld:libfixture.so\nbl\ng\nsxd ld:libfixture.so\nbl\ng\n", &program);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    assert_eq!(output_of(&run.out, "bl"), ["  1 e catchpoint       hits=0 catch load ^libfixture\\.so$"]);
    assert_eq!(lines_starting(&run.out, "Catchpoint 1 (loaded"), [format!("Catchpoint 1 (loaded {})", lib.display())]);
    assert!(run.out.contains("unloaded\n"), "the filter is gone, the program runs to its end: {}", run.out);
    let none = batch("sxd ld:libnothing.so\n", &program);
    assert!(none.err.contains("no load event filter for \"libnothing.so\""), "{}", none.err);
}
