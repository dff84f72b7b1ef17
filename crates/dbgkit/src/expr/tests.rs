//! The language end to end, through the public API and a fake target.

use std::collections::HashMap;

use super::{parse, EvalContext, Expr, ExprError, ExprErrorKind};

/// A target made of three tables, which records what it was asked.
#[derive(Default)]
struct Fake {
    registers: HashMap<String, u64>,
    memory: HashMap<u64, u8>,
    symbols: HashMap<String, u64>,
    reads: Vec<(u64, usize)>,
    symbol_queries: Vec<String>,
}

impl Fake {
    fn new() -> Fake {
        let mut fake = Fake::default();
        let rax = 0x1122_3344_5566_7788u64;
        for (name, value) in [
            ("rax", rax),
            ("eax", rax & 0xffff_ffff),
            ("ax", rax & 0xffff),
            ("al", rax & 0xff),
            ("ah", (rax >> 8) & 0xff),
            ("rsp", 0x7ffe_1000),
            ("rip", 0x40_1000),
            ("r8d", 0x8888),
            ("efl", 0x246),
            ("rdi", 0),
            ("$t0", 42),
        ] {
            fake.registers.insert(name.to_string(), value);
        }
        fake.write(0x7ffe_1000, &0x40_2000u64.to_le_bytes());
        fake.write(0x7ffe_1008, &0xdead_beef_cafe_f00du64.to_le_bytes());
        fake.write(0x40_2000, &0x7ffe_1008u64.to_le_bytes());
        for (name, value) in [
            ("main", 0x40_1130),
            ("libc.so.6!malloc", 0x7f00_0001_0000),
            ("libc!malloc", 0x7f00_0001_0000),
            ("crash!deref", 0x40_1200),
            ("malloc@plt", 0x40_1030),
            ("std::rt::lang_start", 0x40_5000),
            ("Foo::~Foo", 0x40_6000),
            ("file.c:42", 0x40_1144),
            ("crash!file.c:42", 0x40_1144),
            ("src/main.c:7", 0x40_1150),
            ("ld-linux-x86-64.so.2!_dl_start", 0x7f00_0200_0000),
            ("rax", 0xbad),
            ("1f", 0x1f1f),
            ("_start", 0x40_1000),
        ] {
            fake.symbols.insert(name.to_string(), value);
        }
        fake
    }

    fn write(&mut self, address: u64, bytes: &[u8]) {
        for (offset, byte) in bytes.iter().enumerate() {
            self.memory.insert(address + offset as u64, *byte);
        }
    }
}

impl EvalContext for Fake {
    fn register(&mut self, name: &str) -> Option<u64> {
        self.registers.get(name).copied()
    }

    fn read_memory(&mut self, address: u64, size: usize) -> Result<u64, String> {
        self.reads.push((address, size));
        let mut value = 0u64;
        for offset in (0..size).rev() {
            let byte = address
                .checked_add(offset as u64)
                .and_then(|a| self.memory.get(&a))
                .ok_or_else(|| "not mapped".to_string())?;
            value = value << 8 | u64::from(*byte);
        }
        Ok(value)
    }

    fn symbol(&mut self, name: &str) -> Result<u64, String> {
        self.symbol_queries.push(name.to_string());
        self.symbols.get(name).copied().ok_or_else(|| format!("symbol not found: {name}"))
    }
}

fn eval(text: &str) -> u64 {
    let expr = parse(text).unwrap_or_else(|e| panic!("{text:?}: {}", e.pointed(text)));
    expr.evaluate(&mut Fake::new()).unwrap_or_else(|e| panic!("{text:?}: {}", e.pointed(text)))
}

/// The error of parsing, or else of evaluating, `text`.
fn error(text: &str) -> ExprError {
    match parse(text) {
        Err(error) => error,
        Ok(expr) => match expr.evaluate(&mut Fake::new()) {
            Err(error) => error,
            Ok(value) => panic!("{text:?} evaluated to {value:#x}"),
        },
    }
}

/// Column and message, for compact assertions.
fn failure(text: &str) -> (usize, String) {
    let error = error(text);
    (error.column, error.message)
}

