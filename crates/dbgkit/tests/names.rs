//! Names as people type them, resolved where gdb resolves them: C++
//! qualified names with and without parameters, template instances,
//! destructors, operators; module names with `-`, `+` and `.` in
//! expressions, quoted or not; names defined in several modules (`openat`,
//! `memcpy`), which are not refused as ambiguous.

mod gdb_compare;

use gdb_compare::{gdb_outputs, stop_at};
use std::collections::BTreeMap;

/// gdb's `info breakpoints` table: the addresses of each breakpoint number.
fn gdb_addresses(table: &str) -> BTreeMap<u32, Vec<u64>> {
    let mut out: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for line in table.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        let number: u32 = match first.split('.').next().and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => continue,
        };
        if let Some(address) = line.split_whitespace().find_map(|w| w.strip_prefix("0x")) {
            out.entry(number).or_default().push(u64::from_str_radix(address, 16).unwrap());
        }
    }
    for v in out.values_mut() {
        v.sort_unstable();
    }
    out
}

#[test]
fn breakpoints_on_cpp_names_and_shared_names_go_where_gdb_puts_them() {
    let mut stopped = stop_at("classes", "main");
    let specs = [
        "openat",
        "memcpy",
        "geometry::Square::area",
        "Square::area",
        "geometry::twice<int>",
        "geometry::Square::~Square",
        "geometry::Point::operator+",
        "geometry::twice<int>(int)",
        "area",
        "classes.cpp:64",
    ];
    let mut ours = Vec::new();
    for spec in specs {
        let mut addresses: Vec<u64> =
            stopped.s.breakpoint_locations(stopped.pid, spec).unwrap().iter().map(|l| l.address).collect();
        addresses.sort_unstable();
        ours.push(addresses);
    }
    // Not refused as ambiguous: one address stands for each name in expressions.
    let openat = stopped.s.lookup(stopped.pid, "openat").unwrap();
    assert!(ours[0].contains(&openat));
    let libc = stopped.s.lookup(stopped.pid, "libc.so.6!openat").unwrap();
    assert_eq!(openat, libc, "the exported definition wins over the loader's private copy");
    stopped.s.lookup(stopped.pid, "memcpy").unwrap();
    assert_eq!(ours[0].len(), 2);
    assert_eq!(ours[5].len(), 2, "the complete and the deleting destructor");
    assert_eq!(ours[2], ours[3]);
    assert_eq!(ours[2], ours[8]);
    assert_eq!(ours[4], ours[7]);
    let mut commands: Vec<String> = specs.iter().map(|s| format!("break {s}")).collect();
    commands.push("info breakpoints".into());
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    if let Some(gdb) = gdb_outputs(&stopped.exe, "main", &commands) {
        let table = gdb_addresses(gdb.last().unwrap());
        for (i, spec) in specs.iter().enumerate() {
            let number = i as u32 + 2;
            assert_eq!(
                table.get(&number),
                Some(&ours[i]),
                "{spec}: gdb's {:x?}, ours {:x?}",
                table.get(&number),
                ours[i]
            );
        }
    }
}

#[test]
fn module_names_with_signs_in_expressions() {
    let mut stopped = stop_at("classes", "main");
    let pid = stopped.pid;
    let s = &mut stopped.s;
    let throw = s.lookup(pid, "__cxa_throw").unwrap();
    assert_eq!(s.resolve(pid, "libstdc++.so.6!__cxa_throw").unwrap(), throw);
    assert_eq!(s.resolve(pid, "\"libstdc++.so.6\"!__cxa_throw").unwrap(), throw);
    assert_eq!(s.resolve(pid, "libstdc++.so.6!__cxa_throw+0x10").unwrap(), throw + 0x10);
    let map_object = s.resolve(pid, "ld-linux-x86-64.so.2!_dl_map_object").unwrap();
    assert_eq!(s.lookup(pid, "ld-linux-x86-64.so.2!_dl_map_object").unwrap(), map_object);
    // The same signs stay arithmetic where no module has the name.
    let malloc = s.lookup(pid, "libc.so.6!malloc").unwrap();
    assert_eq!(s.resolve(pid, "0x10+libc.so.6!malloc").unwrap(), malloc + 0x10);
    match s.resolve(pid, "\"libnothing-1.so\"!f") {
        Err(dbgkit::Error::NoSuchModule(name)) => assert_eq!(name, "libnothing-1.so"),
        other => panic!("{other:?}"),
    }
    // C++ names in expressions and lookups, without parameters.
    let area = s.lookup(pid, "geometry::Square::area").unwrap();
    assert_eq!(s.lookup(pid, "Square::area").unwrap(), area);
    assert_eq!(s.lookup(pid, "classes!geometry::Square::area").unwrap(), area);
    let found = s.search_symbols(pid, "^geometry::twice<.*>$", Some("classes")).unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
}
