//! Variables, types and expressions of a Rust program (`rusty.rs`:
//! structs, C-like enums and enums with data, `Option`, references,
//! slices, `Vec`, `String`, `&str`, tuples, `Box`), compared with gdb
//! running rust-gdb's pretty printers at the same stop.

mod gdb_compare;

use gdb_compare::{compare, stop_at};

const LINE: &str = "rusty.rs:48";

#[test]
fn rust_values_print_as_rust_gdb_shows_them() {
    let mut stopped = stop_at("rusty", LINE);
    assert_eq!(stopped.answer(0, "p player.name"), "\"ferris\"");
    assert_eq!(stopped.answer(0, "p player.tags"), "Vec(size=2) = {\"crab\", \"rust\"}");
    assert_eq!(stopped.answer(0, "p player.best"), "core::option::Option<u32>::Some(42)");
    assert_eq!(stopped.answer(0, "p player.shape"), "rusty::Shape::Rect(3, 4)");
    assert_eq!(stopped.answer(0, "p numbers"), "&[i32](size=3) = {5, 6, 7}");
    assert_eq!(stopped.answer(0, "p numbers[2]"), "7");
    assert_eq!(stopped.answer(0, "p player.tags[1]"), "\"rust\"");
    assert_eq!(stopped.answer(0, "p label"), "\"hello\"");
    compare(
        &mut stopped,
        LINE,
        0,
        &[
            "info args",
            "info locals",
            "p *player",
            "p player.name",
            "p player.tags",
            "p player.best",
            "p player.nothing",
            "p player.shape",
            "p player.facing",
            "p numbers",
            "p label",
            "p *shapes",
            "p shapes",
            "p boxed",
            "p *boxed",
            "p pair",
            "p player.score + 1",
            "p player.alive",
            "ptype player",
            "ptype rusty::Player",
            "ptype rusty::Shape",
            "whatis numbers",
            "whatis player.best",
            "whatis player.score",
        ],
    );
}

#[test]
fn a_function_in_a_module_by_its_path() {
    let mut stopped = stop_at("rusty", "rusty::scoring::bonus");
    let frames = stopped.s.source_frames(stopped.pid, stopped.tid).unwrap();
    assert_eq!(frames[0].function.as_deref(), Some("rusty::scoring::bonus"));
    assert_eq!(stopped.answer(0, "p base"), "-12");
    compare(&mut stopped, "rusty::scoring::bonus", 0, &["info args", "info locals", "p *factor", "p base * *factor"]);
}
