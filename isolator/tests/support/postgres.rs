//! A real PostgreSQL server for the cluster tests: Debian's `postgresql`
//! package (installed by `isolator/scripts/install-deps.sh`), a fresh
//! cluster made by `initdb` in a temporary directory, listening on
//! 127.0.0.1 with password (SCRAM) authentication, stopped when dropped.
//!
//! PostgreSQL refuses to run as root: under root (CI, this machine) its
//! programs run as the `postgres` system user the package creates (the
//! process's own uid and gid, no wrapper, so signals reach the server), in a
//! directory handed to that user.

#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The password of the `isolator` role the tests connect as.
pub const PASSWORD: &str = "cluster-test-password";

/// A running server; see the module docs.
pub struct Postgres {
    /// 127.0.0.1 port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// The newest installed PostgreSQL's binaries.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run isolator/scripts/install-deps.sh")
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| p.join("postgres").is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect(
            "no PostgreSQL server under /usr/lib/postgresql: run isolator/scripts/install-deps.sh",
        )
        .1
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `program` as the user that may run PostgreSQL.
fn command(program: &Path) -> Command {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(program);
    if is_root() {
        let (uid, gid) = isolator::os::lookup_user("postgres")
            .expect("no `postgres` user: run isolator/scripts/install-deps.sh");
        c.uid(uid).gid(gid);
    }
    c
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    /// A new, empty server with a database `isolator` owned by role `isolator`.
    pub fn start() -> Postgres {
        let dir = tempfile::Builder::new()
            .prefix("isolator-pg-")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown to postgres failed");
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let out = command(&bin_dir().join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "isolator",
                "-A",
                "scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = Postgres {
            port: 0,
            dir,
            child: None,
        };
        pg.run(free_port());
        pg.create_database();
        pg
    }

    /// Starts the server on `port` and waits until it accepts connections.
    fn run(&mut self, port: u16) {
        let data = self.dir.path().join("data");
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = command(&bin_dir().join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(self.dir.path())
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.port = port;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = command(&bin_dir().join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
                .status()
                .unwrap();
            if ready.success() {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "postgres exited with {status}: {}",
                    std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "postgres did not start in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn create_database(&self) {
        self.psql("postgres", "CREATE DATABASE isolator OWNER isolator");
    }

    /// Runs one SQL statement with `psql`; returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .env("PGPASSWORD", PASSWORD)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "isolator",
            ])
            .args(["-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The URL a node connects with.
    pub fn url(&self) -> String {
        format!(
            "postgres://isolator:{PASSWORD}@127.0.0.1:{}/isolator",
            self.port
        )
    }

    /// Stops the server (fast shutdown), as an outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT: PostgreSQL's fast shutdown (disconnects everyone).
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_child(&child),
                rustix::process::Signal::INT,
            );
            let _ = child.wait();
        }
    }

    /// Starts the stopped server again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.run(self.port);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
