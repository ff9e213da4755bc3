//! Fuzzes the WebSocket client-message decoder (`ClientMsg::decode`): any
//! text is either a valid message or a `DecodeError` whose message renders;
//! never a panic. Decoding is deterministic, and the size cap holds.
//! `isolator/src/protocol.rs` is compiled in as it is (it depends on serde
//! alone), so the build stays small.
#![no_main]

#[allow(dead_code, missing_docs)]
#[path = "../../src/protocol.rs"]
mod protocol;

use protocol::{ClientMsg, MAX_CLIENT_MESSAGE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = ClientMsg::decode(&text);
    match &first {
        Ok(_) => assert!(text.len() <= MAX_CLIENT_MESSAGE),
        Err(err) => assert!(!err.to_string().is_empty()),
    }
    assert_eq!(first, ClientMsg::decode(&text));
});
