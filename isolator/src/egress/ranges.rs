//! Built-in address ranges the isolated browser may never reach by default.
//!
//! [`classify`] answers "is this address special, and which range is it in?"
//! for every address the egress proxy is about to connect to. IPv6 forms that
//! embed an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and 6to4
//! `2002::/16`) are unwrapped and the embedded address is classified too, so
//! `[::ffff:127.0.0.1]` is loopback exactly like `127.0.0.1`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// A special-purpose range that is blocked unless an allow rule says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Range {
    /// `0.0.0.0` and `::`: on Linux, connecting to them reaches the local host.
    Unspecified,
    /// `0.0.0.0/8` ("this network").
    ThisNetwork,
    /// `127.0.0.0/8` and `::1`.
    Loopback,
    /// `169.254.0.0/16` and `fe80::/10`.
    LinkLocal,
    /// `169.254.169.254` (and `fd00:ec2::254`): cloud instance metadata services.
    CloudMetadata,
    /// `10/8`, `172.16/12`, `192.168/16` (RFC 1918).
    Private,
    /// `fc00::/7` unique local addresses (the IPv6 private range) and the
    /// deprecated site-local `fec0::/10`.
    UniqueLocal,
    /// `100.64.0.0/10`, carrier-grade NAT shared space (RFC 6598).
    SharedCgnat,
    /// `224.0.0.0/4` and `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// Documentation ranges: `192.0.2/24`, `198.51.100/24`, `203.0.113/24`,
    /// `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// Benchmarking ranges: `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// Other IANA special-purpose space: `192.0.0/24`, `192.88.99/24`,
    /// `240/4`, `100::/64`, Teredo `2001::/32`, ORCHID `2001:10::/28` and
    /// `2001:20::/28`, local-use NAT64 `64:ff9b:1::/48`, and the deprecated
    /// IPv4-compatible space.
    Reserved,
}

