//! Variables, types and expressions of a C program (`types.c`: structs,
//! unions, bit-fields, arrays, enums, function pointers, typedefs, globals
//! and function-local statics), compared with gdb at the same stop, and
//! checked against the values the program sets, which do not need gdb.

mod gdb_compare;

use gdb_compare::{compare, stop_at};

const INNER: &str = "types.c:91";

#[test]
fn locals_and_arguments_in_nested_blocks() {
    let mut stopped = stop_at("types", INNER);
    let vars = stopped.s.frame_variables(stopped.pid, stopped.tid, 0).unwrap();
    let text = |name: &str| vars.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("no {name}")).text.clone();
    // The values the program set, whatever gdb says.
    assert_eq!(text("deepest"), "30");
    assert_eq!(text("inner"), "15");
    assert_eq!(text("letter"), "81 'Q'");
    assert_eq!(text("small"), "200 '\\310'");
    assert_eq!(text("big"), "-5000000000");
    assert_eq!(text("p"), "{x = 7, y = 8}");
    assert_eq!(text("local_array"), "{10, 20, 30, 40}");
    let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "s",
            "p",
            "text",
            "small",
            "big",
            "deepest",
            "inner",
            "copy",
            "local_array",
            "letter",
            "ratio",
            "count",
            "where",
            "op"
        ],
        "arguments, then the innermost block's locals first"
    );
    compare(&mut stopped, INNER, 0, &["info args", "info locals"]);
}

#[test]
fn values_of_every_kind_match_gdb() {
    let mut stopped = stop_at("types", INNER);
    let ours = |s: &mut gdb_compare::Stopped, text: &str| s.answer(0, &format!("p {text}"));
    assert_eq!(ours(&mut stopped, "s->bits"), "{low = 5, mid = 17, neg = -3, high = 999999}");
    assert_eq!(ours(&mut stopped, "mode"), "(F_READ | F_WRITE)");
    assert_eq!(ours(&mut stopped, "(enum flags)8"), "(unknown: 0x8)");
    assert_eq!(ours(&mut stopped, "buffer"), "\"abc\", '\\000' <repeats 12 times>");
    assert!(ours(&mut stopped, "first.next->next->name").ends_with(" \"three\""));
    compare(
        &mut stopped,
        INNER,
        0,
        &[
            "p *s",
            "p s->bits",
            "p copy",
            "p text",
            "p s->label",
            "p local_array",
            "p/x local_array",
            "p s->op",
            "p global_shape.op",
            "p first",
            "p *first.next",
            "p first.next->next->name",
            "p counter",
            "p hidden_total",
            "p ratios",
            "p favourite",
            "p mode",
            "p (enum flags)3",
            "p (enum flags)8",
            "p (enum color)7",
            "p mask",
            "p &counter",
            "p &first",
            "p s->grid",
            "p s->grid[1]",
            "p p.x + p.y * 2",
            "p big",
            "p small",
            "p letter",
            "p ratio",
            "p count",
            "p where",
            "p *where",
            "p sizeof(struct shape)",
            "p text[1]",
            "p buffer",
            "p greeting",
            "p s->number",
            "p 10/3",
            "p 10.0/4",
            "p -5 % 3",
            "p 1 == 1",
            "p 'a'",
            "p \"hi\"",
            "p (char)65",
            "p (long)&counter",
            "p (struct node *)&second",
            "p *(struct node *)&second",
            "p ((struct node *)&second)->name",
            "p $pc",
            "p/x 255",
            "p/d 'A'",
            "p/c 65",
            "p/t 10",
            "p/o 8",
            "p/x -1",
            "p/x s->corners",
            "p 3 > 2 && 1",
            "p 5u - 6",
            "p -1 < 0u",
            "p 1.0f",
            "p ratios[1] * 2",
            "p &ratios[1]",
            "p *&ratios[1]",
            "p &s->corners[1]",
            "p global_shape",
            "p copy.cv",
            "p s->visible",
            "p add",
            "p &add",
            "p *add",
            "p main",
        ],
    );
}

#[test]
fn types_match_gdb() {
    let mut stopped = stop_at("types", INNER);
    compare(
        &mut stopped,
        INNER,
        0,
        &[
            "ptype s",
            "ptype struct shape",
            "ptype struct packed_bits",
            "whatis s->grid",
            "whatis s->grid[0]",
            "ptype binary_op",
            "whatis binary_op",
            "ptype union number",
            "ptype enum color",
            "whatis count",
            "ptype count",
            "whatis (unsigned long)1",
            "whatis sizeof(int)",
            "whatis 1 + 1L",
            "whatis 'a' + 1",
            "whatis 1.0f + 1",
            "whatis (char)1 + (char)1",
            "whatis 5u - 6",
            "whatis 10000000000",
            "whatis 0xffffffff",
            "ptype struct node",
            "whatis add",
            "whatis &add",
            "whatis p",
            "whatis where",
            "ptype where",
            "whatis ratios",
        ],
    );
}

#[test]
fn outer_frames_and_statics() {
    let mut stopped = stop_at("types", "visit");
    // `visit` is reached after `inspect`: its static counts the call.
    compare(
        &mut stopped,
        "visit",
        0,
        &[
            "info args",
            "info locals",
            "p visits",
            "p list->name",
            "p *list",
            "up",
            "info locals",
            "p total",
            "p s.label",
            "p p",
        ],
    );
}

