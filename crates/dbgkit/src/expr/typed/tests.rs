//! The typed language end to end over a fake target: a few variables of C
//! types in a small memory, printed the way gdb prints them.

use super::{parse, TypeOracle, TypedContext};
use crate::debuginfo::format::{format_value, FormatOptions, FormatTarget, Position};
use crate::debuginfo::pretty::Printed;
use crate::debuginfo::types::{
    Access, BaseKind, Composite, CompositeKind, Language, Member, Type, TypeId, TypeKind, TypeTable,
};
use crate::debuginfo::value::{Place, Value, ValueError, ValueTarget};
use crate::expr::ExprErrorKind;
use std::collections::HashMap;

struct Fake {
    types: TypeTable,
    memory: HashMap<u64, u8>,
    variables: HashMap<String, Value>,
    named_types: HashMap<String, TypeId>,
    writes: Vec<(Place, Vec<u8>)>,
}

const NODE_A: u64 = 0x1000;
const NODE_B: u64 = 0x1010;
const ARRAY: u64 = 0x2000;
const TEXT: u64 = 0x3000;

impl Fake {
    fn new() -> Fake {
        let types = TypeTable::new();
        let int = types.base("int", 4, BaseKind::Signed, Language::C);
        let char_ = types.base("char", 1, BaseKind::SignedChar, Language::C);
        let unsigned = types.base("unsigned int", 4, BaseKind::Unsigned, Language::C);
        let long = types.base("long", 8, BaseKind::Signed, Language::C);
        let node = types.add(Type::new(Some("node".into()), Some(16), TypeKind::Void, Language::C));
        let node_ptr = types.pointer_to(node);
        let member = |name: &str, ty, offset| Member {
            name: Some(name.into()),
            ty,
            offset,
            bits: None,
            is_base: false,
            is_virtual_base: false,
            is_static: false,
            access: Access::Public,
            artificial: false,
        };
        // `struct node { int value; struct node *next; }`, made after its pointer type.
        let node_def = node;
        types.set(
            node,
            Type::new(
                Some("node".into()),
                Some(16),
                TypeKind::Composite(Composite {
                    kind: CompositeKind::Struct,
                    members: vec![member("value", int, 0), member("next", node_ptr, 8)],
                    methods: vec![],
                    declaration: false,
                    variants: None,
                    template_types: vec![],
                }),
                Language::C,
            ),
        );
        let mut fake = Fake {
            types,
            memory: HashMap::new(),
            variables: HashMap::new(),
            named_types: HashMap::new(),
            writes: Vec::new(),
        };
        // A pointer type to the real definition.
        let def_ptr = fake.types.pointer_to(node_def);
        fake.write(NODE_A, &7i32.to_le_bytes());
        fake.write(NODE_A + 8, &NODE_B.to_le_bytes());
        fake.write(NODE_B, &(-3i32).to_le_bytes());
        fake.write(NODE_B + 8, &0u64.to_le_bytes());
        for i in 0..4 {
            fake.write(ARRAY + 4 * i, &((i as i32 + 1) * 10).to_le_bytes());
        }
        fake.write(TEXT, b"hi there\0");
        let array = fake.types.array_of(int, Some(4));
        fake.variables.insert("head".into(), Value::from_bytes(def_ptr, NODE_A.to_le_bytes().to_vec()));
        fake.variables.insert("arr".into(), Value::at(array, ARRAY));
        fake.variables.insert("n".into(), Value::at(int, ARRAY + 4));
        fake.variables.insert("u".into(), Value::from_bytes(unsigned, 5u32.to_le_bytes().to_vec()));
        fake.variables.insert("big".into(), Value::from_bytes(long, (-5_000_000_000i64).to_le_bytes().to_vec()));
        let char_ptr = fake.types.pointer_to(char_);
        fake.variables.insert("text".into(), Value::from_bytes(char_ptr, TEXT.to_le_bytes().to_vec()));
        fake.variables.insert("gone".into(), Value::optimized_out(int));
        fake.named_types.insert("int".into(), int);
        fake.named_types.insert("long".into(), long);
        fake.named_types.insert("char".into(), char_);
        fake.named_types.insert("node".into(), node_def);
        fake.named_types.insert("struct node".into(), node_def);
        fake
    }

