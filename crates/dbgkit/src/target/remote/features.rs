//! `qSupported`: what dbgkit offers, and what the stub says it can do.

/// What dbgkit tells the stub it understands. Fork, vfork and exec events
/// are left out (children are not followed); thread creation and exit are
/// asked for with `QThreadEvents` once the stub says it has them.
pub const OFFERED: &str =
    "qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;QThreadEvents+;no-resumed+;xmlRegisters=i386";

/// The stub's side of the negotiation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// The largest packet the stub takes (data bytes, before framing).
    pub packet_size: usize,
    pub no_ack_mode: bool,
    /// Thread ids carry their process (`pPID.TID`).
    pub multiprocess: bool,
    /// Stop replies say `swbreak:` / `hwbreak:` when a breakpoint stopped the thread.
    pub swbreak: bool,
    pub hwbreak: bool,
    pub target_xml: bool,
    pub auxv: bool,
    pub libraries_svr4: bool,
    /// `qXfer:libraries:read`: the library list in the Windows form (each
    /// DLL with the address of its first section).
    pub libraries: bool,
    pub threads: bool,
    pub exec_file: bool,
    pub siginfo: bool,
    /// `QThreadEvents`: thread creation and exit come as stop replies.
    pub thread_events: bool,
    /// `vCont?` is worth asking.
    pub vcont: bool,
    /// Every `name[=value]` as the stub sent it (`+`/`-` kept in the name).
    pub raw: Vec<String>,
}

impl Default for Features {
    /// What a stub that answered nothing (an empty `qSupported` reply) has.
    fn default() -> Self {
        Features {
            packet_size: 400,
            no_ack_mode: false,
            multiprocess: false,
            swbreak: false,
            hwbreak: false,
            target_xml: false,
            auxv: false,
            libraries_svr4: false,
            libraries: false,
            threads: false,
            exec_file: false,
            siginfo: false,
            thread_events: false,
            vcont: false,
            raw: Vec::new(),
        }
    }
}

impl Features {
    /// Reads a `qSupported` reply.
    pub fn parse(reply: &[u8]) -> Features {
        let text = String::from_utf8_lossy(reply);
        let mut f = Features::default();
        for item in text.split(';').filter(|s| !s.is_empty()) {
            f.raw.push(item.to_string());
            if let Some(size) = item.strip_prefix("PacketSize=") {
                if let Ok(n) = usize::from_str_radix(size, 16) {
                    // Below this a memory read could not carry a useful answer.
                    f.packet_size = n.clamp(64, super::packet::MAX_PACKET);
                }
                continue;
            }
            let Some(name) = item.strip_suffix('+') else { continue };
            match name {
                "QStartNoAckMode" => f.no_ack_mode = true,
                "multiprocess" => f.multiprocess = true,
                "swbreak" => f.swbreak = true,
                "hwbreak" => f.hwbreak = true,
                "qXfer:features:read" => f.target_xml = true,
                "qXfer:auxv:read" => f.auxv = true,
                "qXfer:libraries-svr4:read" => f.libraries_svr4 = true,
                "qXfer:libraries:read" => f.libraries = true,
                "qXfer:threads:read" => f.threads = true,
                "qXfer:exec-file:read" => f.exec_file = true,
                "qXfer:siginfo:read" => f.siginfo = true,
                "QThreadEvents" => f.thread_events = true,
                "vContSupported" => f.vcont = true,
                _ => {}
            }
        }
        f
    }

    /// Whether the stub named a feature (`name+`).
    pub fn has(&self, name: &str) -> bool {
        self.raw.iter().any(|r| r.strip_suffix('+') == Some(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_and_gdbserver_replies() {
        // QEMU 7.2's system emulator.
        let q = Features::parse(b"PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+");
        assert_eq!(q.packet_size, 0x1000);
        assert!(q.target_xml && q.multiprocess && q.vcont);
        assert!(!q.no_ack_mode && !q.swbreak && !q.threads);
        // Debian's gdbserver 13.1 (abridged).
        let g = Features::parse(
            b"PacketSize=47ff;QPassSignals+;qXfer:libraries-svr4:read+;augmented-libraries-svr4-read+;\
              qXfer:auxv:read+;qXfer:siginfo:read+;qXfer:features:read+;QStartNoAckMode+;multiprocess+;\
              qXfer:threads:read+;swbreak+;hwbreak+;qXfer:exec-file:read+;vContSupported+;QThreadEvents+",
        );
        assert_eq!(g.packet_size, 0x47ff);
        assert!(g.no_ack_mode && g.libraries_svr4 && g.auxv && g.siginfo && g.threads && g.exec_file);
        assert!(g.swbreak && g.hwbreak && g.thread_events);
        assert!(g.has("QPassSignals") && !g.has("QNonStop"));
        // An empty reply: the protocol's defaults.
        assert_eq!(Features::parse(b""), Features::default());
        assert_eq!(Features::parse(b"PacketSize=zz").packet_size, 400);
    }
}