#[test]
fn numbers() {
    assert_eq!(eval("0x1f"), 31);
    assert_eq!(eval("0X1F"), 31);
    assert_eq!(eval("0n31"), 31);
    assert_eq!(eval("31"), 31);
    assert_eq!(eval("0"), 0);
    assert_eq!(eval("007"), 7);
    assert_eq!(eval("0y101"), 5);
    assert_eq!(eval("0b101"), 5);
    assert_eq!(eval("0o17"), 15);
    assert_eq!(eval("0t17"), 15);
    assert_eq!(eval("0x7fff`ffff"), 0x7fff_ffff);
    assert_eq!(eval("0x7fff_ffff"), 0x7fff_ffff);
    assert_eq!(eval("1_000"), 1000);
    assert_eq!(eval("0y1111`0000"), 0xf0);
    assert_eq!(eval("0xffffffffffffffff"), u64::MAX);
    assert_eq!(eval("18446744073709551615"), u64::MAX);
}

#[test]
fn a_word_starting_with_a_digit_that_is_no_number_is_a_symbol() {
    let mut fake = Fake::new();
    assert_eq!(parse("1f").unwrap().evaluate(&mut fake).unwrap(), 0x1f1f);
    assert_eq!(fake.symbol_queries, ["1f"]);
    assert_eq!(failure("1 + 10a"), (5, "symbol not found: 10a".to_string()));
}

#[test]
fn bad_numbers() {
    assert_eq!(
        failure("0x1_0000_0000_0000_0000"),
        (1, "number too large for 64 bits: `0x1_0000_0000_0000_0000`".into())
    );
    assert_eq!(failure("1 + 18446744073709551616"), (5, "number too large for 64 bits: `18446744073709551616`".into()));
    assert_eq!(failure("(0y102)"), (6, "invalid digit `2` in binary number `0y102`".into()));
    assert_eq!(failure("0o8"), (3, "invalid digit `8` in octal number `0o8`".into()));
    assert_eq!(failure("0x12g4"), (5, "invalid digit `g` in hexadecimal number `0x12g4`".into()));
    assert_eq!(failure("2 * 0x"), (5, "expected digits after `0x`".into()));
    assert_eq!(error("0x").kind, ExprErrorKind::Syntax);
}

#[test]
fn registers() {
    let rax = 0x1122_3344_5566_7788;
    assert_eq!(eval("rax"), rax);
    assert_eq!(eval("RAX"), rax);
    assert_eq!(eval("@rax"), rax);
    assert_eq!(eval("@Rax"), rax);
    assert_eq!(eval("eax"), 0x5566_7788);
    assert_eq!(eval("ax"), 0x7788);
    assert_eq!(eval("al"), 0x88);
    assert_eq!(eval("ah"), 0x77);
    assert_eq!(eval("r8d"), 0x8888);
    assert_eq!(eval("efl"), 0x246);
    assert_eq!(eval("rip"), 0x40_1000);
    assert_eq!(eval("@$ip"), 0x40_1000);
    assert_eq!(eval("$ip"), 0x40_1000);
    assert_eq!(eval("$sp"), 0x7ffe_1000);
    assert_eq!(eval("@$csp"), 0x7ffe_1000);
    assert_eq!(eval("$retreg"), rax);
    // Pseudo-registers the module does not know are asked of the context.
    assert_eq!(eval("$t0 + 1"), 43);
}

#[test]
fn a_bare_name_is_a_register_before_it_is_a_symbol() {
    let mut fake = Fake::new();
    // The fake has a symbol named `rax` too: the register wins.
    assert_eq!(parse("rax").unwrap().evaluate(&mut fake).unwrap(), 0x1122_3344_5566_7788);
    assert!(fake.symbol_queries.is_empty());
    assert_eq!(parse("main").unwrap().evaluate(&mut fake).unwrap(), 0x40_1130);
    assert_eq!(fake.symbol_queries, ["main"]);
}

#[test]
fn unknown_registers() {
    assert_eq!(failure("1 + @rbx"), (5, "unknown register @rbx".into()));
    assert_eq!(failure("@$foo"), (1, "unknown pseudo-register @$foo".into()));
    assert_eq!(failure("  $foo"), (3, "unknown pseudo-register $foo".into()));
    assert_eq!(error("@rbx").kind, ExprErrorKind::UnknownRegister);
    assert_eq!(failure("1 + @"), (5, "expected a register name after `@`".into()));
    assert_eq!(failure("@5"), (1, "expected a register name after `@`".into()));
}

