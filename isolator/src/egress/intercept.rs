//! An intercepted TLS tunnel: the browser's TLS ends in the proxy (with a
//! certificate for the host it asked for, see [`super::tls`]), a verified
//! TLS connection goes to the address the tunnel was checked for, and the
//! request between them is judged like a plain-HTTP one
//! ([`super::proxy::inspect_tunnel`]).
//!
//! Both handshakes run at once, so interception adds no round trip. When
//! the destination's certificate does not verify, the browser's request is
//! answered with a page naming the host and the certificate's fault, and
//! the failure is an egress event like an unreachable host.

use std::net::SocketAddr;

use rustls_pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::config::ProxyLimits;
use super::event::{EgressEvent, RequestKind};
use super::host::TargetHost;
use super::http1;
use super::inspect::Inspect;
use super::page;
use super::policy::{Reason, Verdict};
use super::proxy::{inspect_tunnel, Shared};
use super::tls::Interceptor;

/// Where a CONNECT tunnel goes.
pub(super) struct Tunnel<'a> {
    /// The host the browser named.
    pub host: &'a TargetHost,
    /// The port.
    pub port: u16,
    /// The address connected to (for the event).
    pub addr: Option<SocketAddr>,
}

impl Tunnel<'_> {
    /// `host` or `host:port` (the port only when it is not 443), as sent in `Host`.
    fn authority(&self) -> String {
        match self.port {
            443 => self.host.to_string(),
            p => format!("{}:{p}", self.host),
        }
    }
}

/// Serves one intercepted TLS tunnel; `browser` has been told the tunnel is
/// established and `dest` is connected.
#[allow(clippy::too_many_arguments)]
pub(super) async fn serve(
    browser: TcpStream,
    leftover: Vec<u8>,
    dest: TcpStream,
    tunnel: &Tunnel<'_>,
    tls: &Interceptor,
    inspector: &dyn Inspect,
    shared: &Shared,
    limits: &ProxyLimits,
    shutdown: &mut watch::Receiver<bool>,
) {
    if !leftover.is_empty() {
        // Chromium waits for the tunnel's 200 before its ClientHello.
        tracing::debug!("a TLS tunnel sent bytes before it was established; closed");
        return;
    }
    let config = match tls.server_config(tunnel.host) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(host = %tunnel.host, error = %e, "no certificate for an intercepted host");
            return;
        }
    };
    let name = match tunnel.host {
        TargetHost::Ip(ip) => ServerName::IpAddress((*ip).into()),
        TargetHost::Domain(d) => match ServerName::try_from(d.clone()) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(host = %d, error = %e, "not a TLS server name");
                return;
            }
        },
    };
    let accept = TlsAcceptor::from(config).accept(browser);
    let connect = TlsConnector::from(tls.client_config()).connect(name, dest);
    let (browser, dest) = tokio::join!(
        timeout(limits.header_timeout(), accept),
        timeout(limits.connect_timeout(), connect)
    );
    let Ok(Ok(mut browser)) = browser else {
        tracing::debug!(host = %tunnel.host, "the browser's TLS handshake failed");
        return;
    };
    if let Some(sni) = browser.get_ref().1.server_name() {
        if !sni.eq_ignore_ascii_case(&tunnel.host.to_string()) {
            tracing::warn!(host = %tunnel.host, "a TLS tunnel named another host in its handshake; closed");
            return;
        }
    }
    let dest = match dest {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            let error = certificate_fault(&e);
            fail(&mut browser, tunnel, shared, limits, error).await;
            return;
        }
        Err(_) => {
            let error = "the TLS handshake timed out".to_owned();
            fail(&mut browser, tunnel, shared, limits, error).await;
            return;
        }
    };
    let authority = tunnel.authority();
    inspect_tunnel(
        browser,
        Vec::new(),
        dest,
        inspector,
        &format!("https://{authority}"),
        &authority,
        limits,
        shutdown,
    )
    .await;
}

/// The destination's TLS failed: the browser's request gets a page saying
/// why, and the failure is reported.
async fn fail(
    browser: &mut tokio_rustls::server::TlsStream<TcpStream>,
    tunnel: &Tunnel<'_>,
    shared: &Shared,
    limits: &ProxyLimits,
    error: String,
) {
    let reason = Reason::Certificate { error };
    tracing::info!(host = %tunnel.host, reason = %reason, "egress refused");
    let _ = shared.events.send(EgressEvent {
        kind: RequestKind::Connect,
        target: format!("{}:{}", tunnel.host, tunnel.port),
        addrs: tunnel.addr.map(|a| a.ip()).into_iter().collect(),
        verdict: Verdict::Failed,
        reason: reason.clone(),
    });
    // Answer the request the browser sends, not before it.
    let head = http1::read_head(&mut *browser, limits.max_header_bytes);
    if timeout(limits.header_timeout(), head).await.is_ok() {
        let page = page::html_response(502, &tunnel.host.to_string(), &reason);
        let _ = browser.write_all(&page).await;
    }
    let _ = browser.shutdown().await;
}

/// What was wrong with the destination's TLS, in words a user can act on.
fn certificate_fault(e: &std::io::Error) -> String {
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return format!("the TLS connection failed: {e}");
    };
    use rustls::CertificateError as C;
    match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => {
                "its certificate is issued by an authority the isolator does not trust".into()
            }
            C::Expired | C::ExpiredContext { .. } => "its certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "its certificate is not valid yet".into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "its certificate is for another name".into()
            }
            C::Revoked => "its certificate has been revoked".into(),
            C::BadSignature => "its certificate has a bad signature".into(),
            other => format!("its certificate is not valid ({other:?})"),
        },
        rustls::Error::AlertReceived(a) => format!("it refused the TLS connection ({a:?})"),
        other => format!("the TLS connection failed: {other}"),
    }
}