    fn write(&mut self, address: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.memory.insert(address + i as u64, *b);
        }
    }
}

impl ValueTarget for Fake {
    fn types(&self) -> &TypeTable {
        &self.types
    }
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), ValueError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = *self.memory.get(&(address + i as u64)).ok_or(ValueError::Memory(address + i as u64))?;
        }
        Ok(())
    }
}

impl TypedContext for Fake {
    fn language(&self) -> Language {
        Language::C
    }
    fn variable(&mut self, name: &str) -> Result<Option<Value>, ValueError> {
        Ok(self.variables.get(name).cloned())
    }
    fn find_type(&mut self, name: &str) -> Option<TypeId> {
        self.named_types.get(name).copied()
    }
    fn register(&mut self, name: &str) -> Option<Value> {
        let long = self.named_types["long"];
        (name == "rax").then(|| Value::from_bytes(long, 42u64.to_le_bytes().to_vec()))
    }
    fn write(&mut self, place: &Place, bytes: &[u8]) -> Result<(), String> {
        self.writes.push((place.clone(), bytes.to_vec()));
        if let Place::Memory { address, bits: None } = place {
            self.write(*address, bytes);
        }
        Ok(())
    }
    fn as_value_target(&mut self) -> &mut dyn ValueTarget {
        self
    }
}

impl FormatTarget for Fake {
    fn symbol_at(&mut self, address: u64) -> Option<String> {
        (address == NODE_B).then(|| "second".to_string())
    }
    fn static_member(&mut self, _: &Type, _: &Member) -> Option<Value> {
        None
    }
    fn pretty_print(&mut self, _: &Value) -> Option<Result<Printed, ValueError>> {
        None
    }
    fn as_value_target(&mut self) -> &mut dyn ValueTarget {
        self
    }
}

impl TypeOracle for Fake {
    fn is_type(&mut self, name: &str) -> bool {
        self.named_types.contains_key(name)
    }
}

fn print(fake: &mut Fake, text: &str) -> String {
    let parsed = parse(text, fake).unwrap_or_else(|e| panic!("{text}: {e}"));
    let value = parsed.evaluate(fake).unwrap_or_else(|e| panic!("{text}: {e}"));
    format_value(&value, &FormatOptions::default(), fake, Position::TopLevel)
}

fn fails(fake: &mut Fake, text: &str) -> crate::expr::ExprError {
    match parse(text, fake) {
        Err(e) => e,
        Ok(parsed) => match parsed.evaluate(fake) {
            Err(e) => e,
            // A value in memory is read when it is used: a bad address fails then.
            Ok(v) => v
                .fetched(fake)
                .map(|_| ())
                .map_err(|e| crate::expr::ExprError::new(ExprErrorKind::Memory, 1, e.to_string()))
                .expect_err(text),
        },
    }
}

#[test]
fn members_pointers_and_arrays() {
    let mut f = Fake::new();
    assert_eq!(print(&mut f, "head->value"), "7");
    assert_eq!(print(&mut f, "head->next->value"), "-3");
    assert_eq!(print(&mut f, "(*head).value + 1"), "8");
    assert_eq!(print(&mut f, "head->next"), "(struct node *) 0x1010 <second>");
    assert_eq!(print(&mut f, "*head->next"), "{value = -3, next = 0x0}");
    assert_eq!(print(&mut f, "arr"), "{10, 20, 30, 40}");
    assert_eq!(print(&mut f, "arr[2]"), "30");
    assert_eq!(print(&mut f, "&arr[1]"), "(int *) 0x2004");
    assert_eq!(print(&mut f, "*(arr + 3)"), "40");
    assert_eq!(print(&mut f, "&arr[3] - &arr[1]"), "2");
    assert_eq!(print(&mut f, "text"), "0x3000 \"hi there\"");
    assert_eq!(print(&mut f, "text[1]"), "105 'i'");
    assert_eq!(print(&mut f, "(struct node *) 0x1000"), "(struct node *) 0x1000");
    assert_eq!(print(&mut f, "((node *) 0x1000)->value"), "7");
    assert_eq!(print(&mut f, "{int} 0x2008"), "30");
    assert_eq!(print(&mut f, "sizeof(struct node)"), "16");
    assert_eq!(print(&mut f, "sizeof arr"), "16");
}

