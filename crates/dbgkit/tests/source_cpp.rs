//! Variables, types and expressions of a C++ program (`classes.cpp`:
//! classes with a base class and virtual functions, a template, namespaces,
//! references, an `enum class`, `std::string` and `std::vector` shown by
//! their contents), compared with gdb (with libstdc++'s printers, which gdb
//! loads by itself) at the same stop.

mod gdb_compare;

use gdb_compare::{compare, stop_at};

#[test]
fn a_method_sees_its_object_and_members() {
    let mut stopped = stop_at("classes", "geometry::Square::area");
    let frames = stopped.s.source_frames(stopped.pid, stopped.tid).unwrap();
    assert_eq!(frames[0].function.as_deref(), Some("geometry::Square::area"));
    assert_eq!(stopped.answer(0, "p side_"), "7");
    assert_eq!(stopped.answer(0, "p origin_"), "{x = 1, y = 2}");
    compare(
        &mut stopped,
        "geometry::Square::area",
        0,
        &[
            "info args",
            "p *this",
            "p this->side_",
            "p side_",
            "p origin_",
            "p name_",
            "p id_ + side_",
            "ptype this",
            "ptype geometry::Square",
            "ptype geometry::Shape",
            "whatis *this",
            "whatis this",
            "p geometry::Shape::next_id",
            "p next_id",
            "ptype geometry::Point",
            "whatis origin_",
            "up",
            "info locals",
            "p square",
            "p shape",
            "p a",
            "p c",
        ],
    );
}

#[test]
fn a_template_instance_by_name() {
    let mut stopped = stop_at("classes", "geometry::twice<int>");
    assert_eq!(stopped.answer(0, "p value"), "21");
    compare(
        &mut stopped,
        "geometry::twice<int>",
        0,
        &["info args", "p value + 1", "whatis value", "whatis geometry::twice<int>"],
    );
}

#[test]
fn containers_and_references_print_by_their_contents() {
    let mut stopped = stop_at("classes", "report");
    assert_eq!(stopped.answer(0, "p inventory.owner"), "\"alice\"");
    assert_eq!(stopped.answer(0, "p inventory.counts"), "std::vector of length 3, capacity 3 = {3, 1, 4}");
    assert_eq!(stopped.answer(0, "p inventory.counts[1]"), "1");
    assert_eq!(stopped.answer(0, "p inventory.level"), "Level::High");
    compare(
        &mut stopped,
        "report",
        0,
        &[
            "info args",
            "p inventory",
            "p inventory.owner",
            "p inventory.counts",
            "p inventory.tags",
            "p inventory.level",
            "p title",
            "p total",
            "p inventory.anchor",
            "p inventory.anchor.x",
            "ptype inventory",
            "ptype Inventory",
            "p sizeof(Inventory)",
            "whatis inventory.counts",
            "p (Level)1",
            "p (Level)7",
            "p/x inventory.level",
            "whatis inventory",
            "whatis total",
        ],
    );
}

#[test]
fn assignment_through_a_reference() {
    let mut stopped = stop_at("classes", "report");
    let (pid, tid) = (stopped.pid, stopped.tid);
    stopped.s.evaluate_typed(pid, tid, 0, "total = 41").unwrap();
    assert_eq!(stopped.answer(0, "p total"), stopped.answer(0, "p total"));
    let text = stopped.s.evaluate_typed(pid, tid, 0, "total + 1").unwrap().text;
    assert_eq!(text, "42");
    stopped.s.evaluate_typed(pid, tid, 0, "inventory.anchor.y = -6").unwrap();
    assert_eq!(stopped.answer(0, "p inventory.anchor"), stopped.answer(0, "p inventory.anchor"));
    assert!(stopped.answer(0, "p inventory.anchor").ends_with("{x = 4, y = -6}"));
}
