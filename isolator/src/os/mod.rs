//! Facts about the operating system the server runs on, and the private
//! places it keeps its files: a leaf module that imports nothing else of the
//! crate, so every other module may use it.
//!
//! - [`private_fs`]: the umask, private directories and unguessable
//!   temporary directories;
//! - [`local_peer`]: which Unix user is at the other end of a loopback
//!   connection;
//! - [`is_root`], [`lookup_user`]: who the server is and who the users it
//!   drops to are.

pub mod local_peer;
pub mod private_fs;

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    private_fs::euid() == 0
}

/// The uid and gid of a user, from /etc/passwd.
pub fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 4 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_is_uid_zero_in_passwd() {
        assert_eq!(super::lookup_user("root"), Some((0, 0)));
        assert_eq!(super::lookup_user("no-such-user-here"), None);
    }
}
