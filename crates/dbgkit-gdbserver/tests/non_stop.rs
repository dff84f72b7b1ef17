//! Non-stop mode at the protocol level: `vCont` answers `OK` at once,
//! stops arrive as `%Stop` notifications that `vStopped` acknowledges one
//! by one, and each thread runs or stops on its own.

mod common;

use common::*;
use std::time::Duration;

/// The thread a stop reply names (`T..thread:pPID.TID;`).
fn stopped_thread(reply: &str) -> i32 {
    let field =
        reply.split(';').find_map(|f| f.split_once("thread:")).map(|(_, t)| t).unwrap_or_else(|| panic!("{reply}"));
    i32::from_str_radix(field.rsplit('.').next().unwrap(), 16).unwrap()
}

/// The threads the server lists (`qfThreadInfo`/`qsThreadInfo`).
fn threads(c: &mut Client) -> Vec<i32> {
    let mut all = Vec::new();
    let mut reply = c.ask("qfThreadInfo");
    while let Some(list) = reply.strip_prefix('m') {
        all.extend(list.split(',').map(|t| i32::from_str_radix(t.rsplit('.').next().unwrap(), 16).unwrap()));
        reply = c.ask("qsThreadInfo");
    }
    all
}

/// Every stop gdb would collect after a notification: the notification's
/// own, then one per `vStopped` until `OK`.
fn collect_stops(c: &mut Client, first: String) -> Vec<String> {
    let mut stops = vec![first];
    loop {
        let next = c.ask("vStopped");
        if next == "OK" {
            return stops;
        }
        stops.push(next);
    }
}

#[test]
fn threads_stop_one_by_one_and_each_stop_is_notified() {
    let threads_program = fixture("threads");
    let mut server = Server::start(&["--once", "127.0.0.1:0", threads_program.to_str().unwrap(), "3", "1000000000"]);
    let pid = server.pid.unwrap();
    let mut c = server.connect();
    assert!(c.ask("qSupported:multiprocess+").contains("QNonStop+"));
    assert_eq!(c.ask("QNonStop:1"), "OK");
    assert!(c.ask("vCont?").contains(";t"), "vCont;t is offered");

    // The launched process: its one thread stopped, told by `?` then `vStopped`.
    let status = c.ask("?");
    assert!(status.starts_with(&format!("T05thread:p{pid:x}.{pid:x};")), "{status}");
    assert_eq!(c.ask("vStopped"), "OK");

    // `vCont;c` answers OK at once; the program runs and starts its threads.
    assert_eq!(c.ask(&format!("vCont;c:p{pid:x}.-1")), "OK");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut all = threads(&mut c);
    while all.len() < 4 {
        assert!(std::time::Instant::now() < deadline, "the workers never started: {all:?}");
        std::thread::sleep(Duration::from_millis(20));
        all = threads(&mut c);
    }
    let workers: Vec<i32> = all.iter().copied().filter(|&t| t != pid).collect();

    // Stopping one worker: OK, then its stop (signal 0) as a notification.
    let one = workers[0];
    assert_eq!(c.ask(&format!("vCont;t:p{pid:x}.{one:x}")), "OK");
    let note = c.read_notification();
    let stop = note.strip_prefix("Stop:").unwrap_or_else(|| panic!("{note}"));
    assert!(stop.starts_with("T00"), "{stop}");
    assert_eq!(stopped_thread(stop), one);
    assert_eq!(c.ask("vStopped"), "OK");

    // Its registers read while the others run; `?` lists only it.
    assert_eq!(c.ask(&format!("Hgp{pid:x}.{one:x}")), "OK");
    let registers = c.ask("g");
    assert!(registers.len() >= 16 * 17 && registers.bytes().all(|b| b.is_ascii_hexdigit()), "{registers}");
    let status = c.ask("?");
    assert_eq!(stopped_thread(&status), one);
    assert_eq!(c.ask("vStopped"), "OK");

    // The others still run: a Ctrl-C stops one of them with SIGINT.
    assert_eq!(c.ask("vCtrlC"), "OK");
    let note = c.read_notification();
    let interrupted = note.strip_prefix("Stop:").unwrap();
    assert!(interrupted.starts_with("T02"), "{interrupted}");
    let second = stopped_thread(interrupted);
    assert_ne!(second, one, "the stopped worker is not stopped again");
    assert_eq!(c.ask("vStopped"), "OK");

    // Stopping every thread: one notification, the rest through vStopped,
    // each thread once, none of those already stopped.
    assert_eq!(c.ask(&format!("vCont;t:p{pid:x}.-1")), "OK");
    let note = c.read_notification();
    // A resume of every thread before gdb took in those stops leaves them
    // stopped (gdb may still count them running), and resumes the two
    // stopped earlier.
    assert_eq!(c.ask("vCont;c"), "OK");
    let stops = collect_stops(&mut c, note.strip_prefix("Stop:").unwrap().to_string());
    let mut stopped: Vec<i32> = stops.iter().map(|s| stopped_thread(s)).collect();
    stopped.sort();
    let mut expected: Vec<i32> = all.iter().copied().filter(|&t| t != one && t != second).collect();
    expected.sort();
    assert_eq!(stopped, expected, "{stops:?}");
    let status = c.ask("?");
    let mut listed = collect_stops(&mut c, status).iter().map(|s| stopped_thread(s)).collect::<Vec<_>>();
    listed.sort();
    assert_eq!(listed, expected, "only the threads whose stops were not taken in stay stopped");

    // Resuming one thread leaves the others stopped; `?` lists the rest.
    let resumed = expected.remove(0);
    assert_eq!(c.ask(&format!("vCont;c:p{pid:x}.{resumed:x}")), "OK");
    let status = c.ask("?");
    let mut listed = collect_stops(&mut c, status).iter().map(|s| stopped_thread(s)).collect::<Vec<_>>();
    listed.sort();
    assert_eq!(listed, expected);

    c.send_raw(&frame(format!("vKill;{pid:x}").as_bytes()));
    assert_eq!(expand_rle(&c.read_packet()), "OK");
    drop(c);
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
    assert!(!alive(pid));
}