#[test]
fn symbols() {
    assert_eq!(eval("main"), 0x40_1130);
    assert_eq!(eval("_start"), 0x40_1000);
    assert_eq!(eval("libc.so.6!malloc"), 0x7f00_0001_0000);
    assert_eq!(eval("libc!malloc"), 0x7f00_0001_0000);
    assert_eq!(eval("crash!deref"), 0x40_1200);
    assert_eq!(eval("crash!deref+0x10"), 0x40_1210);
    assert_eq!(eval("malloc@plt"), 0x40_1030);
    assert_eq!(eval("std::rt::lang_start"), 0x40_5000);
    assert_eq!(eval("Foo::~Foo"), 0x40_6000);
    assert_eq!(eval("file.c:42"), 0x40_1144);
    assert_eq!(eval("crash!file.c:42"), 0x40_1144);
    assert_eq!(eval("file.c:42+1"), 0x40_1145);
    assert_eq!(eval("`src/main.c:7`"), 0x40_1150);
    assert_eq!(eval("`ld-linux-x86-64.so.2!_dl_start` + 4"), 0x7f00_0200_0004);
    // `!=` after a name is an operator, not a module separator.
    assert_eq!(eval("rax!=0"), 1);
    assert_eq!(eval("main-_start"), 0x130);
}

#[test]
fn unresolved_symbols_report_the_contexts_message_at_the_symbol() {
    assert_eq!(failure("rsp + nosuch"), (7, "symbol not found: nosuch".into()));
    assert_eq!(failure("1+libc!nosuch"), (3, "symbol not found: libc!nosuch".into()));
    assert_eq!(failure("1+ `a b`"), (4, "symbol not found: a b".into()));
    assert_eq!(error("nosuch").kind, ExprErrorKind::Symbol);

    struct Silent;
    impl EvalContext for Silent {
        fn register(&mut self, _: &str) -> Option<u64> {
            None
        }
        fn read_memory(&mut self, _: u64, _: usize) -> Result<u64, String> {
            Err(String::new())
        }
        fn symbol(&mut self, _: &str) -> Result<u64, String> {
            Err(String::new())
        }
    }
    let error = parse("x").unwrap().evaluate(&mut Silent).unwrap_err();
    assert_eq!(error.message, "cannot resolve symbol x");
}

#[test]
fn memory_functions() {
    assert_eq!(eval("poi(rsp)"), 0x40_2000);
    assert_eq!(eval("qwo(rsp+8)"), 0xdead_beef_cafe_f00d);
    assert_eq!(eval("dwo(rsp+8)"), 0xcafe_f00d);
    assert_eq!(eval("wo(rsp+8)"), 0xf00d);
    assert_eq!(eval("by(rsp+8)"), 0x0d);
    assert_eq!(eval("by(rsp+0xf)"), 0xde);
    assert_eq!(eval("POI(rsp)"), 0x40_2000);
    assert_eq!(eval("poi ( rsp )"), 0x40_2000);
    assert_eq!(eval("poi(poi(poi(rsp)))"), 0xdead_beef_cafe_f00d);
    // A name that is not followed by `(` is not a function.
    assert_eq!(failure("by"), (1, "symbol not found: by".into()));
}

#[test]
fn memory_reads_keep_only_the_bytes_asked_for() {
    struct Sloppy;
    impl EvalContext for Sloppy {
        fn register(&mut self, _: &str) -> Option<u64> {
            None
        }
        fn read_memory(&mut self, _: u64, _: usize) -> Result<u64, String> {
            Ok(u64::MAX)
        }
        fn symbol(&mut self, _: &str) -> Result<u64, String> {
            Err("none".into())
        }
    }
    let value = |text: &str| parse(text).unwrap().evaluate(&mut Sloppy).unwrap();
    assert_eq!(value("by(0)"), 0xff);
    assert_eq!(value("wo(0)"), 0xffff);
    assert_eq!(value("dwo(0)"), 0xffff_ffff);
    assert_eq!(value("poi(0)"), u64::MAX);
}

