//! C++ standard library type names as people write them: the compiler's
//! `std::vector<int, std::allocator<int> >` is shown as `std::vector<int>`
//! and `std::__cxx11::basic_string<char, std::char_traits<char>,
//! std::allocator<char> >` as `std::string`, the way libstdc++'s type
//! printers make gdb show them. Only names for display change; lookups
//! use the compiler's names.

/// A name with template arguments, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Name {
    /// Everything before `<` (`std::vector`), or the whole name.
    head: String,
    args: Option<Vec<Name>>,
    /// What follows the closing `>` (`::iterator`, ` const`, ` *`).
    tail: String,
}

fn parse(text: &str) -> Option<Name> {
    let text = text.trim();
    let Some(open) = text.find('<') else {
        return Some(Name { head: text.to_string(), args: None, tail: String::new() });
    };
    // `operator<` and friends are not template arguments.
    if text[..open].ends_with("operator") {
        return Some(Name { head: text.to_string(), args: None, tail: String::new() });
    }
    let mut depth = 0i32;
    let mut args = Vec::new();
    let mut start = open + 1;
    let bytes = text.as_bytes();
    for i in open..bytes.len() {
        match bytes[i] {
            b'<' | b'(' => depth += 1,
            b'>' | b')' => {
                depth -= 1;
                if depth == 0 {
                    args.push(parse(&text[start..i])?);
                    return Some(Name {
                        head: text[..open].to_string(),
                        args: Some(args),
                        tail: text[i + 1..].to_string(),
                    });
                }
            }
            b',' if depth == 1 => {
                args.push(parse(&text[start..i])?);
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

fn render(name: &Name) -> String {
    match &name.args {
        None => name.head.clone(),
        Some(args) => {
            let inner: Vec<String> = args.iter().map(render).collect();
            format!("{}<{}>{}", name.head, inner.join(", "), name.tail)
        }
    }
}

/// `std::allocator<T>` for exactly this `T`.
fn is_allocator_of(name: &Name, element: &str) -> bool {
    name.head == "std::allocator" && name.args.as_ref().is_some_and(|a| a.len() == 1 && render(&a[0]) == element)
}

fn is_wrapper_of(name: &Name, head: &str, element: &str) -> bool {
    name.head == head && name.args.as_ref().is_some_and(|a| a.len() == 1 && render(&a[0]) == element)
}

fn simplify_name(name: &Name) -> Name {
    let Some(args) = &name.args else { return name.clone() };
    let args: Vec<Name> = args.iter().map(simplify_name).collect();
    let rendered: Vec<String> = args.iter().map(render).collect();
    let head = name.head.as_str();
    let bare = head.strip_prefix("std::__cxx11::").or_else(|| head.strip_prefix("std::")).unwrap_or("");
    let plain = |head: &str, keep: usize| Name {
        head: head.to_string(),
        args: Some(args[..keep].to_vec()),
        tail: name.tail.clone(),
    };
    match (bare, args.len()) {
        ("basic_string", 3)
            if is_wrapper_of(&args[1], "std::char_traits", &rendered[0]) && is_allocator_of(&args[2], &rendered[0]) =>
        {
            let short = match rendered[0].as_str() {
                "char" => "std::string",
                "wchar_t" => "std::wstring",
                "char16_t" => "std::u16string",
                "char32_t" => "std::u32string",
                _ => return plain(head, 1),
            };
            Name { head: short.to_string(), args: None, tail: name.tail.clone() }
        }
        ("vector" | "list" | "deque" | "forward_list", 2) if is_allocator_of(&args[1], &rendered[0]) => plain(head, 1),
        ("set" | "multiset", 3)
            if is_wrapper_of(&args[1], "std::less", &rendered[0]) && is_allocator_of(&args[2], &rendered[0]) =>
        {
            plain(head, 1)
        }
        ("map" | "multimap", 4)
            if is_wrapper_of(&args[2], "std::less", &rendered[0])
                && is_allocator_of(&args[3], &format!("std::pair<{} const, {}>", rendered[0], rendered[1])) =>
        {
            plain(head, 2)
        }
        ("unordered_set" | "unordered_multiset", 4)
            if is_wrapper_of(&args[1], "std::hash", &rendered[0])
                && is_wrapper_of(&args[2], "std::equal_to", &rendered[0])
                && is_allocator_of(&args[3], &rendered[0]) =>
        {
            plain(head, 1)
        }
        ("unordered_map" | "unordered_multimap", 5)
            if is_wrapper_of(&args[2], "std::hash", &rendered[0])
                && is_wrapper_of(&args[3], "std::equal_to", &rendered[0])
                && is_allocator_of(&args[4], &format!("std::pair<{} const, {}>", rendered[0], rendered[1])) =>
        {
            plain(head, 2)
        }
        _ => Name { head: head.to_string(), args: Some(args), tail: name.tail.clone() },
    }
}

/// A C++ type name with the standard library's default template arguments
/// left out and `basic_string<char...>` shown as `std::string`.
pub fn simplify(name: &str) -> String {
    if !name.contains("std::") {
        return name.to_string();
    }
    match parse(name) {
        Some(parsed) => render(&simplify_name(&parsed)),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::simplify;

    #[test]
    fn default_arguments_are_left_out() {
        assert_eq!(simplify("std::vector<int, std::allocator<int> >"), "std::vector<int>");
        assert_eq!(
            simplify("std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"),
            "std::string"
        );
        let strings = "std::vector<std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >, \
                       std::allocator<std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > > >";
        assert_eq!(simplify(strings), "std::vector<std::string>");
        assert_eq!(
            simplify("std::map<int, double, std::less<int>, std::allocator<std::pair<int const, double> > >"),
            "std::map<int, double>"
        );
        assert_eq!(simplify("std::vector<int, MyAlloc>"), "std::vector<int, MyAlloc>");
        assert_eq!(simplify("geometry::Point"), "geometry::Point");
        assert_eq!(simplify("std::vector<int, std::allocator<int> >::size"), "std::vector<int>::size");
    }
}