#[test]
fn arithmetic_follows_c() {
    let mut f = Fake::new();
    assert_eq!(print(&mut f, "10 / 3"), "3");
    assert_eq!(print(&mut f, "-5 % 3"), "-2");
    assert_eq!(print(&mut f, "10.0 / 4"), "2.5");
    assert_eq!(print(&mut f, "5u - 6"), "4294967295");
    assert_eq!(print(&mut f, "-1 < 0u"), "0");
    assert_eq!(print(&mut f, "u - 6"), "4294967295");
    assert_eq!(print(&mut f, "big / 2"), "-2500000000");
    assert_eq!(print(&mut f, "'a' + 1"), "98");
    assert_eq!(print(&mut f, "'a'"), "97 'a'");
    assert_eq!(print(&mut f, "(char) 65"), "65 'A'");
    assert_eq!(print(&mut f, "1 << 4 | 1"), "17");
    assert_eq!(print(&mut f, "n == 20 && head"), "1");
    assert_eq!(print(&mut f, "n > 20 ? 1 : 2"), "2");
    assert_eq!(print(&mut f, "$rax + 1"), "43");
    assert_eq!(print(&mut f, "\"ab\""), "\"ab\"");
    assert_eq!(print(&mut f, "(long) 3.9"), "3");
}

#[test]
fn assignment_writes_through_the_type() {
    let mut f = Fake::new();
    assert_eq!(print(&mut f, "n = 5"), "5");
    assert_eq!(
        f.writes.last().unwrap(),
        &(Place::Memory { address: ARRAY + 4, bits: None }, 5i32.to_le_bytes().to_vec())
    );
    assert_eq!(print(&mut f, "arr[1]"), "5");
    assert_eq!(print(&mut f, "head->value += 2"), "9");
    assert_eq!(print(&mut f, "n = 2.9"), "2");
    let e = fails(&mut f, "3 = 4");
    assert!(e.message.contains("not an lvalue"), "{}", e.message);
}

#[test]
fn errors_are_typed_and_placed() {
    let mut f = Fake::new();
    let e = fails(&mut f, "1 + nothing");
    assert_eq!((e.kind, e.column), (ExprErrorKind::Symbol, 5));
    assert_eq!(e.message, "No symbol \"nothing\" in current context.");
    let e = fails(&mut f, "(struct nope *) 0");
    assert_eq!(e.kind, ExprErrorKind::UnknownType);
    let e = fails(&mut f, "gone + 1");
    assert_eq!(e.kind, ExprErrorKind::OptimizedOut);
    let e = fails(&mut f, "head->missing");
    assert_eq!(e.message, "There is no member named missing.");
    let e = fails(&mut f, "n / 0");
    assert_eq!(e.kind, ExprErrorKind::DivisionByZero);
    let e = fails(&mut f, "*(int *) 0x9999");
    assert_eq!(e.kind, ExprErrorKind::Memory);
    let e = fails(&mut f, "$nope");
    assert_eq!(e.kind, ExprErrorKind::UnknownRegister);
}

#[test]
fn random_text_never_panics() {
    // A small generator (no dependency): xorshift over C's alphabet.
    let alphabet: Vec<char> = "abnxu0129.+-*/%<>=!&|^~?:,()[]{}'\"\\ $_->headrtxsizeofstruct".chars().collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut f = Fake::new();
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 24) as usize;
        let text: String = (0..len)
            .map(|i| {
                let r = state.rotate_left(i as u32 * 5);
                alphabet[(r % alphabet.len() as u64) as usize]
            })
            .collect();
        if let Ok(parsed) = parse(&text, &mut f) {
            let _ = parsed.evaluate_without_side_effects(&mut f);
        }
    }
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&deep, &mut f).is_err());
    let deep = format!("{}1", "-".repeat(10_000));
    assert!(parse(&deep, &mut f).is_err());
}
