//! The engine's hardware breakpoints and watchpoints are written as x86
//! debug registers (DR0-DR3 addresses, DR7 control, DR6 status). A stub
//! has no debug registers to write, only `Z1`-`Z4` points: this keeps the
//! registers the engine writes (one set for the process, as the points
//! are), turns DR7 into the points to plant (with the DR7 arithmetic of
//! `breakpoints/hardware.rs`), and makes up DR6 from the stop reply that
//! names a watchpoint (`watch:`, `rwatch:`, `awatch:`) or a hardware
//! breakpoint at the thread's pc.

use super::client::PointKind;
use crate::breakpoints::hardware::{dr7_slot, WatchAccess};
use std::collections::HashMap;

/// One point a slot stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Point {
    pub kind: PointKind,
    pub address: u64,
    pub len: u64,
}

/// Points with the slot each stands for.
pub type SlotPoints = Vec<(usize, Point)>;

/// The debug registers of a process, as the engine wrote them, and the
/// points planted for them.
#[derive(Debug, Default)]
pub struct DebugSlots {
    addresses: [u64; 4],
    dr7: u64,
    planted: [Option<Point>; 4],
    /// DR6 of each thread: the slots its last stop fired.
    status: HashMap<i32, u64>,
}

impl DebugSlots {
    /// A debug register as last written (DR6: the thread's made-up status).
    pub fn get(&self, tid: i32, index: usize) -> u64 {
        match index {
            0..=3 => self.addresses[index],
            6 => self.status.get(&tid).copied().unwrap_or(0),
            7 => self.dr7,
            _ => 0,
        }
    }

    /// Records a write; returns true when the points must be brought in
    /// line now (DR7 enables something). DR7 written 0, as the engine does
    /// before changing addresses, waits for the next resume.
    pub fn set(&mut self, tid: i32, index: usize, value: u64) -> bool {
        match index {
            0..=3 => self.addresses[index] = value,
            6 => {
                self.status.insert(tid, value);
            }
            7 => {
                self.dr7 = value;
                return value != 0;
            }
            _ => {}
        }
        false
    }

    /// The point DR7 and DR0-DR3 ask for in each slot.
    pub fn wanted(&self) -> [Option<Point>; 4] {
        let mut out = [None; 4];
        for (slot, point) in out.iter_mut().enumerate() {
            *point = dr7_slot(self.dr7, slot).map(|(access, len)| Point {
                kind: match access {
                    WatchAccess::Execute => PointKind::Hardware,
                    WatchAccess::Write => PointKind::WriteWatch,
                    WatchAccess::Read => PointKind::ReadWatch,
                    WatchAccess::ReadWrite => PointKind::AccessWatch,
                },
                address: self.addresses[slot],
                len,
            });
        }
        out
    }

    /// What to remove and what to plant to match the registers, by slot.
    pub fn changes(&self) -> (SlotPoints, SlotPoints) {
        let mut remove = Vec::new();
        let mut insert = Vec::new();
        for (slot, (planted, wanted)) in self.planted.iter().zip(self.wanted()).enumerate() {
            if *planted != wanted {
                remove.extend(planted.map(|p| (slot, p)));
                insert.extend(wanted.map(|p| (slot, p)));
            }
        }
        (remove, insert)
    }

    /// Records what is planted in a slot now.
    pub fn set_planted(&mut self, slot: usize, point: Option<Point>) {
        self.planted[slot] = point;
    }

    /// Every planted point.
    pub fn planted(&self) -> impl Iterator<Item = Point> + '_ {
        self.planted.iter().flatten().copied()
    }

    /// Whether an execute point is planted at `pc`.
    pub fn executes_at(&self, pc: u64) -> Option<Point> {
        self.planted().find(|p| p.kind == PointKind::Hardware && p.address == pc)
    }

    /// Sets the thread's DR6 for a stop: the watchpoint slot covering
    /// `watched` (an access address the stub named), or the execute slot at `pc`.
    pub fn record_stop(&mut self, tid: i32, watched: Option<u64>, pc: Option<u64>) {
        let mut dr6 = 0;
        for (slot, p) in self.planted.iter().enumerate() {
            let Some(p) = p else { continue };
            let fired = match (p.kind, watched, pc) {
                (PointKind::Hardware, _, Some(pc)) => p.address == pc,
                (PointKind::Hardware, _, None) => false,
                // Stubs name the watched address or the accessed one: either lies in the range.
                (_, Some(a), _) => a >= p.address && a < p.address + p.len.max(1),
                (_, None, _) => false,
            };
            if fired {
                dr6 |= 1 << slot;
            }
        }
        if dr6 == 0 {
            self.status.remove(&tid);
        } else {
            self.status.insert(tid, dr6);
        }
    }

    /// Whether any point is wanted or planted.
    pub fn in_use(&self) -> bool {
        self.dr7 != 0 || self.planted.iter().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breakpoints::hardware::dr7_with;

    #[test]
    fn registers_become_points_and_stops_become_dr6() {
        let mut s = DebugSlots::default();
        // As the engine writes a 4-byte write watch in slot 1 and an execute breakpoint in slot 0.
        assert!(!s.set(7, 7, 0));
        s.set(7, 0, 0x401000);
        s.set(7, 1, 0x404040);
        let dr7 = dr7_with(dr7_with(0, 1, WatchAccess::Write, 4).unwrap(), 0, WatchAccess::Execute, 1).unwrap();
        assert!(s.set(7, 7, dr7));
        let (remove, insert) = s.changes();
        assert!(remove.is_empty());
        assert_eq!(
            insert,
            vec![
                (0, Point { kind: PointKind::Hardware, address: 0x401000, len: 1 }),
                (1, Point { kind: PointKind::WriteWatch, address: 0x404040, len: 4 })
            ]
        );
        for (slot, p) in insert {
            s.set_planted(slot, Some(p));
        }
        assert_eq!(s.changes(), (vec![], vec![]));
        // The same registers written for a second thread change nothing.
        s.set(8, 7, 0);
        s.set(8, 7, dr7);
        assert_eq!(s.changes(), (vec![], vec![]));
        // A stop at a write inside the watched range: DR6 names slot 1.
        s.record_stop(8, Some(0x404042), Some(0x401234));
        assert_eq!(s.get(8, 6), 0b10);
        assert_eq!(s.get(7, 6), 0);
        s.record_stop(7, None, Some(0x401000));
        assert_eq!(s.get(7, 6), 0b01);
        assert!(s.executes_at(0x401000).is_some());
        s.set(7, 6, 0);
        assert_eq!(s.get(7, 6), 0);
        // Everything off: both points go.
        s.set(7, 7, 0);
        assert_eq!(s.changes().0.len(), 2);
    }
}
