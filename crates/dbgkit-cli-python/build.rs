//! Embeds the `dbgkit` Python package (crates/dbgkit-python/python/dbgkit)
//! in the plugin: the debugger's Python imports it from the plugin itself,
//! so the command line and its Python sources are always of one build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, package: &str, out: &mut Vec<(String, bool, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("the dbgkit package").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && path.join("__init__.py").is_file() {
            let sub = format!("{package}.{name}");
            out.push((sub.clone(), true, path.join("__init__.py")));
            collect(&path, &sub, out);
        } else if name.ends_with(".py") && name != "__init__.py" {
            out.push((format!("{package}.{}", name.trim_end_matches(".py")), false, path));
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbgkit-python/python/dbgkit");
    let root = root.canonicalize().expect("crates/dbgkit-python/python/dbgkit");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut modules = vec![("dbgkit".to_string(), true, root.join("__init__.py"))];
    collect(&root, "dbgkit", &mut modules);
    let mut code = String::from("/// (module, is a package, source) of every module of the dbgkit package.\n");
    code.push_str("pub static SOURCES: &[(&str, bool, &str)] = &[\n");
    for (name, package, path) in &modules {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(code, "    ({name:?}, {package}, include_str!({:?})),", path.display().to_string()).unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("sources.rs");
    std::fs::write(out, code).unwrap();
}
