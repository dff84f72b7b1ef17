//! The AVX upper halves of the vector registers, read and written through
//! the XSAVE area of a real stopped thread.

mod common;

use common::*;
use dbgkit::{EventKind, Session, VectorWidth};

#[test]
fn avx_upper_halves_are_written_and_read_back_and_survive_a_step() {
    let StoppedAt { session: mut s, pid, .. } = stopped_at("counter", &["3"], "bump");
    let mut values = [0u128; 16];
    for (i, v) in values.iter_mut().enumerate() {
        *v = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128.wrapping_mul(i as u128 + 1);
    }
    s.set_avx_upper_halves(pid, pid, &values).unwrap();
    assert_eq!(s.avx_upper_halves(pid, pid).unwrap(), values);
    // The lower halves (xmm, through the fxsave area) are untouched by it.
    let xmm = s.fp_registers(pid, pid).unwrap().xmm;
    s.set_avx_upper_halves(pid, pid, &[0; 16]).unwrap();
    assert_eq!(s.fp_registers(pid, pid).unwrap().xmm, xmm);
    s.set_avx_upper_halves(pid, pid, &values).unwrap();
    // bump() does no vector work: the values are still there one instruction on.
    s.step_into(pid, pid).unwrap();
    let step = next(&mut s);
    assert!(matches!(step.kind, EventKind::StepComplete { .. }), "{step:?}");
    assert_eq!(s.avx_upper_halves(pid, pid).unwrap(), values);
    assert!(s.avx_upper_halves(pid, 1).is_err());
    s.kill(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
}

#[test]
fn vector_registers_of_a_core_come_from_the_core() {
    // ymm1 of a written core, read after the process is gone: the core's
    // XSAVE note answers, not the (dead) thread the core names.
    let StoppedAt { session: mut s, pid, .. } = stopped_at("vector_regs", &["ymm"], "stop_here");
    let live = s.vector_register(pid, pid, VectorWidth::Ymm, 1).unwrap();
    assert_eq!(live, [0x2222222222222222_1111111111111111, 0x4444444444444444_3333333333333333]);
    let dir = std::env::temp_dir().join(format!("dbgkit-avx-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let core = dir.join("core");
    s.write_core(pid, &core).unwrap();
    drop(s);

    let mut post = Session::new();
    let core_pid = post.open_core(&core, Some(&fixture("vector_regs"))).unwrap();
    let tid = post.threads(core_pid).unwrap()[0];
    assert_eq!(post.vector_register(core_pid, tid, VectorWidth::Ymm, 1).unwrap(), live);
    assert_eq!(post.avx_upper_halves(core_pid, tid).unwrap()[1], live[1]);
    let err = post.set_vector_register(core_pid, tid, VectorWidth::Ymm, 1, &[0, 0]).unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
