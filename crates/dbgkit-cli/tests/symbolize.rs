//! `dbgkit symbolize` against binutils `addr2line -f -i -C`: the same
//! answers, discriminators included; bad input lines answered `??` as
//! addr2line does; a file that is not ELF is an error with status 1.

mod support;

use object::{Object, ObjectSymbol};
use support::{fixture, run_program, temp_file, DBGKIT};

fn answers(program: &str, args: &[&str], exe: &str, input: &str) -> (i32, String, String) {
    let mut all = args.to_vec();
    all.push(exe);
    let run = run_program(program, &all, input);
    (run.code, run.out, run.err)
}

#[test]
fn every_address_of_a_function_with_discriminators_reads_as_addr2line_says() {
    let exe = fixture("discriminator");
    let data = std::fs::read(&exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let f = file.symbols().find(|s| s.name() == Ok("f")).expect("f in the symbol table");
    let mut input: String = (f.address()..f.address() + f.size()).map(|a| format!("{a:#x}\n")).collect();
    // Lines that are not addresses: answered as address 0 (or the hex digits they start with).
    input.push_str("zzz\n\n12zz\n");
    let exe = exe.to_str().unwrap();
    let (code, ours, err) = answers(DBGKIT, &["symbolize", "-e"], exe, &input);
    assert_eq!(code, 0, "{err}");
    let (_, theirs, _) = answers("addr2line", &["-f", "-i", "-C", "-e"], exe, &input);
    assert!(theirs.contains("(discriminator "), "the fixture has discriminators: {theirs}");
    assert_eq!(ours, theirs);
}

#[test]
fn a_file_that_is_not_elf_is_an_error() {
    let text = temp_file("not-elf.txt", "just text\n");
    let (code, out, err) = answers(DBGKIT, &["symbolize", "-e"], text.to_str().unwrap(), "0x10\n");
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("file format not recognized"), "{err}");
    let (code, _, err) = answers(DBGKIT, &["symbolize", "-e"], "/no/such/file", "");
    assert_eq!(code, 1);
    assert!(err.contains("No such file"), "{err}");
}
