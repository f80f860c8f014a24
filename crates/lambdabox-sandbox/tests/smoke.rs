//! The smallest end-to-end check: a shell prints in a sandbox.

mod common;

#[test]
fn a_shell_script_prints_to_the_given_stdout_and_stderr() {
    let out = common::run_sh("hello", "echo hello; echo oops >&2");
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.stderr, "oops\n");
}