#[test]
fn assignments_write_through_the_type() {
    let mut stopped = stop_at("types", INNER);
    let (pid, tid) = (stopped.pid, stopped.tid);
    let s = &mut stopped.s;
    assert_eq!(s.set_variable(pid, tid, 0, "counter", "99").unwrap().text, "99");
    assert_eq!(s.evaluate_typed(pid, tid, 0, "counter").unwrap().text, "99");
    // A bit-field keeps its neighbours.
    s.evaluate_typed(pid, tid, 0, "s->bits.neg = 5").unwrap();
    assert_eq!(s.evaluate_typed(pid, tid, 0, "s->bits").unwrap().text, "{low = 5, mid = 17, neg = 5, high = 999999}");
    s.evaluate_typed(pid, tid, 0, "s->bits.neg = -8").unwrap();
    assert_eq!(s.evaluate_typed(pid, tid, 0, "s->bits.neg").unwrap().text, "-8");
    // Through a pointer, with a conversion.
    s.evaluate_typed(pid, tid, 0, "where->y = 2.9").unwrap();
    assert_eq!(s.evaluate_typed(pid, tid, 0, "*where").unwrap().text, "{x = 3, y = 2}");
    // A float and a char.
    s.evaluate_typed(pid, tid, 0, "ratio = 1.25").unwrap();
    assert_eq!(s.evaluate_typed(pid, tid, 0, "ratio").unwrap().text, "1.25");
    s.evaluate_typed(pid, tid, 0, "letter = 'z'").unwrap();
    assert_eq!(s.evaluate_typed(pid, tid, 0, "letter").unwrap().text, "122 'z'");
    // Not an lvalue.
    let e = s.evaluate_typed(pid, tid, 0, "1 = 2").unwrap_err();
    assert!(e.to_string().contains("not an lvalue"), "{e}");
}

#[test]
fn bad_input_gets_a_clear_error() {
    let mut stopped = stop_at("types", INNER);
    let (pid, tid) = (stopped.pid, stopped.tid);
    let s = &mut stopped.s;
    match s.evaluate_typed(pid, tid, 0, "nosuch + 1") {
        Err(dbgkit::Error::UnknownName(name)) => assert_eq!(name, "nosuch"),
        other => panic!("{other:?}"),
    }
    match s.evaluate_typed(pid, tid, 0, "(struct nosuch *) 0") {
        Err(dbgkit::Error::UnknownType(name)) => assert_eq!(name, "nosuch"),
        other => panic!("{other:?}"),
    }
    match s.evaluate_typed(pid, tid, 0, "p->x +") {
        Err(dbgkit::Error::BadExpression { error, .. }) => assert_eq!(error.column, 7),
        other => panic!("{other:?}"),
    }
    match s.evaluate_typed(pid, tid, 0, "*(int *) 8") {
        Err(dbgkit::Error::UnmappedMemory { address, .. }) => assert_eq!(address, 8),
        other => panic!("{other:?}"),
    }
    assert!(s.find_type(pid, "struct nosuch").is_err());
    let t = s.find_type(pid, "struct node").unwrap();
    assert_eq!(t.size, Some(24));
    let fields: Vec<(String, String, u64)> =
        t.fields.iter().map(|f| (f.name.clone().unwrap(), f.type_name.clone(), f.offset)).collect();
    assert_eq!(
        fields,
        [
            ("value".into(), "int".into(), 0),
            ("name".into(), "const char *".into(), 8),
            ("next".into(), "struct node *".into(), 16)
        ]
    );
    match s.frame_variables(pid, tid, 99) {
        Err(dbgkit::Error::NoSuchFrame { frame: 99, .. }) => {}
        other => panic!("{other:?}"),
    }
}

/// The program with its `.debug_info` damaged (every DIE after the first
/// unit's first bytes overwritten): it still runs and stops, and the source
/// level answers with errors or less, never a panic or a wrong crash.
#[test]
fn damaged_debug_info_gives_errors_not_crashes() {
    use dbgkit::{ContinueStatus, EventKind, Session, SpawnOptions, Stdio};
    use object::{Object, ObjectSection};
    let original = std::fs::read(dbgkit_fixtures::path("types")).unwrap();
    let (offset, size) = {
        let file = object::File::parse(&*original).unwrap();
        file.section_by_name(".debug_info").unwrap().file_range().unwrap()
    };
    let mut damaged = original.clone();
    // Past the unit header (11 or 12 bytes) and the unit's own DIE: garbage.
    for (i, byte) in damaged[offset as usize + 40..(offset + size) as usize].iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("types");
    std::fs::write(&exe, &damaged).unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([&exe]).disable_aslr(true).stdout(Stdio::Null)).unwrap();
    // The symbol table still names main; the damaged DWARF places nothing.
    s.add_breakpoint_at(pid, "types!main", Default::default()).unwrap();
    let tid = loop {
        let e = s.wait_event(Some(std::time::Duration::from_secs(60))).unwrap().expect("an event");
        if matches!(e.kind, EventKind::Breakpoint { .. }) {
            break e.tid;
        }
        assert!(!matches!(e.kind, EventKind::ProcessExited { .. }), "exited before main");
        s.continue_event(ContinueStatus::Handled).unwrap();
    };
    assert!(!s.stack(pid, tid).unwrap().frames.is_empty());
    let _ = s.source_frames(pid, tid);
    if let Ok(variables) = s.frame_variables(pid, tid, 0) {
        for v in variables {
            assert!(!v.name.is_empty());
        }
    }
    for text in ["counter", "first.next->name", "(struct node *) 0", "sizeof(struct shape)"] {
        match s.evaluate_typed(pid, tid, 0, text) {
            Ok(_) => {}
            Err(e) => assert!(!e.to_string().is_empty(), "{text}"),
        }
    }
    let _ = s.find_type(pid, "struct node");
    let _ = s.breakpoint_locations(pid, "types.c:91");
    s.kill(pid).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
