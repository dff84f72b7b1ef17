//! Demangling Rust and C++ names; the raw name is always kept beside.

/// The readable form of a symbol name: Rust (legacy and v0) and Itanium C++
/// names are demangled (Rust without its hash suffix); others come back as they are.
pub fn demangle(raw: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(raw) {
        return format!("{d:#}");
    }
    if raw.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(raw) {
            if let Ok(text) = sym.demangle(&cpp_demangle::DemangleOptions::default()) {
                return gnu_special_names(text);
            }
        }
    }
    raw.to_string()
}

/// cpp_demangle writes `{vtable(K)}` where c++filt and gdb write `vtable for K`.
fn gnu_special_names(text: String) -> String {
    for (theirs, ours) in [("{vtable(", "vtable for "), ("{vtt(", "VTT for ")] {
        if let Some(inner) = text.strip_prefix(theirs).and_then(|t| t.strip_suffix(")}")) {
            return format!("{ours}{inner}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::demangle;

    #[test]
    fn demangles_rust_and_cpp_and_leaves_c_alone() {
        assert_eq!(demangle("_ZN3std2rt10lang_start17h0123456789abcdefE"), "std::rt::lang_start");
        assert_eq!(
            demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"),
            "std::vector<int, std::allocator<int> >::push_back(int const&)"
        );
        assert_eq!(demangle("_ZTVN8geometry6SquareE"), "vtable for geometry::Square");
        assert_eq!(demangle("malloc"), "malloc");
        assert_eq!(demangle("_Zgarbage"), "_Zgarbage");
    }
}