#[test]
fn failed_reads_point_at_the_function() {
    assert_eq!(failure("1 + dwo(0xdead)"), (5, "dwo: cannot read 4 bytes at 0xdead: not mapped".into()));
    assert_eq!(failure("by(0)"), (1, "by: cannot read 1 byte at 0x0: not mapped".into()));
    assert_eq!(failure("poi(poi(rsp)+8)"), (1, "poi: cannot read 8 bytes at 0x402008: not mapped".into()));
    assert_eq!(error("poi(0)").kind, ExprErrorKind::Memory);
}

#[test]
fn unknown_functions() {
    assert_eq!(failure("foo(1)"), (1, "unknown function foo".into()));
    assert_eq!(failure("1 + rax (2)"), (5, "unknown function rax".into()));
    assert_eq!(failure("1 + libc!x(2)"), (5, "unknown function libc!x".into()));
}

#[test]
fn unary_operators() {
    assert_eq!(eval("-1"), u64::MAX);
    assert_eq!(eval("--1"), 1);
    assert_eq!(eval("+5"), 5);
    assert_eq!(eval("~0"), u64::MAX);
    assert_eq!(eval("~0xff & 0xfff"), 0xf00);
    assert_eq!(eval("!0"), 1);
    assert_eq!(eval("!5"), 0);
    assert_eq!(eval("!!5"), 1);
    assert_eq!(eval("-~0"), 1);
}

#[test]
fn binary_operators() {
    assert_eq!(eval("6 * 7"), 42);
    assert_eq!(eval("43 / 7"), 6);
    assert_eq!(eval("43 % 7"), 1);
    assert_eq!(eval("40 + 2"), 42);
    assert_eq!(eval("44 - 2"), 42);
    assert_eq!(eval("1 << 4"), 16);
    assert_eq!(eval("0x100 >> 4"), 16);
    assert_eq!(eval("0xf0 & 0x3c"), 0x30);
    assert_eq!(eval("0xf0 ^ 0x3c"), 0xcc);
    assert_eq!(eval("0xf0 | 0x0f"), 0xff);
    assert_eq!(eval("3 == 3"), 1);
    assert_eq!(eval("3 == 4"), 0);
    assert_eq!(eval("3 != 4"), 1);
    assert_eq!(eval("3 < 4"), 1);
    assert_eq!(eval("4 < 4"), 0);
    assert_eq!(eval("4 <= 4"), 1);
    assert_eq!(eval("5 > 4"), 1);
    assert_eq!(eval("4 >= 5"), 0);
    assert_eq!(eval("5 && 7"), 1);
    assert_eq!(eval("5 && 0"), 0);
    assert_eq!(eval("0 || 9"), 1);
    assert_eq!(eval("0 || 0"), 0);
}

#[test]
fn arithmetic_wraps_and_compares_unsigned() {
    assert_eq!(eval("0xffffffffffffffff + 1"), 0);
    assert_eq!(eval("0 - 1"), u64::MAX);
    assert_eq!(eval("0x8000000000000000 * 2"), 0);
    assert_eq!(eval("-1 > 0"), 1);
    assert_eq!(eval("-1 / 2"), u64::MAX / 2);
    assert_eq!(eval("-1 >> 63"), 1);
    assert_eq!(eval("1 << 63"), 1 << 63);
    assert_eq!(eval("1 << 64"), 0);
    assert_eq!(eval("1 << -1"), 0);
    assert_eq!(eval("-1 >> 64"), 0);
}

#[test]
fn precedence_and_grouping() {
    assert_eq!(eval("1 + 2 * 3"), 7);
    assert_eq!(eval("(1 + 2) * 3"), 9);
    assert_eq!(eval("10 - 3 - 2"), 5);
    assert_eq!(eval("100 / 10 / 5"), 2);
    assert_eq!(eval("1 << 2 + 1"), 8);
    assert_eq!(eval("2 < 3 == 1"), 1);
    assert_eq!(eval("6 & 3 == 3"), 0);
    assert_eq!(eval("1 | 2 ^ 3 & 1"), 3);
    assert_eq!(eval("1 || 0 && 0"), 1);
    assert_eq!(eval("1 + 1 == 2 && 3 > 2"), 1);
    assert_eq!(eval("-2 * -3"), 6);
    assert_eq!(eval("!0 + 1"), 2);
    assert_eq!(eval("poi(rsp) - 0x2000 == 0x400000"), 1);
    assert_eq!(eval(" \t( 1\n+\r\n2 ) "), 3);
}

