//! The `ip` and `nft` invocations.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use crate::{Cidr, NetworkError};

const IP: &str = "ip";
const NFT: &str = "nft";
const NSENTER: &str = "nsenter";

/// The alias a server writes on its bridge, naming itself.
fn owner_alias() -> String {
    format!("lambdabox pid {}", std::process::id())
}

pub(crate) fn check() -> Result<(), NetworkError> {
    for (tool, package, args) in [
        (IP, "iproute2", &["-V"][..]),
        (NFT, "nftables", &["--version"][..]),
        (NSENTER, "util-linux", &["--version"][..]),
    ] {
        match Command::new(tool).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status() {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(NetworkError::MissingTool { tool, package, reason: format!("exited {s}") }),
            Err(e) => return Err(NetworkError::MissingTool { tool, package, reason: e.to_string() }),
        }
    }
    Ok(())
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, NetworkError> {
    let command = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NetworkError::Command { command: command.clone(), stderr: e.to_string() })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .map_err(|e| NetworkError::Command { command: command.clone(), stderr: e.to_string() })?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| NetworkError::Command { command: command.clone(), stderr: e.to_string() })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(NetworkError::Command { command, stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned() })
    }
}

/// Every IPv4 route of the host (all tables), as ranges.
pub(crate) fn routes() -> Result<Vec<Cidr>, NetworkError> {
    let out = run(IP, &["-j", "-4", "route", "show", "table", "all"], None)?;
    let routes: serde_json::Value = serde_json::from_str(&out)
        .map_err(|e| NetworkError::Command { command: "ip -j route".into(), stderr: e.to_string() })?;
    Ok(routes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["dst"].as_str())
        .filter_map(|dst| match dst {
            "default" => "0.0.0.0/0".parse().ok(),
            d if d.contains('/') => d.parse().ok(),
            d => format!("{d}/32").parse().ok(),
        })
        .collect())
}

/// Removes this data dir's bridge and table if a killed server left them,
/// and those of Lambdabox servers no longer running.
pub(crate) fn remove_leftovers(own_bridge: &str) -> Result<(), NetworkError> {
    let out = run(IP, &["-j", "link", "show", "type", "bridge"], None)?;
    let links: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    for link in links.as_array().into_iter().flatten() {
        let Some(name) = link["ifname"].as_str().filter(|n| n.starts_with("lbxb")) else { continue };
        let owner =
            link["ifalias"].as_str().and_then(|a| a.strip_prefix("lambdabox pid ")).and_then(|p| p.parse::<u32>().ok());
        let dead = owner.is_none_or(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if name == own_bridge || dead {
            tracing::info!(bridge = name, "removing the function network a stopped server left");
            delete_bridge(name, &format!("lambdabox_{}", &name[4..]))?;
        }
    }
    // A table whose bridge is gone.
    if let Ok(out) = run(NFT, &["-j", "list", "tables"], None) {
        let tables: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        for t in tables["nftables"].as_array().into_iter().flatten() {
            let Some(name) = t["table"]["name"].as_str().filter(|n| n.starts_with("lambdabox_")) else { continue };
            let bridge = format!("lbxb{}", &name["lambdabox_".len()..]);
            if !std::path::Path::new("/sys/class/net").join(&bridge).exists() {
                let _ = run(NFT, &["delete", "table", "inet", name], None);
            }
        }
    }
    Ok(())
}

pub(crate) fn create_bridge(bridge: &str, cidr: &Cidr, gateway: Ipv4Addr) -> Result<(), NetworkError> {
    let alias = owner_alias();
    let batch = format!(
        "link add {bridge} type bridge\n\
         link set {bridge} alias \"{alias}\"\n\
         addr add {gateway}/{prefix} dev {bridge}\n\
         link set {bridge} up\n",
        prefix = cidr.prefix()
    );
    if let Err(e) = run(IP, &["-batch", "-"], Some(&batch)) {
        let _ = run(IP, &["link", "del", bridge], None);
        return Err(e);
    }
    // No IPv6 on the bridge: environments get IPv4 only.
    let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{bridge}/disable_ipv6"), "1");
    Ok(())
}

/// Removes the bridge, the veths named after it (the kernel removes an
/// environment's veth with its namespace, but only once the namespace is
/// freed, which can lag behind the processes' exit) and the table.
pub(crate) fn delete_bridge(bridge: &str, table: &str) -> Result<(), NetworkError> {
    let veth_prefix = format!("lbxv{}", &bridge[4..]);
    if let Ok(entries) = std::fs::read_dir("/sys/class/net") {
        for name in entries.flatten().filter_map(|e| e.file_name().into_string().ok()) {
            if name.starts_with(&veth_prefix) {
                let _ = run(IP, &["link", "del", &name], None);
            }
        }
    }
    let mut result = Ok(());
    if std::path::Path::new("/sys/class/net").join(bridge).exists() {
        result = run(IP, &["link", "del", bridge], None).map(drop);
    }
    let _ = run(NFT, &["delete", "table", "inet", table], None);
    result
}

/// The server's table: what environments may reach, and NAT.
pub(crate) fn ruleset(table: &str, bridge: &str, cidr: &Cidr, gateway: Ipv4Addr) -> String {
    format!(
        r#"table inet {table} {{
  chain input {{
    type filter hook input priority filter - 10; policy accept;
    iifname "{bridge}" ip daddr {gateway} udp dport 53 accept
    iifname "{bridge}" ct state established,related accept
    iifname "{bridge}" reject with icmpx type admin-prohibited
  }}
  chain forward {{
    type filter hook forward priority filter - 10; policy accept;
    oifname "{bridge}" ct state established,related accept
    oifname "{bridge}" reject with icmpx type admin-prohibited
    iifname "{bridge}" meta nfproto ipv6 reject with icmpx type admin-prohibited
    iifname "{bridge}" ip daddr {{ 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/3, {cidr} }} reject with icmpx type admin-prohibited
    iifname "{bridge}" accept
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr {cidr} oifname != "{bridge}" masquerade
  }}
}}
"#
    )
}