impl Range {
    /// A short human description, used in block pages and events.
    pub fn describe(self) -> &'static str {
        match self {
            Range::Unspecified => "an unspecified address (this host)",
            Range::ThisNetwork => "a 'this network' address",
            Range::Loopback => "a loopback address",
            Range::LinkLocal => "a link-local address",
            Range::CloudMetadata => "the cloud metadata address",
            Range::Private => "a private address",
            Range::UniqueLocal => "a private (unique local) IPv6 address",
            Range::SharedCgnat => "a carrier-grade NAT address",
            Range::Multicast => "a multicast address",
            Range::Broadcast => "the broadcast address",
            Range::Documentation => "a documentation address",
            Range::Benchmarking => "a benchmarking address",
            Range::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Classifies `ip`: `Some(range)` when it lies in a blocked-by-default range.
pub fn classify(ip: IpAddr) -> Option<Range> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Returns the IPv4 address embedded in an IPv6 address, if it has one of
/// the forms that a kernel, NAT64 gateway or 6to4 relay turns into IPv4.
pub fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // IPv4-mapped ::ffff:a.b.c.d
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        // SIIT IPv4-translated ::ffff:0:a.b.c.d
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        // IPv4-compatible ::a.b.c.d (deprecated; :: and ::1 are not IPv4)
        [0, 0, 0, 0, 0, 0, _, _] if !(s[6] == 0 && s[7] <= 1) => Some(low),
        // NAT64 well-known prefix 64:ff9b::/96
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        // 6to4 2002:AABB:CCDD::/48
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Range> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() {
        return Some(Range::Unspecified);
    }
    if ip.is_broadcast() {
        return Some(Range::Broadcast);
    }
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        return Some(Range::CloudMetadata);
    }
    let range = match (a, b, c) {
        (0, _, _) => Range::ThisNetwork,
        (10, _, _) => Range::Private,
        (100, 64..=127, _) => Range::SharedCgnat,
        (127, _, _) => Range::Loopback,
        (169, 254, _) => Range::LinkLocal,
        (172, 16..=31, _) => Range::Private,
        (192, 0, 0) => Range::Reserved,
        (192, 0, 2) => Range::Documentation,
        (192, 88, 99) => Range::Reserved,
        (192, 168, _) => Range::Private,
        (198, 18..=19, _) => Range::Benchmarking,
        (198, 51, 100) => Range::Documentation,
        (203, 0, 113) => Range::Documentation,
        (224..=239, _, _) => Range::Multicast,
        (240..=255, _, _) => Range::Reserved,
        _ => return None,
    };
    Some(range)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Range> {
    if ip.is_unspecified() {
        return Some(Range::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Range::Loopback);
    }
    if let Some(v4) = embedded_ipv4(ip) {
        // An embedded special address is as special as the address itself;
        // an embedded public one is still odd for IPv4-compatible space.
        return match classify_v4(v4) {
            Some(range) => Some(range),
            None if ip.segments()[..6] == [0; 6] => Some(Range::Reserved),
            None => None,
        };
    }
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        return Some(Range::CloudMetadata);
    }
    let range = match s {
        [0x64, 0xff9b, 0x0001, ..] => Range::Reserved,
        [0x0100, 0, 0, 0, ..] => Range::Reserved,
        [0x2001, 0x0db8, ..] => Range::Documentation,
        [0x2001, 0x0002, 0, ..] => Range::Benchmarking,
        [0x2001, 0x0000, ..] => Range::Reserved,
        [0x2001, x, ..] if (0x0010..=0x002f).contains(&x) => Range::Reserved,
        [x, ..] if (0x3fff..=0x3fff).contains(&x) && s[1] < 0x1000 => Range::Documentation,
        [x, ..] if x & 0xfe00 == 0xfc00 => Range::UniqueLocal,
        [x, ..] if x & 0xffc0 == 0xfe80 => Range::LinkLocal,
        [x, ..] if x & 0xffc0 == 0xfec0 => Range::UniqueLocal,
        [x, ..] if x & 0xff00 == 0xff00 => Range::Multicast,
        _ => return None,
    };
    Some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<Range> {
        classify(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<Range>)] = &[
            ("127.0.0.1", Some(Range::Loopback)),
            ("127.255.255.254", Some(Range::Loopback)),
            ("0.0.0.0", Some(Range::Unspecified)),
            ("0.1.2.3", Some(Range::ThisNetwork)),
            ("10.0.0.1", Some(Range::Private)),
            ("172.16.0.1", Some(Range::Private)),
            ("172.31.255.255", Some(Range::Private)),
            ("172.32.0.1", None),
            ("172.15.255.255", None),
            ("192.168.1.1", Some(Range::Private)),
            ("169.254.169.254", Some(Range::CloudMetadata)),
            ("169.254.1.1", Some(Range::LinkLocal)),
            ("100.64.0.1", Some(Range::SharedCgnat)),
            ("100.127.255.255", Some(Range::SharedCgnat)),
            ("100.128.0.1", None),
            ("224.0.0.1", Some(Range::Multicast)),
            ("239.255.255.250", Some(Range::Multicast)),
            ("255.255.255.255", Some(Range::Broadcast)),
            ("240.0.0.1", Some(Range::Reserved)),
            ("192.0.2.1", Some(Range::Documentation)),
            ("198.51.100.7", Some(Range::Documentation)),
            ("203.0.113.9", Some(Range::Documentation)),
            ("198.18.0.1", Some(Range::Benchmarking)),
            ("192.0.0.8", Some(Range::Reserved)),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("93.184.216.34", None),
            ("::", Some(Range::Unspecified)),
            ("::1", Some(Range::Loopback)),
            ("::ffff:127.0.0.1", Some(Range::Loopback)),
            ("::ffff:7f00:1", Some(Range::Loopback)),
            ("::ffff:169.254.169.254", Some(Range::CloudMetadata)),
            ("::ffff:10.1.2.3", Some(Range::Private)),
            ("::ffff:8.8.8.8", None),
            ("::ffff:0:127.0.0.1", Some(Range::Loopback)),
            ("::127.0.0.1", Some(Range::Loopback)),
            ("::8.8.8.8", Some(Range::Reserved)),
            ("64:ff9b::7f00:1", Some(Range::Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(Range::CloudMetadata)),
            ("64:ff9b::808:808", None),
            ("64:ff9b:1::1", Some(Range::Reserved)),
            ("2002:7f00:1::", Some(Range::Loopback)),
            ("2002:c0a8:101::1", Some(Range::Private)),
            ("2002:808:808::1", None),
            ("fc00::1", Some(Range::UniqueLocal)),
            ("fd12:3456::1", Some(Range::UniqueLocal)),
            ("fd00:ec2::254", Some(Range::CloudMetadata)),
            ("fe80::1", Some(Range::LinkLocal)),
            ("febf::1", Some(Range::LinkLocal)),
            ("fec0::1", Some(Range::UniqueLocal)),
            ("ff02::1", Some(Range::Multicast)),
            ("2001:db8::1", Some(Range::Documentation)),
            ("3fff::1", Some(Range::Documentation)),
            ("2001::1", Some(Range::Reserved)),
            ("2001:10::1", Some(Range::Reserved)),
            ("2001:2::1", Some(Range::Benchmarking)),
            ("100::1", Some(Range::Reserved)),
            ("2606:4700::1111", None),
            ("2a00:1450:4001::200e", None),
        ];
        for (addr, want) in cases {
            assert_eq!(c(addr), *want, "{addr}");
        }
    }
}
