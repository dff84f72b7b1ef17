//! Type names and declarations as gdb writes them: `whatis` names
//! (`struct node *`, `int (*)(int, int)`, `int [2][3]`) and `ptype`
//! expansions (the members of a struct, the enumerators of an enum, a C++
//! class with its bases, access labels and methods, a Rust struct or enum).

use super::types::{Access, CompositeKind, Language, Method, Type, TypeId, TypeKind, TypeTable};

/// The name gdb's `whatis` gives a type.
pub fn type_name(table: &TypeTable, id: TypeId) -> String {
    declare(table, id, "", 0)
}

/// The name of a type as the start of a declaration (`struct point`,
/// `geometry::Point`, `enum color`), without declarator parts.
fn base_name(ty: &Type) -> String {
    let name = match (&ty.name, ty.language) {
        (Some(n), Language::Cpp) => Some(super::cpp_names::simplify(n)),
        (n, _) => n.clone(),
    };
    match &ty.kind {
        TypeKind::Composite(c) => {
            let name = name.unwrap_or_else(|| "{...}".to_string());
            match ty.language {
                Language::C => format!("{} {name}", c.kind.keyword()),
                _ => name,
            }
        }
        TypeKind::Enum(_) => {
            let name = name.unwrap_or_else(|| "{...}".to_string());
            match ty.language {
                Language::C => format!("enum {name}"),
                _ => name,
            }
        }
        _ => name.unwrap_or_else(|| "?".to_string()),
    }
}

/// Whether a declarator wrapping a type needs parentheses (`(*)` before
/// an array or function suffix).
fn needs_parens(table: &TypeTable, id: TypeId) -> bool {
    matches!(table.get(id).kind, TypeKind::Array { .. } | TypeKind::Function { .. })
}

/// A C declaration of `inner` (a name, or the parts of a declarator) with type `id`.
pub(crate) fn declare(table: &TypeTable, id: TypeId, inner: &str, depth: usize) -> String {
    declare_as(table, id, inner, depth, false)
}

/// [`declare`]; with `expand`, typedefs are looked through and the struct,
/// union or enum at the base is written out in full (gdb's `ptype`).
fn declare_as(table: &TypeTable, id: TypeId, inner: &str, depth: usize, expand_base: bool) -> String {
    if depth > 32 {
        return "...".to_string();
    }
    let ty = table.get(id);
    if ty.language == Language::Rust {
        let name = if expand_base { rust_expand_or_name(table, id, depth) } else { rust_name(table, id, depth) };
        return if inner.is_empty() { name } else { format!("{name} {inner}") };
    }
    let join = |base: String, inner: &str| if inner.is_empty() { base } else { format!("{base} {inner}") };
    match &ty.kind {
        TypeKind::Pointer(target) | TypeKind::Reference { target, .. } => {
            let symbol = match ty.kind {
                TypeKind::Reference { rvalue: true, .. } => "&&",
                TypeKind::Reference { .. } => "&",
                _ => "*",
            };
            let wrapped =
                if needs_parens(table, *target) { format!("({symbol}{inner})") } else { format!("{symbol}{inner}") };
            declare_as(table, *target, &wrapped, depth + 1, expand_base)
        }
        TypeKind::Array { element, count } => {
            let count = count.map(|c| c.to_string()).unwrap_or_default();
            declare_as(table, *element, &format!("{inner}[{count}]"), depth + 1, expand_base)
        }
        TypeKind::Function { return_type, params, variadic, prototyped } => {
            let list = parameter_list(table, params, *variadic, *prototyped, ty.language, depth);
            let ret = return_type.unwrap_or(table.void());
            declare_as(table, ret, &format!("{inner}({list})"), depth + 1, false)
        }
        TypeKind::Qualified { .. } => {
            // Merge nested qualifiers (`const volatile short`).
            let (mut is_const, mut is_volatile, mut base) = (false, false, id);
            while let TypeKind::Qualified { target, is_const: c, is_volatile: v } = table.get(base).kind {
                is_const |= c;
                is_volatile |= v;
                base = target;
            }
            let words = match (is_const, is_volatile) {
                (true, true) => "const volatile",
                (true, false) => "const",
                _ => "volatile",
            };
            match table.get(base).kind {
                // `char * const p`: the qualifier goes after the pointer's star.
                TypeKind::Pointer(_) | TypeKind::Reference { .. } => {
                    let inner = if inner.is_empty() { format!(" {words}") } else { format!(" {words} {inner}") };
                    let pointer = table.get(base);
                    let symbol = if matches!(pointer.kind, TypeKind::Pointer(_)) { "*" } else { "&" };
                    let (TypeKind::Pointer(pointee) | TypeKind::Reference { target: pointee, .. }) = pointer.kind
                    else {
                        return words.to_string();
                    };
                    let wrapped = if needs_parens(table, pointee) {
                        format!("({symbol}{inner})")
                    } else {
                        format!("{symbol}{inner}")
                    };
                    declare_as(table, pointee, &wrapped, depth + 1, expand_base)
                }
                _ => format!("{words} {}", declare_as(table, base, inner, depth + 1, expand_base)),
            }
        }
        TypeKind::Typedef(target) if expand_base => declare_as(table, *target, inner, depth + 1, expand_base),
        TypeKind::Composite(_) | TypeKind::Enum(_) if expand_base => join(expand(table, id), inner),
        TypeKind::Typedef(_)
        | TypeKind::Base(_)
        | TypeKind::Void
        | TypeKind::Unspecified
        | TypeKind::Composite(_)
        | TypeKind::Enum(_) => join(base_name(&ty), inner),
    }
}

