//! Random command lines and expressions, as a user might type them, run
//! against a real program stopped under the debugger: no input may panic.

#![no_main]

use dbgkit_cli::repl::fuzzing::FuzzTarget;
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

thread_local! {
    // ptrace answers only the thread that attached: one debugger, on libFuzzer's thread.
    static TARGET: RefCell<Option<FuzzTarget>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    TARGET.with(|t| {
        let mut t = t.borrow_mut();
        let target = t.get_or_insert_with(|| {
            let program = dbgkit_fixtures::path("counter");
            FuzzTarget::new(vec![program.to_string_lossy().into_owned(), "3".into()])
        });
        target.run(text);
    });
});
