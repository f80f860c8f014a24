//! Custom-runtime functions for the end-to-end Invoke tests
//! (`tests/e2e/test_invoke_custom.py`). Each binary under `src/bin/` is a
//! `bootstrap` built on the official `lambda_runtime` crate from crates.io,
//! so the tests prove that Lambdabox's execution environment and Runtime API
//! work with AWS's own Rust client, not only with clients written here.
//!
//! The library itself is empty: the crate exists for its binaries.
