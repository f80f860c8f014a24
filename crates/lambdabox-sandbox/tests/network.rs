//! The sandbox's network: a fresh namespace with only `lo`, cut off from
//! the host's loopback, and listeners the host binds inside it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use common::sh;
use lambdabox_sandbox::Sandbox;

fn python(name: &str, script: &str) -> (lambdabox_sandbox::SandboxSpec, std::fs::File, std::fs::File) {
    let (mut spec, out, err) = sh(name, "");
    spec.argv = vec!["/usr/bin/python3".into(), "-S".into(), "-c".into(), script.into()];
    (spec, out, err)
}

#[test]
fn only_loopback_exists_and_the_hosts_loopback_is_unreachable() {
    let host_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    host_listener.set_nonblocking(true).unwrap();
    let port = host_listener.local_addr().unwrap().port();
    let script = format!(
        r#"
import socket
print(sorted(name for _, name in socket.if_nameindex()))
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("host reachable")
except OSError as e:
    print("host unreachable:", type(e).__name__)
server = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(server.getsockname())
conn, _ = server.accept()
client.sendall(b"ping")
print("loopback inside:", conn.recv(4).decode())
"#
    );
    let (spec, out, err) = python("net", &script);
    let output = common::run(spec, out, err);
    assert_eq!(
        output.stdout, "['lo']\nhost unreachable: ConnectionRefusedError\nloopback inside: ping\n",
        "stderr: {}",
        output.stderr
    );
    assert!(host_listener.accept().is_err(), "the host's listener was reached from inside");
}

#[test]
fn listen_tcp_binds_inside_the_sandbox_and_not_on_the_host() {
    // Any port is free inside a fresh namespace (AWS uses 9001); this one is
    // unlikely to be taken on the host either, so the probe below bothers no one.
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let script = r#"
import os, socket
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), timeout=5)
s.sendall(b"next\n")
print(s.makefile().readline().strip())
"#;
    let (mut spec, out, err) = python("listen", script);
    spec.env.push(("PORT".into(), port.to_string()));
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let listener = sandbox.listen_tcp(addr).unwrap();
    assert_eq!(listener.local_addr().unwrap(), addr);

    // From the host, the same address is some other socket, or none.
    drop(TcpStream::connect(addr));
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "the host reached the sandbox's listener");
    listener.set_nonblocking(false).unwrap();

    let (out, err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    let mut request = String::new();
    BufReader::new(conn.try_clone().unwrap()).read_line(&mut request).unwrap();
    assert_eq!(request, "next\n");
    conn.write_all(b"event\n").unwrap();
    let status = sandbox.wait().unwrap();
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    assert_eq!(stdout, "event\n", "status {status:?}, stderr: {stderr}");
    let mut rest = Vec::new();
    let _ = conn.read_to_end(&mut rest);
}