fn parameter_list(
    table: &TypeTable,
    params: &[TypeId],
    variadic: bool,
    prototyped: bool,
    language: Language,
    depth: usize,
) -> String {
    let mut parts: Vec<String> = params.iter().map(|&p| declare(table, p, "", depth + 1)).collect();
    if variadic {
        parts.push("...".into());
    }
    if parts.is_empty() && (prototyped || language == Language::Cpp) {
        return "void".into();
    }
    parts.join(", ")
}

/// A Rust type's name the way gdb's Rust support writes it.
fn rust_name(table: &TypeTable, id: TypeId, depth: usize) -> String {
    if depth > 32 {
        return "...".into();
    }
    let ty = table.get(id);
    match &ty.kind {
        TypeKind::Pointer(target) => format!("*mut {}", rust_name(table, *target, depth + 1)),
        TypeKind::Reference { target, .. } => format!("&{}", rust_name(table, *target, depth + 1)),
        TypeKind::Array { element, count } => {
            format!("[{}; {}]", rust_name(table, *element, depth + 1), count.unwrap_or(0))
        }
        TypeKind::Function { return_type, params, .. } => {
            let list: Vec<String> = params.iter().map(|&p| rust_name(table, p, depth + 1)).collect();
            match return_type {
                Some(r) => format!("fn({}) -> {}", list.join(", "), rust_name(table, *r, depth + 1)),
                None => format!("fn({})", list.join(", ")),
            }
        }
        TypeKind::Qualified { target, .. } | TypeKind::Typedef(target) if ty.name.is_none() => {
            rust_name(table, *target, depth + 1)
        }
        TypeKind::Void => "()".into(),
        _ => ty.name.clone().unwrap_or_else(|| "?".into()),
    }
}

/// `ptype`: the type with typedefs looked through and the struct, union or
/// enum at its base written out (`struct shape {...} *`).
pub fn ptype(table: &TypeTable, id: TypeId) -> String {
    declare_as(table, id, "", 0, true)
}

/// The full body of a struct, union, class or enum.
fn expand(table: &TypeTable, id: TypeId) -> String {
    let ty = table.get(id);
    match ty.language {
        Language::Rust => rust_expand(table, &ty),
        _ => c_expand(table, &ty, 0),
    }
}

fn indent(level: usize) -> String {
    "    ".repeat(level)
}

