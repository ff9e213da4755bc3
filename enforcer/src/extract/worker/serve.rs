//! The worker side: the loop behind `isolator extract-worker`.

use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::protocol::{self, Ready, Request, Setup, MAX_CONTROL};
use super::rlimits;
use crate::extract::{extract, ocr, Error, Extraction, Result};

/// Runs the worker protocol over `input`/`output` until the parent closes
/// `input`. Sets the limits asked for in the setup message, warms the OCR
/// engine, then extracts one file per request. A panic inside extraction is
/// caught and reported as unscannable; anything worse ends the process and
/// the parent replaces it.
pub fn serve<R: Read, W: Write>(mut input: R, mut output: W) -> Result<()> {
    let io_err = |context: &str| {
        let context = context.to_string();
        move |e: io::Error| Error::io(context, e)
    };
    let setup = protocol::read_frame(&mut input, u64::from(MAX_CONTROL), "setup")
        .map_err(io_err("reading setup"))?
        .ok_or_else(|| Error::Worker("input closed before setup".into()))?;
    let setup: Setup = serde_json::from_slice(&setup)
        .map_err(|e| Error::Worker(format!("bad setup message: {e}")))?;
    if setup.version != protocol::VERSION {
        return Err(Error::Worker(format!(
            "protocol version {} from parent, {} here",
            setup.version,
            protocol::VERSION
        )));
    }
    rlimits::limit_memory(setup.memory_bytes).map_err(io_err("setting RLIMIT_AS"))?;
    let ready = Ready {
        version: protocol::VERSION,
        pid: std::process::id(),
        ocr_error: ocr::warm_up().err().map(|e| e.to_string()),
    };
    send_json(&mut output, &ready)?;
    loop {
        let Some(header) = protocol::read_frame(&mut input, u64::from(MAX_CONTROL), "request")
            .map_err(io_err("reading request"))?
        else {
            return Ok(());
        };
        let request: Request = serde_json::from_slice(&header)
            .map_err(|e| Error::Worker(format!("bad request header: {e}")))?;
        let body = protocol::read_frame(&mut input, request.limits.max_input_bytes, "request body")
            .map_err(io_err("reading request body"))?
            .ok_or_else(|| Error::Worker("input closed before request body".into()))?;
        rlimits::allow_cpu(setup.cpu_seconds_per_file).map_err(io_err("setting RLIMIT_CPU"))?;
        let extraction = catch_unwind(AssertUnwindSafe(|| {
            extract(&request.name, &body, &request.limits)
        }))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Extraction::unscannable(format!("internal error while extracting: {what}"))
        });
        let json = serde_json::to_vec(&extraction)
            .map_err(|e| Error::Worker(format!("encoding reply: {e}")))?;
        if json.len() as u64 > u64::from(protocol::MAX_REPLY) {
            let too_big = Extraction::unscannable(format!(
                "extracted text of {} bytes is over the reply cap of {} bytes",
                json.len(),
                protocol::MAX_REPLY
            ));
            send_json(&mut output, &too_big)?;
        } else {
            protocol::write_frame(&mut output, &json).map_err(io_err("writing reply"))?;
        }
    }
}

fn send_json<W: Write, T: serde::Serialize>(output: &mut W, value: &T) -> Result<()> {
    let json =
        serde_json::to_vec(value).map_err(|e| Error::Worker(format!("encoding reply: {e}")))?;
    protocol::write_frame(output, &json).map_err(|e| Error::io("writing reply", e))
}
