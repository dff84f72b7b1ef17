//! `dbgkit-gdbserver`: starts like gdbserver, serves gdb or lldb on a TCP
//! port or standard input/output, with the dbgkit engine underneath.

use dbgkit_gdbserver::args::{self, Comm, Command, Options, Start};
use dbgkit_gdbserver::connection::{take_stdio, Link, Transport};
use dbgkit_gdbserver::server::{Connection, ConnectionEnd};
use dbgkit_gdbserver::target::{ServerError, ServerTarget};
use std::cell::RefCell;
use std::net::TcpListener;
use std::rc::Rc;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let options = match args::parse(&argv) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            print!("{}", args::USAGE);
            return;
        }
        Ok(Command::Version) => {
            println!("dbgkit-gdbserver {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(message) => {
            eprintln!("dbgkit-gdbserver: {message}\n\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    let result = run(options);
    dbgkit_gdbserver::terminal::take_back();
    if let Err(e) = result {
        eprintln!("dbgkit-gdbserver: {e}");
        std::process::exit(1);
    }
}

fn run(options: Options) -> Result<(), ServerError> {
    let mut target = ServerTarget::new(options.debug);
    target.extended = options.multi;
    target.launch.disable_aslr = options.disable_randomization;
    // In stdio mode the protocol keeps the real standard streams; the
    // program gets /dev/null and our standard error (before it is launched).
    let stdio = match options.comm {
        Comm::Stdio => Some(take_stdio().map_err(|e| ServerError::Usage(format!("cannot set up stdio: {e}")))?),
        Comm::Tcp(_) => None,
    };
    match &options.start {
        Start::Launch(argv) => match target.launch(argv) {
            Ok(pid) => eprintln!("Process {} created; pid = {pid}", argv[0]),
            Err(e) => {
                eprintln!("{}: {e}.", argv[0]);
                return Err(ServerError::Usage("cannot start the program; exiting".into()));
            }
        },
        Start::Attach(pid) => {
            target.attach(*pid).map_err(|e| ServerError::Usage(format!("Cannot attach to process {pid}: {e}")))?;
            eprintln!("Attached; pid = {pid}");
        }
        Start::Nothing => {}
    }
    if let Some(Start::Launch(argv)) = Some(&options.start) {
        target.last_argv = Some(argv.clone());
    }

    if let Some((input, output)) = stdio {
        eprintln!("Remote debugging using stdio");
        let mut transport = Transport::from_fds(input, output);
        transport.set_trace(options.remote_debug);
        let end = serve_one(&mut target, transport)?;
        finish(&mut target, end)?;
        return Ok(());
    }

    let Comm::Tcp(address) = options.comm else { unreachable!("stdio handled above") };
    let listener = match TcpListener::bind(address) {
        Ok(listener) => listener,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!("Can't bind address: Address already in use.");
            target.abandon()?;
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("Can't bind address: {e}.");
            target.abandon()?;
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(address.port());
    eprintln!("Listening on port {port}");
    loop {
        let (stream, peer) = listener.accept().map_err(|e| ServerError::Usage(format!("accept failed: {e}")))?;
        eprintln!("Remote debugging from host {}, port {}", peer.ip(), peer.port());
        let mut transport =
            Transport::socket(stream).map_err(|e| ServerError::Usage(format!("cannot use the connection: {e}")))?;
        transport.set_trace(options.remote_debug);
        let end = serve_one(&mut target, transport)?;
        let reconnect =
            end == ConnectionEnd::ClientGone && !options.once && !target.exit_requested && target.inferior.is_some();
        if reconnect {
            // As gdbserver without --once: the process waits, stopped, for the next client.
            eprintln!("Remote side has terminated connection.  GDBserver will reopen the connection.");
            target.hold_for_next_client()?;
        } else {
            finish(&mut target, end)?;
        }
        let more = reconnect || (target.extended && !target.exit_requested);
        if options.once || !more {
            return Ok(());
        }
        eprintln!("Listening on port {port}");
    }
}

fn serve_one(target: &mut ServerTarget, transport: Transport) -> Result<ConnectionEnd, ServerError> {
    let link = Link(Rc::new(RefCell::new(transport)));
    let mut connection = Connection::new(target, link);
    match connection.serve() {
        Ok(end) => Ok(end),
        Err(e) => {
            // The target is left clean whatever went wrong.
            eprintln!("dbgkit-gdbserver: {e}");
            Ok(ConnectionEnd::ClientGone)
        }
    }
}

/// Leaves the target as gdbserver would when a connection ends.
fn finish(target: &mut ServerTarget, end: ConnectionEnd) -> Result<(), ServerError> {
    if end == ConnectionEnd::ClientGone && target.inferior.is_some() {
        eprintln!("Remote side has terminated connection.");
    }
    if end == ConnectionEnd::ClientGone {
        target.abandon()?;
    }
    Ok(())
}
