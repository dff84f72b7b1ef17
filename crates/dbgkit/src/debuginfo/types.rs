//! The type model: what a variable's bytes mean.
//!
//! Types live in one [`TypeTable`] per session, referred to by [`TypeId`].
//! A type read from DWARF is created as a pending entry that remembers its
//! DIE and is read the first time it is looked at, one level at a time:
//! reading `struct node` makes ids for the types of its members without
//! reading them, so a recursive type (`struct node *next`) is no problem and
//! a large program costs only the types a user actually looks at. Types the
//! evaluator makes (`int` for a literal, `T *` for `&x`) are added to the
//! same table and shared.

use super::units::ModuleDebugInfo;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A type in a [`TypeTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub(crate) u32);

/// The source language of a compilation unit: it decides how names and
/// values are spelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    C,
    Cpp,
    Rust,
}

impl Language {
    /// The language named by a `DW_AT_language` value.
    pub(crate) fn from_dwarf(lang: gimli::DwLang) -> Language {
        match lang {
            gimli::DW_LANG_C_plus_plus
            | gimli::DW_LANG_C_plus_plus_03
            | gimli::DW_LANG_C_plus_plus_11
            | gimli::DW_LANG_C_plus_plus_14
            | gimli::DW_LANG_C_plus_plus_17
            | gimli::DW_LANG_C_plus_plus_20 => Language::Cpp,
            gimli::DW_LANG_Rust => Language::Rust,
            _ => Language::C,
        }
    }
}

/// How a base type's bytes are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseKind {
    Signed,
    Unsigned,
    /// `char`, `signed char`: printed as a number and a character.
    SignedChar,
    UnsignedChar,
    Bool,
    Float,
    /// A Unicode scalar (Rust's `char`, C++'s `char32_t`).
    UnicodeChar,
}

impl BaseKind {
    /// Whether values of the kind are integers (booleans and characters included).
    pub fn is_integer(self) -> bool {
        !matches!(self, BaseKind::Float)
    }

    /// Whether the kind is signed.
    pub fn is_signed(self) -> bool {
        matches!(self, BaseKind::Signed | BaseKind::SignedChar | BaseKind::Float)
    }
}

/// `struct`, `class` or `union`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompositeKind {
    Struct,
    Class,
    Union,
}

impl CompositeKind {
    /// The keyword that introduces it in C and C++.
    pub fn keyword(self) -> &'static str {
        match self {
            CompositeKind::Struct => "struct",
            CompositeKind::Class => "class",
            CompositeKind::Union => "union",
        }
    }
}

/// C++ member access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    Protected,
    Private,
}

impl Access {
    pub fn keyword(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Protected => "protected",
            Access::Private => "private",
        }
    }
}

/// A bit-field's place inside its member's storage: bits counted from the
/// lowest bit of the byte at the member's offset (x86_64 is little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitField {
    pub bit_offset: u64,
    pub bit_size: u64,
}

/// A data member, or a base class (`is_base`).
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// `None` for an anonymous struct or union member.
    pub name: Option<String>,
    pub ty: TypeId,
    /// Byte offset from the start of the enclosing object.
    pub offset: u64,
    pub bits: Option<BitField>,
    pub is_base: bool,
    /// A virtual base class: its offset is found at run time (not supported:
    /// shown as unavailable rather than read at a wrong offset).
    pub is_virtual_base: bool,
    /// A C++ static data member: stored elsewhere, under its qualified name.
    pub is_static: bool,
    pub access: Access,
    /// Made by the compiler (`_vptr.Shape`).
    pub artificial: bool,
}

/// A C++ member function, as `ptype` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    pub name: String,
    pub return_type: Option<TypeId>,
    /// Parameters after `this`.
    pub params: Vec<TypeId>,
    pub is_virtual: bool,
    pub is_static: bool,
    pub is_const: bool,
    pub access: Access,
    pub artificial: bool,
}

/// One alternative of a Rust enum (`DW_TAG_variant`).
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The discriminant value that selects it; `None` for the default one.
    pub discriminant: Option<u64>,
    /// The variant's own struct (its fields, named `__0`, `__1` for tuple variants).
    pub member: Member,
}

/// A Rust enum's alternatives, selected by the value of a discriminant member.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantPart {
    pub discriminant: Option<Member>,
    pub variants: Vec<Variant>,
}

/// A struct, class or union.
#[derive(Clone, Debug, PartialEq)]
pub struct Composite {
    pub kind: CompositeKind,
    pub members: Vec<Member>,
    pub methods: Vec<Method>,
    /// Only declared here (`struct foo;`): the definition is elsewhere.
    pub declaration: bool,
    /// Rust enums with data.
    pub variants: Option<VariantPart>,
    /// Template arguments, as `name = type` (for pretty printers: `Vec<T>`'s `T`).
    pub template_types: Vec<(String, TypeId)>,
}

/// An enumeration.
#[derive(Clone, Debug, PartialEq)]
pub struct Enumeration {
    pub underlying: Option<TypeId>,
    pub enumerators: Vec<(String, i128)>,
    /// Every value is 0 or a distinct single bit: values print as
    /// `(A | B)` (gdb's rule).
    pub is_flags: bool,
    pub is_signed: bool,
    /// `enum class`: enumerators print qualified (`Level::High`).
    pub is_scoped: bool,
    pub declaration: bool,
}

/// What a type is.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    Void,
    Base(BaseKind),
    Pointer(TypeId),
    Reference {
        target: TypeId,
        rvalue: bool,
    },
    /// One dimension; a C `int a[2][3]` is an array of 2 arrays of 3.
    Array {
        element: TypeId,
        count: Option<u64>,
    },
    Composite(Composite),
    Enum(Enumeration),
    Typedef(TypeId),
    Qualified {
        target: TypeId,
        is_const: bool,
        is_volatile: bool,
    },
    Function {
        return_type: Option<TypeId>,
        params: Vec<TypeId>,
        variadic: bool,
        prototyped: bool,
    },
    /// A type the debug information names without describing (`decltype(nullptr)`).
    Unspecified,
}

/// One type.
#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    /// The name the program gives it, qualified (`geometry::Point`,
    /// `rusty::Player`); for a C struct, the tag without `struct`.
    pub name: Option<String>,
    /// Size in bytes, when it has one.
    pub size: Option<u64>,
    pub kind: TypeKind,
    pub language: Language,
}

impl Type {
    pub(crate) fn new(name: Option<String>, size: Option<u64>, kind: TypeKind, language: Language) -> Type {
        Type { name, size, kind, language }
    }
}

/// Where a pending type's DIE is.
#[derive(Clone)]
pub(crate) struct DieSource {
    pub module: Rc<ModuleDebugInfo>,
    /// The compilation unit's offset in `.debug_info`.
    pub unit: usize,
    /// The DIE's offset in `.debug_info`.
    pub die: usize,
}

enum Entry {
    Ready(Rc<Type>),
    Pending(DieSource),
}

/// Types made from other types, remembered so that `int *` is one id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Derived {
    Pointer,
    Reference,
    Const,
    ArrayOf(Option<u64>),
}

/// Every type of a session, read from DWARF when first looked at.
#[derive(Default)]
pub struct TypeTable {
    entries: RefCell<Vec<Entry>>,
    by_die: RefCell<HashMap<(usize, usize), TypeId>>,
    derived: RefCell<HashMap<(Derived, TypeId), TypeId>>,
    named: RefCell<HashMap<(String, Language), TypeId>>,
    /// Types being read right now: asking for one of them again is a
    /// reading bug or a damaged file, answered with a placeholder.
    reading: RefCell<Vec<TypeId>>,
}

impl std::fmt::Debug for TypeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypeTable").field("types", &self.entries.borrow().len()).finish()
    }
}

/// The void type of every table: id 0.
pub(crate) const VOID: TypeId = TypeId(0);

impl TypeTable {
    /// A table holding only `void` (id 0).
    pub fn new() -> TypeTable {
        let table = TypeTable::default();
        table.add(Type::new(Some("void".into()), None, TypeKind::Void, Language::C));
        table
    }

    /// Adds a type made by the engine.
    pub(crate) fn add(&self, ty: Type) -> TypeId {
        let mut entries = self.entries.borrow_mut();
        entries.push(Entry::Ready(Rc::new(ty)));
        TypeId(entries.len() as u32 - 1)
    }

    /// Replaces a type made by the engine (tests build recursive types this way).
    #[cfg(test)]
    pub(crate) fn set(&self, id: TypeId, ty: Type) {
        self.entries.borrow_mut()[id.0 as usize] = Entry::Ready(Rc::new(ty));
    }

    /// The id of the type at a DIE, made pending if it was never seen.
    pub(crate) fn for_die(&self, module: &Rc<ModuleDebugInfo>, unit: usize, die: usize) -> TypeId {
        let key = (module.id, die);
        if let Some(&id) = self.by_die.borrow().get(&key) {
            return id;
        }
        let id = {
            let mut entries = self.entries.borrow_mut();
            entries.push(Entry::Pending(DieSource { module: module.clone(), unit, die }));
            TypeId(entries.len() as u32 - 1)
        };
        self.by_die.borrow_mut().insert(key, id);
        id
    }

    /// The type behind an id, read now if it was pending. An id that does
    /// not belong to the table, or a DIE that cannot be read, gives `void`
    /// named `<unknown type>` rather than a panic.
    pub fn get(&self, id: TypeId) -> Rc<Type> {
        let pending = match self.entries.borrow().get(id.0 as usize) {
            Some(Entry::Ready(ty)) => return ty.clone(),
            Some(Entry::Pending(source)) => source.clone(),
            None => return Rc::new(unknown_type()),
        };
        if self.reading.borrow().contains(&id) || self.reading.borrow().len() > 64 {
            return Rc::new(unknown_type());
        }
        self.reading.borrow_mut().push(id);
        let read = super::type_reader::read_type(self, &pending);
        self.reading.borrow_mut().retain(|&r| r != id);
        let ty = Rc::new(read.unwrap_or_else(unknown_type));
        self.entries.borrow_mut()[id.0 as usize] = Entry::Ready(ty.clone());
        ty
    }

    fn derive(&self, how: Derived, target: TypeId, make: impl FnOnce(&TypeTable) -> Type) -> TypeId {
        if let Some(&id) = self.derived.borrow().get(&(how, target)) {
            return id;
        }
        let id = self.add(make(self));
        self.derived.borrow_mut().insert((how, target), id);
        id
    }

    /// `T *`.
    pub fn pointer_to(&self, target: TypeId) -> TypeId {
        self.derive(Derived::Pointer, target, |t| {
            Type::new(None, Some(8), TypeKind::Pointer(target), t.get(target).language)
        })
    }

    /// `T &`.
    pub fn reference_to(&self, target: TypeId) -> TypeId {
        self.derive(Derived::Reference, target, |t| {
            Type::new(None, Some(8), TypeKind::Reference { target, rvalue: false }, t.get(target).language)
        })
    }

    /// `const T`.
    pub fn const_of(&self, target: TypeId) -> TypeId {
        self.derive(Derived::Const, target, |t| {
            let inner = t.get(target);
            Type::new(
                None,
                inner.size,
                TypeKind::Qualified { target, is_const: true, is_volatile: false },
                inner.language,
            )
        })
    }

    /// `T [count]`.
    pub fn array_of(&self, element: TypeId, count: Option<u64>) -> TypeId {
        self.derive(Derived::ArrayOf(count), element, |t| {
            let inner = t.get(element);
            let size = inner.size.zip(count).map(|(s, c)| s.saturating_mul(c));
            Type::new(None, size, TypeKind::Array { element, count }, inner.language)
        })
    }

    /// A base type made by the engine (`int`, `unsigned long`, `double`,
    /// `char`, `bool`), one per name and language.
    pub fn base(&self, name: &str, size: u64, kind: BaseKind, language: Language) -> TypeId {
        let key = (name.to_string(), language);
        if let Some(&id) = self.named.borrow().get(&key) {
            return id;
        }
        let id = self.add(Type::new(Some(name.into()), Some(size), TypeKind::Base(kind), language));
        self.named.borrow_mut().insert(key, id);
        id
    }

    /// `void`.
    pub fn void(&self) -> TypeId {
        VOID
    }

    /// The type with typedefs and `const`/`volatile` taken off.
    pub fn strip(&self, mut id: TypeId) -> TypeId {
        for _ in 0..64 {
            match self.get(id).kind {
                TypeKind::Typedef(target) | TypeKind::Qualified { target, .. } => id = target,
                _ => return id,
            }
        }
        id
    }

    /// The type with typedefs, qualifiers and references taken off.
    pub fn strip_references(&self, id: TypeId) -> TypeId {
        let stripped = self.strip(id);
        match self.get(stripped).kind {
            TypeKind::Reference { target, .. } => self.strip(target),
            _ => stripped,
        }
    }

    /// The size of a type in bytes, through typedefs and qualifiers.
    pub fn size_of(&self, id: TypeId) -> Option<u64> {
        let mut id = id;
        for _ in 0..64 {
            let ty = self.get(id);
            if let Some(size) = ty.size {
                return Some(size);
            }
            match ty.kind {
                TypeKind::Typedef(target) | TypeKind::Qualified { target, .. } => id = target,
                TypeKind::Array { element, count: Some(count) } => {
                    return self.size_of(element).map(|s| s.saturating_mul(count))
                }
                TypeKind::Pointer(_) | TypeKind::Reference { .. } => return Some(8),
                _ => return None,
            }
        }
        None
    }

    /// How many types the table holds (read or pending).
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Whether the table holds only `void`.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }
}

fn unknown_type() -> Type {
    Type::new(Some("<unknown type>".into()), None, TypeKind::Void, Language::C)
}