pub(crate) fn nft(ruleset: &str) -> Result<(), NetworkError> {
    run(NFT, &["-f", "-"], Some(ruleset)).map(drop)
}

/// Turns on IPv4 forwarding (as Docker does); left on at shutdown, since
/// other software may rely on it by then.
pub(crate) fn enable_forwarding() -> Result<(), NetworkError> {
    const PATH: &str = "/proc/sys/net/ipv4/ip_forward";
    if std::fs::read_to_string(PATH).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    std::fs::write(PATH, "1")
        .map_err(|e| NetworkError::Command { command: format!("write 1 to {PATH}"), stderr: e.to_string() })
}

/// The veth pair of one environment.
pub(crate) fn attach(
    pid: i32,
    veth: &str,
    bridge: &str,
    address: Ipv4Addr,
    cidr: &Cidr,
    gateway: Ipv4Addr,
) -> Result<(), NetworkError> {
    let host = format!(
        "link add {veth} type veth peer name eth0 netns {pid}\n\
         link set {veth} master {bridge}\n\
         link set dev {veth} type bridge_slave isolated on learning off\n\
         link set {veth} up\n"
    );
    run(IP, &["-batch", "-"], Some(&host))?;
    let inside = format!(
        "addr add {address}/{prefix} dev eth0\n\
         link set eth0 up\n\
         route add default via {gateway} dev eth0\n",
        prefix = cidr.prefix()
    );
    let netns = format!("--net=/proc/{pid}/ns/net");
    if let Err(e) = run(NSENTER, &[&netns, "--", IP, "-batch", "-"], Some(&inside)) {
        let _ = run(IP, &["link", "del", veth], None);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ruleset_names_the_bridge_range_and_gateway() {
        let cidr: Cidr = "100.96.0.0/20".parse().unwrap();
        let r = ruleset("lambdabox_abc123", "lbxbabc123", &cidr, cidr.host(1));
        assert!(r.contains("table inet lambdabox_abc123"));
        assert!(r.contains(r#"iifname "lbxbabc123" ip daddr 100.96.0.1 udp dport 53 accept"#));
        assert!(r.contains("169.254.0.0/16"));
        assert!(r.contains(r#"ip saddr 100.96.0.0/20 oifname != "lbxbabc123" masquerade"#));
    }
}
