//! A real S3-compatible server for tests: a single-node Garage on loopback.
//!
//! Garage (AGPL-3.0) is run as a separate process, never linked. The binary
//! comes from `isolator/scripts/garage.sh`, which builds Garage 2.5.0 from
//! crates.io into a cache outside the repository the first time (many
//! minutes) and prints its path; `ISOLATOR_GARAGE` names a binary to use
//! instead. Each [`Garage`] lives in its own temporary directory: a generated
//! `garage.toml` (replication factor 1, sqlite metadata, S3 and admin APIs
//! on free loopback ports), a one-node layout applied with the `garage` CLI,
//! an imported access key and a bucket it may read and write.
//!
//! Include it with `#[path = "support/garage.rs"] mod garage;`.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use isolator::audit::ObjectStoreConfig;

/// A running single-node Garage with one bucket and one key.
pub struct Garage {
    dir: tempfile::TempDir,
    bin: PathBuf,
    config: PathBuf,
    child: Option<Child>,
    /// Port of the S3 API on 127.0.0.1.
    pub s3_port: u16,
    /// The access key id (`GK...`).
    pub key_id: String,
    /// The secret access key.
    pub secret: String,
    /// The bucket.
    pub bucket: String,
}

/// The Garage binary: `ISOLATOR_GARAGE`, else what `scripts/garage.sh`
/// prints (building it on first use).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ISOLATOR_GARAGE") {
        return PathBuf::from(bin);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/garage.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/garage.sh");
    assert!(
        out.status.success(),
        "scripts/garage.sh failed: cannot build the Garage test server"
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

impl Garage {
    /// Starts a Garage with bucket `bucket` and waits until it serves.
    pub fn start(bucket: &str) -> Garage {
        let bin = binary();
        let dir = tempfile::tempdir().unwrap();
        let (rpc, s3, admin) = (free_port(), free_port(), free_port());
        let root = dir.path();
        let config = root.join("garage.toml");
        let text = format!(
            "metadata_dir = \"{meta}\"\n\
             data_dir = \"{data}\"\n\
             db_engine = \"sqlite\"\n\
             replication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_secret = \"{secret}\"\n\
             [s3_api]\n\
             s3_region = \"garage\"\n\
             api_bind_addr = \"127.0.0.1:{s3}\"\n\
             root_domain = \".s3.garage.localhost\"\n\
             [admin]\n\
             api_bind_addr = \"127.0.0.1:{admin}\"\n\
             admin_token = \"{token}\"\n",
            meta = root.join("meta").display(),
            data = root.join("data").display(),
            secret = hex(32),
            token = hex(32),
        );
        std::fs::write(&config, text).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut g = Garage {
            dir,
            bin,
            config,
            child: None,
            s3_port: s3,
            key_id: format!("GK{}", hex(12)),
            secret: hex(32),
            bucket: bucket.to_owned(),
        };
        g.run_server();
        let id = g.cli(&["node", "id", "-q"]);
        let id = id.trim().split('@').next().unwrap().to_owned();
        g.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &id]);
        g.cli(&["layout", "apply", "--version", "1"]);
        let (key_id, secret) = (g.key_id.clone(), g.secret.clone());
        g.cli(&[
            "key",
            "import",
            "--yes",
            "-n",
            "isolator-test",
            &key_id,
            &secret,
        ]);
        g.cli(&["bucket", "create", bucket]);
        g.cli(&[
            "bucket", "allow", "--read", "--write", "--owner", bucket, "--key", &key_id,
        ]);
        g.wait_s3();
        g
    }

    /// Runs `garage -c garage.toml ARGS`, panicking with its output on failure.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "garage {args:?} failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn run_server(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start garage");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = Command::new(&self.bin)
                .arg("-c")
                .arg(&self.config)
                .arg("status")
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "garage did not start: {}",
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the S3 port accepts connections.
    fn wait_s3(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.s3_port)).is_err() {
            assert!(Instant::now() < deadline, "garage's S3 API did not open");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (its data stays): the bucket is down.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same ports and data.
    pub fn restart(&mut self) {
        self.stop();
        self.run_server();
        self.wait_s3();
    }

    /// The S3 endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// `[audit.object_store]` for this server: the secret in a file, keys
    /// under `prefix`, short timeouts.
    pub fn object_store(&self, prefix: &str) -> ObjectStoreConfig {
        let secret_file = self.dir.path().join("secret_access_key");
        std::fs::write(&secret_file, format!("{}\n", self.secret)).unwrap();
        ObjectStoreConfig {
            endpoint: self.endpoint(),
            bucket: self.bucket.clone(),
            prefix: prefix.to_owned(),
            access_key_id: Some(self.key_id.clone()),
            secret_access_key_file: Some(secret_file),
            timeout_secs: 5,
            retries: 1,
            ..ObjectStoreConfig::default()
        }
    }

    /// The same settings as an `[audit.object_store]` table of a server's
    /// configuration file (for `isolator serve` processes).
    pub fn object_store_table(&self, prefix: &str) -> String {
        let c = self.object_store(prefix);
        format!(
            "[audit.object_store]\nendpoint = {:?}\nbucket = {:?}\nprefix = {:?}\n\
             access_key_id = {:?}\nsecret_access_key_file = {:?}\ntimeout_secs = {}\nretries = {}\n",
            c.endpoint,
            c.bucket,
            c.prefix,
            c.access_key_id.unwrap_or_default(),
            c.secret_access_key_file.unwrap_or_default(),
            c.timeout_secs,
            c.retries,
        )
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.stop();
    }
}
