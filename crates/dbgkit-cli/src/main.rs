//! The `dbgkit` command. With Python on the machine, the command line runs
//! from the Python plugin (the same code, with Python inside it: see
//! `python_plugin`); without, from here, and Python commands say how to get
//! Python support.

fn main() {
    let code = match dbgkit_cli::python_plugin::load() {
        Ok(plugin) => plugin.run(),
        Err(why) => dbgkit_cli::run(dbgkit_cli::scripting::Scripting::unavailable(why)),
    };
    std::process::exit(code);
}
