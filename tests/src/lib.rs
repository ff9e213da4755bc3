//! Fixture helpers for the end-to-end tests: a test site on 127.0.0.1, an
//! isolator server on port 0, and a client browser that opens the web client.
