//! The kernel's lists walked in its memory: every process from
//! `init_task.tasks`, every loaded module from `modules`. Both are
//! `list_head` rings; a ring that does not close within a bound, or a link
//! that cannot be read, ends the walk with what was found and why.

use super::types::{ModuleOffsets, TaskOffsets};

/// Reads target memory: true when every byte was read.
pub type ReadMemory<'a> = dyn FnMut(u64, &mut [u8]) -> bool + 'a;

/// The longest list walked (a corrupt ring must not hang the debugger).
const MAX_ENTRIES: usize = 1 << 16;

/// One process of the kernel's task list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskEntry {
    /// The `task_struct`.
    pub address: u64,
    pub pid: i32,
    pub tgid: i32,
    pub comm: String,
    /// The parent's pid (0 when unknown).
    pub parent_pid: i32,
    /// The `mm_struct` (0 for a kernel thread).
    pub mm: u64,
}

/// One loaded module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleEntry {
    /// The `struct module`.
    pub address: u64,
    pub name: String,
    pub base: u64,
    pub size: u64,
}

fn read_u64(read: &mut ReadMemory<'_>, address: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    read(address, &mut b).then(|| u64::from_le_bytes(b))
}

fn read_i32(read: &mut ReadMemory<'_>, address: u64) -> Option<i32> {
    let mut b = [0u8; 4];
    read(address, &mut b).then(|| i32::from_le_bytes(b))
}

fn read_name(read: &mut ReadMemory<'_>, address: u64, len: u64) -> Option<String> {
    let mut b = vec![0u8; len.min(256) as usize];
    read(address, &mut b).then(|| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    })
}

/// Follows a `list_head` ring from `head`; gives each entry's address
/// (`node - link_offset`). Err: why the walk ended early, with the entries so far.
fn ring(read: &mut ReadMemory<'_>, head: u64, link_offset: u64) -> Result<Vec<u64>, (Vec<u64>, String)> {
    let mut out = Vec::new();
    let mut node =
        read_u64(read, head).ok_or_else(|| (Vec::new(), format!("cannot read the list head at {head:#x}")))?;
    while node != head {
        if out.len() >= MAX_ENTRIES {
            return Err((out, format!("the list at {head:#x} does not close after {MAX_ENTRIES} entries")));
        }
        out.push(node.wrapping_sub(link_offset));
        let next = match read_u64(read, node) {
            Some(n) if n != 0 => n,
            _ => return Err((out, format!("cannot follow the list link at {node:#x}"))),
        };
        node = next;
    }
    Ok(out)
}

/// Every process, `init_task` (pid 0, the idle task) first.
pub fn tasks(read: &mut ReadMemory<'_>, init_task: u64, t: &TaskOffsets) -> (Vec<TaskEntry>, Option<String>) {
    let (addresses, stopped) = match ring(read, init_task + t.tasks, t.tasks) {
        Ok(a) => (a, None),
        Err((a, why)) => (a, Some(why)),
    };
    let mut out = Vec::new();
    for address in std::iter::once(init_task).chain(addresses) {
        let (Some(pid), Some(tgid), Some(comm)) = (
            read_i32(read, address + t.pid),
            read_i32(read, address + t.tgid),
            read_name(read, address + t.comm, t.comm_len),
        ) else {
            return (out, Some(format!("cannot read the task_struct at {address:#x}")));
        };
        let parent_pid = t
            .real_parent
            .and_then(|o| read_u64(read, address + o))
            .filter(|&p| p != 0)
            .and_then(|p| read_i32(read, p + t.pid))
            .unwrap_or(0);
        let mm = t.mm.and_then(|o| read_u64(read, address + o)).unwrap_or(0);
        out.push(TaskEntry { address, pid, tgid, comm, parent_pid, mm });
    }
    (out, stopped)
}

/// Every loaded module, in the kernel's order (the last loaded first).
pub fn modules(read: &mut ReadMemory<'_>, head: u64, m: &ModuleOffsets) -> (Vec<ModuleEntry>, Option<String>) {
    let (addresses, mut stopped) = match ring(read, head, m.list) {
        Ok(a) => (a, None),
        Err((a, why)) => (a, Some(why)),
    };
    let mut out = Vec::new();
    for address in addresses {
        let (Some(name), Some(base), Some(size)) = (
            read_name(read, address + m.name, m.name_len),
            read_u64(read, address + m.base),
            read_i32(read, address + m.size),
        ) else {
            stopped = Some(format!("cannot read the module at {address:#x}"));
            break;
        };
        out.push(ModuleEntry { address, name, base, size: size as u32 as u64 });
    }
    (out, stopped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A little memory with two modules in a ring.
    #[test]
    fn rings_are_walked_and_broken_ones_reported() {
        let m = ModuleOffsets { list: 8, name: 24, name_len: 56, base: 80, size: 88 };
        let head = 0x1000u64;
        let (a, b) = (0x2000u64, 0x3000u64);
        let mut mem: BTreeMap<u64, u8> = BTreeMap::new();
        let mut put = |at: u64, bytes: &[u8]| {
            for (i, &x) in bytes.iter().enumerate() {
                mem.insert(at + i as u64, x);
            }
        };
        put(head, &(a + 8).to_le_bytes());
        put(a + 8, &(b + 8).to_le_bytes());
        put(b + 8, &head.to_le_bytes());
        put(a + 24, b"qemu_fw_cfg\0");
        put(b + 24, b"e1000\0");
        put(a + 80, &0xffff_ffff_c000_0000u64.to_le_bytes());
        put(a + 88, &0x3000u32.to_le_bytes());
        put(b + 80, &0xffff_ffff_c001_0000u64.to_le_bytes());
        put(b + 88, &0x9000u32.to_le_bytes());
        let mut read = |at: u64, buf: &mut [u8]| {
            for (i, slot) in buf.iter_mut().enumerate() {
                // Unwritten bytes of the structures read as zeros; the rest is unmapped.
                *slot = match mem.get(&(at + i as u64)) {
                    Some(&x) => x,
                    None if (0x1000..0x4000).contains(&(at + i as u64)) => 0,
                    None => return false,
                };
            }
            true
        };
        let (list, stopped) = modules(&mut read, head, &m);
        assert_eq!(stopped, None);
        let names: Vec<(&str, u64, u64)> = list.iter().map(|e| (e.name.as_str(), e.base, e.size)).collect();
        assert_eq!(names, [("qemu_fw_cfg", 0xffff_ffff_c000_0000, 0x3000), ("e1000", 0xffff_ffff_c001_0000, 0x9000)]);
        // A link into unmapped memory: what was found, and why it stopped.
        let mut broken = |at: u64, buf: &mut [u8]| {
            if at == a + 8 {
                return false;
            }
            read(at, buf)
        };
        let (list, stopped) = modules(&mut broken, head, &m);
        assert_eq!(list.len(), 1);
        assert!(stopped.unwrap().contains("cannot follow"));
    }
}
