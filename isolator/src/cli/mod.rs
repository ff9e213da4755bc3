//! Subcommands of the `isolator` binary, one module each.

pub mod audit;
pub mod extract_worker;
pub mod fingerprint;
pub mod hash_password;
pub mod hash_token;
pub mod policies;
pub mod scan;
pub mod scan_files;
pub mod scan_output;
pub mod serve;
