//! What can go wrong talking to a stub, each case naming the stub (its
//! address) and what was asked.

/// An error of the GDB remote protocol client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The address could not be reached (or the command could not be started).
    #[error("cannot connect to {address}: {reason}")]
    ConnectFailed { address: String, reason: String },
    /// The stub went away: the socket closed, the pipe broke, or it stopped answering.
    #[error("the connection to {address} was lost ({reason}); its target is no longer debugged")]
    ConnectionLost { address: String, reason: String },
    /// A reply that does not follow the protocol.
    #[error("{address} sent a reply dbgkit cannot read to {request}: {reason}")]
    Protocol { address: String, request: String, reason: String },
    /// The stub answered `Enn`.
    #[error("{address} refused {request} (error {code})")]
    Refused { address: String, request: String, code: String },
    /// The stub answered with an empty packet: it does not know the request.
    #[error("{address} does not support {request}")]
    Unsupported { address: String, request: String },
    /// A bad address or command line given by the user.
    #[error("bad remote address {address:?}: {reason}")]
    BadAddress { address: String, reason: String },
}
