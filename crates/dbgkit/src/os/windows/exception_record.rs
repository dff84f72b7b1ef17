//! What the system reported of the last exception a stop was about: its
//! NTSTATUS, its chance and its parameters (an access violation's kind and
//! address).

/// What the system reported of one exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub tid: u32,
    /// The NTSTATUS (`0xC0000005`).
    pub code: u32,
    pub first_chance: bool,
    /// Where it happened.
    pub address: u64,
    /// `ExceptionInformation[..NumberParameters]`: for an access violation,
    /// the kind (0 read, 1 write, 8 execute) and the address accessed.
    pub parameters: Vec<u64>,
}
