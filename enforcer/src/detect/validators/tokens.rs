//! Checksums inside secret tokens.

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `n` in base 62, left-padded with `0` to 6 characters, with the digit
/// alphabet `alphabet`.
fn base62_6(mut n: u32, alphabet: &[u8; 62]) -> [u8; 6] {
    let mut out = [alphabet[0]; 6];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Whether the body of a GitHub token in the 2021 format (the 36
/// characters after `ghp_`, `gho_`, ...) ends with the CRC-32 of its first
/// 30 characters in base 62 (GitHub's "Behind GitHub's new authentication
/// token formats", 2021; npm tokens use the same scheme). Both base-62
/// digit orders in use by implementations (`0-9A-Za-z`, `0-9a-zA-Z`) are
/// accepted.
pub fn github_crc32(body: &str) -> bool {
    const UPPER_FIRST: &[u8; 62] =
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const LOWER_FIRST: &[u8; 62] =
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let b = body.as_bytes();
    if b.len() != 36 {
        return false;
    }
    let crc = crc32(&b[..30]);
    b[30..] == base62_6(crc, UPPER_FIRST) || b[30..] == base62_6(crc, LOWER_FIRST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The CRC-32 check value of "123456789" (every CRC catalogue).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
