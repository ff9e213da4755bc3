//! Resource limits a worker sets on itself (no `unsafe`: the `rlimit` crate
//! wraps setrlimit).

use std::io;

use rlimit::Resource;

/// Linux reports process times in USER_HZ ticks, fixed at 100 by its ABI.
const USER_HZ: u64 = 100;

/// Limits this process's address space to `bytes` (0 = leave as is).
pub(super) fn limit_memory(bytes: u64) -> io::Result<()> {
    if bytes == 0 {
        return Ok(());
    }
    let (_, hard) = rlimit::getrlimit(Resource::AS)?;
    rlimit::setrlimit(Resource::AS, bytes.min(hard), bytes.min(hard))
}

/// Allows `seconds` more CPU time from now (0 = leave as is): the soft
/// RLIMIT_CPU becomes "used so far + seconds"; the kernel sends SIGXCPU past it.
pub(super) fn allow_cpu(seconds: u64) -> io::Result<()> {
    if seconds == 0 {
        return Ok(());
    }
    let used = cpu_seconds_used()?;
    let (_, hard) = rlimit::getrlimit(Resource::CPU)?;
    let soft = (used + seconds).min(hard);
    rlimit::setrlimit(Resource::CPU, soft, hard)
}

/// User + system CPU seconds used by this process (rounded up).
fn cpu_seconds_used() -> io::Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name (field 2) may contain spaces: fields after ')' are fixed.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/self/stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ')': state is index 0, utime index 11, stime index 12.
    let ticks = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/self/stat"))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(total.div_ceil(USER_HZ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_cpu_time() {
        let used = super::cpu_seconds_used().expect("proc stat");
        assert!(used < 1_000_000);
    }
}