fn c_expand(table: &TypeTable, ty: &Type, level: usize) -> String {
    match &ty.kind {
        TypeKind::Enum(e) => {
            let mut next = 0i128;
            let items: Vec<String> = e
                .enumerators
                .iter()
                .map(|(name, value)| {
                    let shown_name = if ty.language == Language::Cpp {
                        // gdb writes enumerators qualified in C++.
                        let prefix = ty.name.as_deref().unwrap_or("");
                        if prefix.is_empty() || !e.is_scoped {
                            match prefix.rsplit_once("::") {
                                Some((scope, _)) if !e.is_scoped => format!("{scope}::{name}"),
                                _ => name.clone(),
                            }
                        } else {
                            format!("{prefix}::{name}")
                        }
                    } else {
                        name.clone()
                    };
                    let text = if *value == next { shown_name } else { format!("{shown_name} = {value}") };
                    next = value + 1;
                    text
                })
                .collect();
            let head = match (&ty.name, ty.language) {
                (Some(n), Language::C) => format!("enum {n} "),
                (Some(n), _) => {
                    let underlying = e
                        .underlying
                        .filter(|_| e.is_scoped)
                        .map(|u| format!(" : {}", type_name(table, u)))
                        .unwrap_or_default();
                    format!("enum {}{n}{underlying} ", if e.is_scoped { "class " } else { "" })
                }
                (None, _) => "enum ".to_string(),
            };
            format!("{head}{{{}}}", items.join(", "))
        }
        TypeKind::Composite(c) => {
            let keyword = c.kind.keyword();
            let mut out = match &ty.name {
                Some(n) => format!("{keyword} {n}"),
                None => keyword.to_string(),
            };
            let bases: Vec<String> = c
                .members
                .iter()
                .filter(|m| m.is_base)
                .map(|m| {
                    let access =
                        if ty.language == Language::Cpp { format!("{} ", m.access.keyword()) } else { String::new() };
                    let virt = if m.is_virtual_base { "virtual " } else { "" };
                    format!("{access}{virt}{}", type_name(table, m.ty))
                })
                .collect();
            if !bases.is_empty() {
                out.push_str(&format!(" : {}", bases.join(", ")));
            }
            if c.declaration && c.members.is_empty() {
                return format!("{out} {{\n{}<incomplete type>\n{}}}", indent(level + 1), indent(level));
            }
            out.push_str(" {\n");
            let cpp = ty.language == Language::Cpp;
            // gdb labels the fields' access only when it is not the default
            // of the keyword for some member; the methods' always.
            let default_access = if c.kind == CompositeKind::Class { Access::Private } else { Access::Public };
            let labels = cpp
                && (c.members.iter().any(|m| !m.is_base && !m.artificial && m.access != default_access)
                    || c.methods.iter().any(|m| !m.artificial && m.access != default_access));
            let mut current: Option<Access> = None;
            let fields: Vec<_> = c.members.iter().filter(|m| !m.is_base && !m.artificial).collect();
            for m in &fields {
                if labels && current != Some(m.access) {
                    out.push_str(&format!("{}  {}:\n", indent(level), m.access.keyword()));
                    current = Some(m.access);
                }
                let static_word = if m.is_static { "static " } else { "" };
                let declaration = match &m.name {
                    Some(name) => declare(table, m.ty, name, 0),
                    None => {
                        // An anonymous struct or union: its body inline.
                        let inner = table.get(table.strip(m.ty));
                        c_expand(table, &inner, level + 1).trim_start().to_string()
                    }
                };
                let bits = m.bits.map(|b| format!(" : {}", b.bit_size)).unwrap_or_default();
                out.push_str(&format!("{}{static_word}{declaration}{bits};\n", indent(level + 1)));
            }
            let methods: Vec<&Method> = c.methods.iter().filter(|m| !m.artificial).collect();
            if !methods.is_empty() && cpp {
                if !fields.is_empty() && current.is_some() {
                    out.push('\n');
                }
                let class_name = ty.name.as_deref().map(|n| super::units::last_component(n).to_string());
                for m in methods {
                    if current != Some(m.access) {
                        out.push_str(&format!("{}  {}:\n", indent(level), m.access.keyword()));
                        current = Some(m.access);
                    }
                    out.push_str(&format!("{}{};\n", indent(level + 1), method_line(table, m, class_name.as_deref())));
                }
            }
            if fields.is_empty() && c.methods.iter().all(|m| m.artificial) {
                out.push_str(&format!("{}<no data fields>\n", indent(level + 1)));
            }
            out.push_str(&format!("{}}}", indent(level)));
            out
        }
        _ => ty.name.clone().unwrap_or_default(),
    }
}

/// `virtual int area(void) const`, `Square(int)`, `~Square(void)`.
fn method_line(table: &TypeTable, m: &Method, class_name: Option<&str>) -> String {
    let params: Vec<String> = m.params.iter().map(|&p| type_name(table, p)).collect();
    let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
    let is_structor = class_name.is_some_and(|c| {
        let bare = c.split('<').next().unwrap_or(c);
        m.name == bare || m.name == c || m.name.strip_prefix('~').is_some_and(|n| n == bare || n == c)
    });
    let mut out = String::new();
    if m.is_virtual {
        out.push_str("virtual ");
    }
    if m.is_static {
        out.push_str("static ");
    }
    if !is_structor {
        let ret = m.return_type.unwrap_or(table.void());
        let name = type_name(table, ret);
        // gdb puts a space after a pointer return type's star.
        out.push_str(&name);
        out.push(' ');
    }
    out.push_str(&format!("{}({params})", m.name));
    if m.is_const {
        out.push_str(" const");
    }
    out
}