#[test]
fn logical_operators_short_circuit() {
    for (text, expected) in [("0 && poi(0)", 0), ("1 || poi(0)", 1), ("rdi && by(rdi) == 0x41", 0)] {
        let mut fake = Fake::new();
        assert_eq!(parse(text).unwrap().evaluate(&mut fake).unwrap(), expected, "{text}");
        assert!(fake.reads.is_empty(), "{text} read {:?}", fake.reads);
    }
    for text in ["1 && nosuch", "0 || nosuch"] {
        assert_eq!(error(text).kind, ExprErrorKind::Symbol, "{text}");
    }
    let mut fake = Fake::new();
    assert!(parse("1 && poi(0)").unwrap().evaluate(&mut fake).is_err());
    assert_eq!(fake.reads, [(0, 8)]);
}

#[test]
fn evaluation_goes_left_to_right_and_stops_at_the_first_error() {
    let mut fake = Fake::new();
    let error = parse("one + two").unwrap().evaluate(&mut fake).unwrap_err();
    assert_eq!(error.column, 1);
    assert_eq!(fake.symbol_queries, ["one"]);
}

#[test]
fn division_by_zero_points_at_the_operator() {
    assert_eq!(failure("10 / 0"), (4, "division by zero".into()));
    assert_eq!(failure("10 % (1 - 1)"), (4, "remainder by zero".into()));
    assert_eq!(failure("1 + 8/0"), (6, "division by zero".into()));
    assert_eq!(error("1/0").kind, ExprErrorKind::DivisionByZero);
}

#[test]
fn syntax_errors_and_their_columns() {
    let cases: [(&str, usize, &str); 22] = [
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
        ("1 # 2", 3, "unexpected character `#`"),
        ("rax = 1", 5, "unexpected character `=` (did you mean `==`?)"),
        ("poi(1, 2)", 6, "unexpected character `,`"),
        ("main:12", 5, "unexpected character `:`"),
        ("(1 + 2", 1, "unbalanced parenthesis: this `(` is never closed"),
        ("((1)", 1, "unbalanced parenthesis: this `(` is never closed"),
        ("1 + (2 * (3)", 5, "unbalanced parenthesis: this `(` is never closed"),
        ("poi(rsp", 4, "unbalanced parenthesis: this `(` is never closed"),
        ("1 + 2)", 6, "unbalanced parenthesis: this `)` has no matching `(`"),
        (")", 1, "expected an operand"),
        ("(1 2)", 4, "expected an operator or `)`, found `2`"),
        ("1 2", 3, "trailing input `2`: expected an operator"),
        ("poi(rsp) rbx", 10, "trailing input `rbx`: expected an operator"),
        ("poi(rsp+)", 9, "expected an operand"),
        ("1 +", 4, "expected an operand"),
        ("1 + ", 5, "expected an operand"),
        ("* 2", 1, "expected an operand"),
        ("()", 2, "expected an operand"),
        ("1 + `abc", 5, "unterminated quoted name: no closing backtick"),
        ("``", 1, "empty quoted name"),
    ];
    for (text, column, message) in cases {
        let error = error(text);
        assert_eq!((error.column, error.message.as_str()), (column, message), "{text:?}");
        assert_eq!(error.kind, ExprErrorKind::Syntax, "{text:?}");
    }
}

#[test]
fn the_leftmost_error_is_reported() {
    // The missing operand comes before the stray character.
    assert_eq!(failure("poi(rsp+) #").0, 9);
    assert_eq!(failure("1 + # ) ==").0, 5);
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(failure("é + #"), (5, "unexpected character `#`".into()));
    assert_eq!(failure("1 + ünknown"), (5, "symbol not found: ünknown".into()));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for text in [
        "(".repeat(100_000),
        format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("{}1", "-".repeat(100_000)),
        format!("{}1", "!~".repeat(50_000)),
        format!("{}1", "1+".repeat(100_000)),
        format!("{}1", "poi(".repeat(100_000)),
    ] {
        let error = parse(&text).unwrap_err();
        assert!(error.message.starts_with("expression too complex"), "{}", error.message);
    }
    // Long but shallow is fine.
    assert_eq!(eval(&format!("{}1", "1+".repeat(200))), 201);
}

