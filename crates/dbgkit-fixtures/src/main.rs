//! Builds every test fixture (if needed) and prints the directory holding them.

fn main() {
    let out = dbgkit_fixtures::output_dir();
    match dbgkit_fixtures::build_all(&out) {
        Ok(()) => println!("{}", out.canonicalize().unwrap_or(out).display()),
        Err(e) => {
            eprintln!("dbgkit-fixtures: {e}");
            std::process::exit(1);
        }
    }
}