/// A Rust struct or enum written out, any other type by name.
fn rust_expand_or_name(table: &TypeTable, id: TypeId, depth: usize) -> String {
    let ty = table.get(id);
    match ty.kind {
        TypeKind::Composite(_) | TypeKind::Enum(_) => rust_expand(table, &ty),
        TypeKind::Typedef(target) => rust_expand_or_name(table, target, depth + 1),
        _ => rust_name(table, id, depth),
    }
}

fn rust_expand(table: &TypeTable, ty: &Type) -> String {
    let name = ty.name.clone().unwrap_or_default();
    match &ty.kind {
        TypeKind::Enum(e) => {
            let items: Vec<String> = e.enumerators.iter().map(|(n, _)| format!("  {n},\n")).collect();
            format!("enum {name} {{\n{}}}", items.concat())
        }
        TypeKind::Composite(c) => {
            if let Some(part) = &c.variants {
                let mut out = format!("enum {name} {{\n");
                for v in &part.variants {
                    let vname = v.member.name.clone().unwrap_or_default();
                    let inner = table.get(table.strip(v.member.ty));
                    let fields = match &inner.kind {
                        TypeKind::Composite(ic) => {
                            ic.members.iter().filter(|m| !m.artificial).cloned().collect::<Vec<_>>()
                        }
                        _ => Vec::new(),
                    };
                    if fields.is_empty() {
                        out.push_str(&format!("  {vname},\n"));
                    } else if fields.iter().all(|f| f.name.as_deref().is_some_and(is_tuple_field)) {
                        let list: Vec<String> = fields.iter().map(|f| type_name(table, f.ty)).collect();
                        out.push_str(&format!("  {vname}({}),\n", list.join(", ")));
                    } else {
                        let list: Vec<String> = fields
                            .iter()
                            .map(|f| format!("{}: {}", f.name.clone().unwrap_or_default(), type_name(table, f.ty)))
                            .collect();
                        out.push_str(&format!("  {vname}{{{}}},\n", list.join(", ")));
                    }
                }
                out.push('}');
                return out;
            }
            let keyword = if c.kind == CompositeKind::Union { "union" } else { "struct" };
            let fields: Vec<_> = c.members.iter().filter(|m| !m.artificial).collect();
            if !fields.is_empty() && fields.iter().all(|f| f.name.as_deref().is_some_and(is_tuple_field)) {
                let list: Vec<String> = fields.iter().map(|f| type_name(table, f.ty)).collect();
                return format!("{keyword} {name} (\n  {},\n)", list.join(",\n  "));
            }
            let mut out = format!("{keyword} {name} {{\n");
            for f in fields {
                out.push_str(&format!("  {}: {},\n", f.name.clone().unwrap_or_default(), type_name(table, f.ty)));
            }
            out.push('}');
            out
        }
        _ => name,
    }
}

/// `__0`, `__1`: the fields of a Rust tuple or tuple struct.
pub(crate) fn is_tuple_field(name: &str) -> bool {
    name.strip_prefix("__").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debuginfo::types::BaseKind;

    #[test]
    fn declarators_read_as_c_writes_them() {
        let t = TypeTable::new();
        let int = t.base("int", 4, BaseKind::Signed, Language::C);
        let char_ = t.base("char", 1, BaseKind::SignedChar, Language::C);
        assert_eq!(type_name(&t, t.pointer_to(int)), "int *");
        assert_eq!(type_name(&t, t.array_of(t.array_of(int, Some(3)), Some(2))), "int [2][3]");
        assert_eq!(type_name(&t, t.pointer_to(t.const_of(char_))), "const char *");
        assert_eq!(type_name(&t, t.pointer_to(t.array_of(int, Some(3)))), "int (*)[3]");
        assert_eq!(type_name(&t, t.array_of(t.pointer_to(int), Some(3))), "int *[3]");
        let f = t.add(Type::new(
            None,
            Some(1),
            TypeKind::Function { return_type: Some(int), params: vec![int, int], variadic: false, prototyped: true },
            Language::C,
        ));
        assert_eq!(type_name(&t, t.pointer_to(f)), "int (*)(int, int)");
        let unprototyped = t.add(Type::new(
            None,
            Some(1),
            TypeKind::Function { return_type: None, params: vec![], variadic: false, prototyped: false },
            Language::C,
        ));
        assert_eq!(type_name(&t, t.pointer_to(unprototyped)), "void (*)()");
    }
}