#[test]
fn display_and_error_trait() {
    let error = parse("poi(rsp+)").unwrap_err();
    assert_eq!(error.to_string(), "column 9: expected an operand");
    let dynamic: &dyn std::error::Error = &error;
    assert!(dynamic.source().is_none());
}

#[test]
fn pointed_puts_a_caret_under_the_column() {
    let text = "poi(rsp+)";
    assert_eq!(parse(text).unwrap_err().pointed(text), "poi(rsp+)\n        ^ expected an operand");
    // At the end of the text.
    let text = "1 +";
    assert_eq!(parse(text).unwrap_err().pointed(text), "1 +\n   ^ expected an operand");
    // Tabs are kept so the caret lines up.
    let text = "\t1 +\t#";
    assert_eq!(parse(text).unwrap_err().pointed(text), "\t1 +\t#\n\t   \t^ unexpected character `#`");
    // Only the line holding the column is shown.
    let text = "1 +\n 2 #\n";
    assert_eq!(parse(text).unwrap_err().pointed(text), " 2 #\n   ^ unexpected character `#`");
    // A column past the text (the wrong text given) still renders.
    let error = ExprError::syntax(10, "far");
    assert_eq!(error.pointed("ab"), "ab\n         ^ far");
    assert_eq!(ExprError::syntax(0, "zero").pointed(""), "\n^ zero");
}

#[test]
fn expr_keeps_its_text() {
    let expr: Expr = " poi(rsp) + 8 ".parse().unwrap();
    assert_eq!(expr.text(), " poi(rsp) + 8 ");
    assert_eq!(expr.to_string(), " poi(rsp) + 8 ");
    // Parsed once, evaluated many times.
    let mut fake = Fake::new();
    assert_eq!(expr.evaluate(&mut fake).unwrap(), 0x40_2008);
    fake.registers.insert("rsp".into(), 0x7ffe_1008);
    assert_eq!(expr.evaluate(&mut fake).unwrap(), 0xdead_beef_cafe_f015);
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Checks what must hold for any text: no panic, a column inside the text
/// (or just past it), a message, and a renderable caret.
fn check_any(text: &str, fake: &mut Fake) {
    let length = text.chars().count();
    let result = parse(text).and_then(|expr| {
        assert_eq!(expr.text(), text);
        expr.evaluate(fake)
    });
    if let Err(error) = result {
        assert!((1..=length + 1).contains(&error.column), "{text:?}: column {} of {length}", error.column);
        assert!(!error.message.is_empty(), "{text:?}");
        assert!(error.pointed(text).contains('^'), "{text:?}");
    }
}

#[test]
fn random_characters_never_panic() {
    let alphabet: Vec<char> = "0123456789abcfxnyotABXZ_$@!:.`()+-*/%<>=&|^~, \t\n#é\u{0}".chars().collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut fake = Fake::new();
    for _ in 0..5000 {
        let length = rng.below(24);
        let text: String = (0..length).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        check_any(&text, &mut fake);
    }
}

#[test]
fn random_fragments_never_panic() {
    // Pieces of real syntax reach deeper into the parser than characters.
    let fragments = [
        "poi(",
        "by(",
        "dwo(",
        "foo(",
        "(",
        ")",
        ")",
        "rax",
        "@rax",
        "@$ip",
        "$sp",
        "$x",
        "@",
        "main",
        "libc!malloc",
        "a.so!",
        "std::",
        "::",
        "::~",
        "file.c:",
        "42",
        "0x",
        "0xffffffffffffffff",
        "0n",
        "0y1",
        "1f",
        "`",
        "`a b`",
        "_",
        "+",
        "-",
        "*",
        "/",
        "%",
        "<<",
        ">>",
        "&",
        "&&",
        "|",
        "||",
        "^",
        "~",
        "!",
        "!=",
        "==",
        "<",
        "<=",
        ">",
        ">=",
        " ",
        "0",
        "1",
        "99999999999999999999",
        "=",
        "é",
        "\t",
    ];
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut fake = Fake::new();
    let mut parsed = 0;
    for _ in 0..5000 {
        let count = rng.below(16);
        let text: String = (0..count).map(|_| fragments[rng.below(fragments.len())]).collect();
        parsed += usize::from(parse(&text).is_ok());
        check_any(&text, &mut fake);
    }
    // The generator is worth something only if some texts are valid.
    assert!(parsed > 50, "only {parsed} of 5000 parsed");
}
