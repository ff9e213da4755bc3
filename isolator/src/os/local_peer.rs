//! Who is at the other end of a loopback TCP connection.
//!
//! Every local user can connect to every loopback port, so trusting an
//! address ("127.0.0.1 may do this") trusts every Unix user of the machine.
//! For a connection between two sockets of this machine the kernel knows
//! which user created the other socket: `/proc/net/tcp` and `/proc/net/tcp6`
//! list every socket with its owner's uid. A listener that must serve only
//! certain users looks its peer up here and refuses anyone else:
//! - the DevTools bridge ([`crate::browser`]): the server's own user only;
//! - each session's egress proxy ([`crate::egress`]): the user Chromium runs
//!   as, and the server's own;
//! - the trusted proxy of `auth.mode = "header"` when it connects over
//!   loopback: the users named in `auth.trusted_proxy_users`.
//!
//! The uid of a socket is fixed when the socket is created; passing the
//! descriptor to another process does not change it, so a local user cannot
//! borrow another user's identity. A peer that cannot be found (it closed
//! already, or the table could not be read) is reported as unknown, which
//! every caller treats as a refusal.

use std::net::{IpAddr, SocketAddr};

/// The uid owning the TCP socket at `peer` that is connected to `listener`
/// (the far end of a connection accepted on `listener`), or `None` when no
/// such socket is listed.
pub fn peer_uid(listener: SocketAddr, peer: SocketAddr) -> Option<u32> {
    let (peer, listener) = (unmap(peer), unmap(listener));
    let table = match (peer.ip(), listener.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => "/proc/net/tcp",
        (IpAddr::V6(_), IpAddr::V6(_)) => "/proc/net/tcp6",
        _ => return None,
    };
    let text = std::fs::read_to_string(table).ok()?;
    uid_in_table(&text, listener, peer).or_else(|| {
        // A v4 client of a dual-stack listener is listed in tcp6 as
        // ::ffff:a.b.c.d.
        let mapped = |a: SocketAddr| match a {
            SocketAddr::V4(v4) => Some(SocketAddr::new(
                IpAddr::V6(v4.ip().to_ipv6_mapped()),
                v4.port(),
            )),
            SocketAddr::V6(_) => None,
        };
        let (l6, p6) = (mapped(listener)?, mapped(peer)?);
        let text = std::fs::read_to_string("/proc/net/tcp6").ok()?;
        uid_in_table(&text, l6, p6)
    })
}

/// The uid owning the TCP socket at `peer` that is connected to port `port`
/// of this machine, at whichever local address: for a server that knows its
/// port but not which address a loopback client dialled (a listener on
/// `0.0.0.0` reached as 127.0.0.1 or 127.0.0.2).
pub fn peer_uid_to_port(port: u16, peer: SocketAddr) -> Option<u32> {
    let peer = unmap(peer);
    let table = match peer.ip() {
        IpAddr::V4(_) => "/proc/net/tcp",
        IpAddr::V6(_) => "/proc/net/tcp6",
    };
    let text = std::fs::read_to_string(table).ok()?;
    let port = format!(":{port:04X}");
    find_uid(&text, peer, |remote| remote.ends_with(&port))
}

/// Whether the far end of a connection accepted on `listener` from `peer`
/// belongs to one of `uids`. Unknown peers are not.
pub fn peer_is_one_of(listener: SocketAddr, peer: SocketAddr, uids: &[u32]) -> bool {
    peer_uid(listener, peer).is_some_and(|uid| uids.contains(&uid))
}

/// The uid of a user given by name or as a number, from `/etc/passwd`.
pub fn uid_of(user: &str) -> Option<u32> {
    if let Ok(uid) = user.parse() {
        return Some(uid);
    }
    crate::os::lookup_user(user).map(|(uid, _)| uid)
}

/// A v4-mapped v6 address as the v4 address it carries.
fn unmap(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => a,
        },
        SocketAddr::V4(_) => a,
    }
}

/// The uid column of the row whose local address is `peer` and remote
/// address is `listener`.
fn uid_in_table(table: &str, listener: SocketAddr, peer: SocketAddr) -> Option<u32> {
    let remote = proc_addr(listener);
    find_uid(table, peer, |r| r.eq_ignore_ascii_case(&remote))
}

/// The uid column of the first row whose local address is `peer` and whose
/// remote address passes `remote`.
fn find_uid(table: &str, peer: SocketAddr, remote: impl Fn(&str) -> bool) -> Option<u32> {
    let local = proc_addr(peer);
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() > 7 && f[1].eq_ignore_ascii_case(&local) && remote(f[2]))
            .then(|| f[7].parse().ok())?
    })
}

/// An address as `/proc/net/tcp{,6}` prints it: the address's 32-bit words
/// each in host byte order as hex, a colon, the port as hex.
fn proc_addr(addr: SocketAddr) -> String {
    let words: String = match addr.ip() {
        IpAddr::V4(ip) => format!("{:08X}", u32::from_ne_bytes(ip.octets())),
        IpAddr::V6(ip) => ip
            .octets()
            .chunks_exact(4)
            .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
            .collect(),
    };
    format!("{words}:{:04X}", addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_owner_of_the_connecting_socket_in_a_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:A000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 1 1\n\
   1: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n";
        let listener: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:40960".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(uid_in_table(table, listener, peer), Some(65534));
            assert_eq!(uid_in_table(table, peer, listener), Some(0));
        }
        let elsewhere: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(uid_in_table(table, listener, elsewhere), None);
    }

    /// Real sockets, v4 and v6: the peer of a connection this process made
    /// is this process's user; an address with no socket is unknown.
    #[test]
    fn real_connections_are_ours_and_strangers_unknown() {
        let me = rustix::process::geteuid().as_raw();
        for bind in ["127.0.0.1:0", "[::1]:0"] {
            let Ok(listener) = std::net::TcpListener::bind(bind) else {
                assert!(bind.starts_with('['), "cannot bind {bind}");
                continue; // a machine without IPv6 loopback
            };
            let addr = listener.local_addr().unwrap();
            let client = std::net::TcpStream::connect(addr).unwrap();
            let (_server_side, peer) = listener.accept().unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(peer_uid(addr, peer), Some(me), "{bind}");
            assert_eq!(peer_uid_to_port(addr.port(), peer), Some(me), "{bind}");
            assert!(peer_is_one_of(addr, peer, &[me]));
            assert!(!peer_is_one_of(addr, peer, &[me + 1]));
            let mut nobody = peer;
            nobody.set_port(1);
            assert_eq!(peer_uid(addr, nobody), None);
        }
    }

    /// A socket another user (nobody) opens to our listener is listed as
    /// nobody's.
    #[test]
    fn another_users_connection_is_theirs() {
        assert_eq!(
            rustix::process::geteuid().as_raw(),
            0,
            "the attack tests run as root (make test) to act as another user"
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut child = std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .args(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$1; sleep 5", "x"])
            .arg(addr.port().to_string())
            .spawn()
            .unwrap();
        let (_conn, peer) = listener.accept().unwrap();
        let nobody = uid_of("nobody").unwrap();
        assert_eq!(peer_uid(addr, peer), Some(nobody));
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn users_by_name_or_number() {
        assert_eq!(uid_of("root"), Some(0));
        assert_eq!(uid_of("4242"), Some(4242));
        assert_eq!(uid_of("no-such-user-here"), None);
    }
}
