//! The file tree a package (or a function's layers, in order) unpacks to,
//! built from entry names alone, so that what cannot be unpacked safely is
//! refused before anything is written: an entry under a symbolic link, a
//! file where a directory is needed (`x` beside `x/y`), names too long or
//! too deep for the file system, and links whose target, resolved through
//! every link of the tree, leaves the root.
//!
//! The unpacker never follows a link (see `lambdabox-engine`'s `code.rs`);
//! this check refuses the package at CreateFunction with a message instead
//! of failing the first invoke.

use std::collections::HashMap;

/// The longest file name component Linux file systems accept (`NAME_MAX`).
pub const MAX_NAME_BYTES: usize = 255;
/// The deepest entry accepted, in path components.
pub const MAX_DEPTH: usize = 256;
/// The longest path accepted, counted as the function sees it under
/// `/var/task/` (`PATH_MAX` less the terminating NUL).
pub const MAX_PATH_BYTES: usize = 4095;
/// How many links one resolution may pass through, as Linux (`MAXSYMLINKS`).
const MAX_LINK_HOPS: usize = 40;
/// Where the function sees its package; counted in [`MAX_PATH_BYTES`].
const MOUNT_PREFIX: &str = "/var/task/";

/// What a path of the tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File,
    Link(String),
}

/// Why an entry cannot be placed in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// An absolute path, a `..` component, a NUL byte or a drive letter.
    Unsafe,
    /// A file or link entry whose name has no component (`.`, `./`).
    NoName,
    /// A component longer than [`MAX_NAME_BYTES`].
    NameTooLong,
    /// More than [`MAX_DEPTH`] components or [`MAX_PATH_BYTES`] bytes.
    TooDeep,
    /// A parent of the entry is a symbolic link (`link` is its path).
    UnderLink { link: String },
    /// The entry needs a directory where a file or link is, or the reverse.
    Conflict { other: String },
}

/// The tree built so far.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: HashMap<Vec<String>, Node>,
    links: Vec<Vec<String>>,
}

/// An entry's kind, as the zip marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    Link,
}

impl Tree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Places one entry. A later file or link replaces an earlier file or
    /// link of the same path (as unzip and layer merging do); every other
    /// clash is refused.
    pub fn add(&mut self, name: &str, kind: EntryKind, link_target: Option<&str>) -> Result<(), TreeError> {
        let path = components(name)?;
        if path.is_empty() {
            return if kind == EntryKind::Dir { Ok(()) } else { Err(TreeError::NoName) };
        }
        for depth in 1..path.len() {
            let parent = &path[..depth];
            match self.nodes.get(parent) {
                None => {
                    self.nodes.insert(parent.to_vec(), Node::Dir);
                }
                Some(Node::Dir) => {}
                Some(Node::Link(_)) => return Err(TreeError::UnderLink { link: parent.join("/") }),
                Some(Node::File) => return Err(TreeError::Conflict { other: parent.join("/") }),
            }
        }
        let node = match kind {
            EntryKind::Dir => Node::Dir,
            EntryKind::File => Node::File,
            EntryKind::Link => Node::Link(link_target.unwrap_or_default().to_owned()),
        };
        match (self.nodes.get(&path), &node) {
            (None, _) | (Some(Node::Dir), Node::Dir) => {}
            (Some(Node::File | Node::Link(_)), Node::File | Node::Link(_)) => {}
            (Some(_), _) => return Err(TreeError::Conflict { other: path.join("/") }),
        }
        if matches!(node, Node::Link(_)) {
            self.links.push(path.clone());
        }
        self.nodes.insert(path, node);
        Ok(())
    }

    /// The first link (path and target) whose target, resolved through
    /// every link of the finished tree, is absolute, leaves the root or
    /// loops.
    pub fn escaping_link(&self) -> Option<(String, String)> {
        self.links.iter().find_map(|path| match self.nodes.get(path) {
            Some(Node::Link(target)) if !self.stays_inside(&path[..path.len() - 1], target) => {
                Some((path.join("/"), target.clone()))
            }
            _ => None,
        })
    }

    /// Whether `target`, read from the directory `from`, stays in the root.
    fn stays_inside(&self, from: &[String], target: &str) -> bool {
        if target.is_empty() || target.starts_with('/') || target.contains('\0') {
            return false;
        }
        let mut at: Vec<String> = from.to_vec();
        let mut pending: Vec<String> = target.rsplit('/').map(str::to_owned).collect();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "" | "." => {}
                ".." => {
                    if at.pop().is_none() {
                        return false;
                    }
                }
                name => {
                    at.push(name.to_owned());
                    if let Some(Node::Link(next)) = self.nodes.get(&at) {
                        hops += 1;
                        if hops > MAX_LINK_HOPS || next.is_empty() || next.starts_with('/') {
                            return false;
                        }
                        at.pop();
                        pending.extend(next.rsplit('/').map(str::to_owned));
                    }
                }
            }
        }
        true
    }
}

