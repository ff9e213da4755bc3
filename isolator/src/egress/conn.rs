//! The connections the inspected exchange runs over: plain TCP, or TLS on
//! either leg when the proxy intercepts `https://` and `wss://`.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A byte stream to the browser or the destination.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The TCP connection underneath.
    fn tcp(&self) -> &TcpStream;

    /// Makes closing this connection send a TCP reset, so the far end sees
    /// an aborted request rather than a short one.
    fn reset_on_close(&self) {
        // A zero linger never blocks: the close sends a reset at once.
        #[allow(deprecated)]
        let _ = self.tcp().set_linger(Some(Duration::ZERO));
    }
}

impl Conn for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Conn for tokio_rustls::client::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

impl Conn for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}
