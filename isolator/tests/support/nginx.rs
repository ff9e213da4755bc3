//! A real nginx in front of the cluster tests' nodes, running the
//! repository's `deploy/nginx/isolator.conf` with its upstream servers and
//! listen address replaced, in a prefix directory of its own.
//!
//! Include it with `#[path = "support/nginx.rs"] mod nginx;` next to
//! `support/node.rs`.

#![allow(dead_code)]

use std::time::Duration;

use super::node::Node;

/// nginx running `isolator/deploy/nginx/isolator.conf` in front of nodes.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Drop for Proxy {
    /// SIGTERM: nginx's master stops its workers (a SIGKILL would orphan
    /// them, holding the test's output open).
    fn drop(&mut self) {
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_child(&self.child),
            rustix::process::Signal::TERM,
        );
        let _ = self.child.wait();
    }
}

impl Proxy {
    /// The repository's nginx file with its upstream servers replaced by
    /// `nodes` and its `listen` by `port`, in a server of its own.
    pub fn start(port: u16, nodes: &[&Node]) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let repo =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx/isolator.conf");
        let mut snippet = String::new();
        let mut servers_written = false;
        for line in std::fs::read_to_string(repo).unwrap().lines() {
            let t = line.trim_start();
            if t.starts_with("server 10.0.3.") {
                if !servers_written {
                    for n in nodes {
                        snippet.push_str(&format!(
                            "    server {} max_fails=1 fail_timeout=5s;\n",
                            n.host()
                        ));
                    }
                    servers_written = true;
                }
            } else if t.starts_with("listen 80;") {
                snippet.push_str(&format!("    listen 127.0.0.1:{port};\n"));
            } else {
                snippet.push_str(line);
                snippet.push('\n');
            }
        }
        assert!(servers_written, "the nginx file lost its upstream servers");
        let d = dir.path().display();
        std::fs::write(dir.path().join("isolator.conf"), snippet).unwrap();
        let user = if rustix::process::geteuid().is_root() {
            "user root;\n"
        } else {
            ""
        };
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                "{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{ worker_connections 256; }}\n\
                 http {{\n  log_format up '$request $status $upstream_addr';\n  access_log {d}/access.log up;\n\
                 client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
                 uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/isolator.conf;\n}}\n"
            ),
        )
        .unwrap();
        let child = std::process::Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx: run isolator/scripts/install-deps.sh");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Proxy {
            base: format!("http://127.0.0.1:{port}"),
            child,
            dir,
        }
    }

    /// The upstream addresses nginx sent requests to.
    pub fn upstreams(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.rsplit(' ').next().map(str::to_owned))
            .collect()
    }
}

/// A free port on 127.0.0.1 for nginx to listen on (the nodes must know it
/// before nginx starts: it is their `public_hosts` entry).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