/// The entry's path components, refusing what could name a place outside
/// the root or cannot exist on a Linux file system. Backslashes count as
/// separators, as in zips made on Windows.
pub fn components(name: &str) -> Result<Vec<String>, TreeError> {
    if name.starts_with('/') || name.starts_with('\\') || name.contains('\0') {
        return Err(TreeError::Unsafe);
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(TreeError::Unsafe),
            p if p.len() >= 2 && p.as_bytes()[1] == b':' => return Err(TreeError::Unsafe),
            p if p.len() > MAX_NAME_BYTES => return Err(TreeError::NameTooLong),
            p => parts.push(p.to_owned()),
        }
    }
    let bytes = MOUNT_PREFIX.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>();
    if parts.len() > MAX_DEPTH || bytes > MAX_PATH_BYTES {
        return Err(TreeError::TooDeep);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, EntryKind, Option<&str>)]) -> Result<Tree, TreeError> {
        let mut t = Tree::new();
        for (name, kind, target) in entries {
            t.add(name, *kind, *target)?;
        }
        Ok(t)
    }

    use EntryKind::{Dir, File, Link};

    #[test]
    fn the_reported_attack_is_refused() {
        // a -> .   b -> a/a/a/../../..   b/pwned
        let chain = "a/a/a/../../..";
        let err = tree(&[("a", Link, Some(".")), ("b", Link, Some(chain)), ("b/pwned", File, None)]).unwrap_err();
        assert_eq!(err, TreeError::UnderLink { link: "b".into() });
        let links = tree(&[("a", Link, Some(".")), ("b", Link, Some(chain))]).unwrap();
        assert_eq!(links.escaping_link(), Some(("b".into(), chain.into())));
    }

    #[test]
    fn links_resolve_through_other_links_in_any_order() {
        // The link that makes `c` escape comes after it.
        let t = tree(&[("c", Link, Some("a/x/../..")), ("a", Link, Some("."))]).unwrap();
        assert_eq!(t.escaping_link().map(|(p, _)| p), Some("c".into()));
        // Deep links that stay inside.
        let t = tree(&[("lib/v1/a.py", File, None), ("cur", Link, Some("lib/v1")), ("x/y", Link, Some("../cur/a.py"))])
            .unwrap();
        assert_eq!(t.escaping_link(), None);
        // A loop is refused, not followed forever.
        let t = tree(&[("p", Link, Some("q")), ("q", Link, Some("p/x"))]).unwrap();
        assert!(t.escaping_link().is_some());
        // Absolute and empty targets.
        for target in ["/etc", "", "../x", "a/../../x"] {
            let t = tree(&[("l", Link, Some(target))]).unwrap();
            assert!(t.escaping_link().is_some(), "{target:?}");
        }
        // A link through a link to an absolute target.
        let t = tree(&[("abs", Link, Some("/")), ("via", Link, Some("abs/etc"))]).unwrap();
        assert!(t.escaping_link().is_some());
    }

    #[test]
    fn entries_under_links_are_refused_in_any_layer_order() {
        let mut t = Tree::new();
        t.add("python", Link, Some("../..")).unwrap();
        assert_eq!(t.add("python/x.py", File, None), Err(TreeError::UnderLink { link: "python".into() }));
        assert_eq!(t.add("python/", Dir, None), Err(TreeError::Conflict { other: "python".into() }));
    }

    #[test]
    fn files_and_directories_cannot_share_a_path() {
        assert_eq!(
            tree(&[("x", File, None), ("x/y", File, None)]).unwrap_err(),
            TreeError::Conflict { other: "x".into() }
        );
        assert_eq!(
            tree(&[("x/y", File, None), ("x", File, None)]).unwrap_err(),
            TreeError::Conflict { other: "x".into() }
        );
        assert!(tree(&[("x/", Dir, None), ("x/y", File, None), ("x/", Dir, None)]).is_ok());
        // A later file replaces an earlier one (duplicates, later layers).
        assert!(tree(&[("x", File, None), ("x", File, None), ("x", Link, Some("y"))]).is_ok());
    }

    #[test]
    fn names_that_cannot_exist_are_refused() {
        assert_eq!(tree(&[(".", File, None)]).unwrap_err(), TreeError::NoName);
        assert_eq!(tree(&[("./", File, None)]).unwrap_err(), TreeError::NoName);
        assert!(tree(&[("./", Dir, None)]).is_ok());
        assert_eq!(tree(&[(&"n".repeat(256), File, None)]).unwrap_err(), TreeError::NameTooLong);
        assert!(tree(&[(&"n".repeat(255), File, None)]).is_ok());
        assert_eq!(tree(&[(&"a/".repeat(2000), File, None)]).unwrap_err(), TreeError::TooDeep);
        assert!(tree(&[(&format!("{}f", "a/".repeat(255)), File, None)]).is_ok());
        assert_eq!(tree(&[(&format!("{}f", "a/".repeat(256)), File, None)]).unwrap_err(), TreeError::TooDeep);
        let long = format!("{}/f", vec!["n".repeat(200); 21].join("/"));
        assert_eq!(tree(&[(&long, File, None)]).unwrap_err(), TreeError::TooDeep);
        for bad in ["../x", "/etc/passwd", "a/../../x", "C:/x", "a\0b"] {
            assert_eq!(tree(&[(bad, File, None)]).unwrap_err(), TreeError::Unsafe, "{bad:?}");
        }
    }
}
