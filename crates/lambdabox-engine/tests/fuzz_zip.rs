//! Fuzzes the intake of user zips: the control plane's inspection
//! (`lambdabox_model::package`: `CodePackage::inspect`, `check_merged`) and
//! the engine's unpacker (`CodeCache::ensure`, `ensure_layers`, which never
//! follow a link), with arbitrary bytes, mutated zips and zips written entry
//! by entry with hostile names (`../`, absolute, NUL, backslashes, drive
//! letters, very long, very deep), symbolic links (chains, loops, absolute,
//! to a directory outside) and duplicate names.
//!
//! Properties: nothing panics; a refusal is a typed error; whatever the
//! package, nothing is written outside the code cache and no staging
//! directory is left behind; a package (or list of layers) that inspection
//! accepts unpacks, and every path of the unpacked tree resolves beneath it.
//!
//! The seed corpus (`tests/fuzz-corpus/zip/`) is replayed first: `valid-*`
//! must be accepted and unpack, everything else must be refused. Then
//! `LAMBDABOX_FUZZ_CASES` (default 1000) generated cases; failures persist
//! in `tests/proptest-regressions/fuzz_zip.txt`.

use std::ffi::CStr;
use std::fs;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use lambdabox_engine::{CodeCache, UnpackAs};
use lambdabox_model::limits::CODE_SIZE_UNZIPPED;
use lambdabox_model::{CodePackage, PackageError, check_merged_packages};
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{Mode, SFlag};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const TARGET: &str = "zip";
const CORPUS: &str = "tests/fuzz-corpus/zip";
/// Stands for the absolute path of a directory outside the code cache in
/// generated link targets.
const OUTSIDE: &str = "@OUTSIDE@";

// ---- zips written byte by byte -------------------------------------------

/// What an entry is, as its Unix mode says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Exec,
    Dir,
    Link,
}

#[derive(Debug, Clone)]
struct Entry {
    name: Vec<u8>,
    kind: Kind,
    /// The contents, or the link target.
    data: Vec<u8>,
    /// Store a CRC that does not match the data.
    bad_crc: bool,
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A stored (uncompressed) zip with exactly these names, modes and CRCs,
/// which a zip writer library would refuse to make (duplicates, NULs).
fn write_zip(entries: &[Entry], outside: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let data: Vec<u8> = match entry.kind {
            Kind::Link => String::from_utf8_lossy(&entry.data).replace(OUTSIDE, outside).into_bytes(),
            _ => entry.data.clone(),
        };
        let mode: u32 = match entry.kind {
            Kind::File => 0o100644,
            Kind::Exec => 0o100755,
            Kind::Dir => 0o040755,
            Kind::Link => 0o120777,
        };
        let crc = crc32(&data) ^ u32::from(entry.bad_crc);
        let flags: u16 = if std::str::from_utf8(&entry.name).is_ok() { 0x0800 } else { 0 };
        let offset = out.len() as u32;
        let name_len = entry.name.len() as u16;
        let size = data.len() as u32;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&0u16.to_le_bytes()); // time
        out.extend_from_slice(&0x21u16.to_le_bytes()); // 1980-01-01
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&entry.name);
        out.extend_from_slice(&data);
        // Central directory header (made by Unix, so the mode counts).
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&(3u16 << 8 | 20).to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x21u16.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(&entry.name);
    }
    let central_offset = out.len() as u32;
    let count = entries.len() as u16;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

// ---- strategies -----------------------------------------------------------

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec!["a", "b", "lib", "python", "x", "d", "l", "index.py"]).prop_map(str::to_owned),
        3 => prop::sample::select(vec!["..", ".", "", "C:", "c:x", "a\0b", "\0", "x y", "ü", "~", "*", "a:b"])
            .prop_map(str::to_owned),
        1 => Just("n".repeat(255)),
        1 => Just("n".repeat(256)),
        2 => "[a-z.]{1,6}",
        1 => "\\PC{0,6}",
    ]
}

fn path_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "", "", "/", "\\", "./", "//"]),
        prop::collection::vec((component(), prop::sample::select(vec!["/", "/", "/", "\\", "//"])), 1..5),
        prop::sample::select(vec!["", "", "/"]),
    )
        .prop_map(|(prefix, parts, suffix)| {
            let mut name = prefix.to_owned();
            for (i, (part, sep)) in parts.iter().enumerate() {
                if i > 0 {
                    name.push_str(sep);
                }
                name.push_str(part);
            }
            name.push_str(suffix);
            name
        })
}

fn entry_name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        24 => path_name().prop_map(String::into_bytes),
        // Deep names make hundreds of directories: now and then.
        1 => prop::sample::select(vec![
            format!("{}f", "a/".repeat(256)),
            format!("{}f", "a/".repeat(255)),
            vec!["n".repeat(200); 21].join("/"),
            vec!["n".repeat(200); 20].join("/"),
        ])
        .prop_map(String::into_bytes),
        3 => prop::collection::vec(any::<u8>(), 0..12),
    ]
}

fn link_target() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(vec![
            ".", "..", "../..", "../../..", "a", "b", "lib", "a/a/a/../../..", "../outside", "../../outside",
            "../../../outside", "x/../..", "", "a/../b", "./.", OUTSIDE, "@OUTSIDE@/sub", "a\0b",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        // Relative only: nothing generated points at the host's own files.
        3 => path_name().prop_map(|p| p.trim_start_matches(['/', '\\']).as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    let kind = prop_oneof![4 => Just(Kind::File), 1 => Just(Kind::Exec), 2 => Just(Kind::Dir), 3 => Just(Kind::Link)];
    (entry_name(), kind, prop::collection::vec(any::<u8>(), 0..16), link_target(), prop::bool::weighted(0.05)).prop_map(
        |(name, kind, contents, target, bad_crc)| {
            let mut name = name;
            if kind == Kind::Dir && !name.ends_with(b"/") && !name.is_empty() {
                name.push(b'/');
            }
            let data = match kind {
                Kind::Link => target,
                Kind::Dir => Vec::new(),
                _ => contents,
            };
            Entry { name, kind, data, bad_crc }
        },
    )
}

/// An entry a careful user could have made: plain names, links between
/// them (most of which inspection accepts), so that accepted trees with
/// links are common.
fn plausible_entry() -> impl Strategy<Value = Entry> {
    let name =
        prop::collection::vec(prop::sample::select(vec!["a", "b", "lib", "x", "l"]), 1..4).prop_map(|p| p.join("/"));
    let target = prop_oneof![
        prop::collection::vec(prop::sample::select(vec!["a", "b", "lib", "x", "l", "..", "."]), 1..4)
            .prop_map(|p| p.join("/")),
        prop::sample::select(vec!["..", "../..", "../x", "x/../..", "a/a/a/../../.."]).prop_map(str::to_owned),
    ];
    let kind = prop_oneof![3 => Just(Kind::File), 1 => Just(Kind::Dir), 2 => Just(Kind::Link)];
    (name, kind, target).prop_map(|(name, kind, target)| match kind {
        Kind::Dir => Entry { name: format!("{name}/").into_bytes(), kind, data: Vec::new(), bad_crc: false },
        Kind::Link => Entry { name: name.into_bytes(), kind, data: target.into_bytes(), bad_crc: false },
        _ => Entry { name: name.into_bytes(), kind, data: b"x".to_vec(), bad_crc: false },
    })
}

/// One change to a zip's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        2 => (any::<usize>(), prop::sample::select(vec![0u8, 0xff, b'/', b'.', 0x7f, 0x80])).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        1 => any::<usize>().prop_map(|at| Mutation::Remove { at }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match *m {
            Mutation::Flip { at, mask } => bytes[at % len] ^= mask,
            Mutation::Set { at, byte } => bytes[at % len] = byte,
            Mutation::Insert { at, byte } => bytes.insert(at % (len + 1), byte),
            Mutation::Remove { at } => {
                bytes.remove(at % len);
            }
            Mutation::Truncate { at } => bytes.truncate(at % len),
        }
    }
    bytes
}

/// A package as generated: how its bytes are made.
#[derive(Debug, Clone)]
enum Package {
    Raw(Vec<u8>),
    Entries(Vec<Entry>),
    Mutated {
        entries: Vec<Entry>,
        mutations: Vec<Mutation>,
    },
    /// A valid deflated zip made by the `zip` crate, then mutated.
    Deflated {
        files: Vec<(String, Vec<u8>)>,
        mutations: Vec<Mutation>,
    },
}

impl Package {
    fn bytes(&self, outside: &str) -> Vec<u8> {
        match self {
            Package::Raw(bytes) => bytes.clone(),
            Package::Entries(entries) => write_zip(entries, outside),
            Package::Mutated { entries, mutations } => mutate(write_zip(entries, outside), mutations),
            Package::Deflated { files, mutations } => {
                use std::io::Write as _;
                let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .unix_permissions(0o644);
                for (i, (name, data)) in files.iter().enumerate() {
                    // Distinct names: the writer refuses duplicates.
                    w.start_file(format!("{i}-{name}"), options).expect("start a file");
                    w.write_all(data).expect("write a file");
                }
                mutate(w.finish().expect("finish the zip").into_inner(), mutations)
            }
        }
    }
}

fn package() -> impl Strategy<Value = Package> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512).prop_map(Package::Raw),
        6 => prop::collection::vec(entry(), 1..8).prop_map(Package::Entries),
        4 => prop::collection::vec(plausible_entry(), 1..8).prop_map(Package::Entries),
        3 => (prop::collection::vec(entry(), 1..6), prop::collection::vec(mutation(), 1..4))
            .prop_map(|(entries, mutations)| Package::Mutated { entries, mutations }),
        2 => (
            prop::collection::vec(("[a-z]{1,8}", prop::collection::vec(any::<u8>(), 0..200)), 1..4),
            prop::collection::vec(mutation(), 0..4)
        )
            .prop_map(|(files, mutations)| Package::Deflated { files, mutations }),
    ]
}

// ---- the properties -------------------------------------------------------

/// A directory laid out for one case: `outside/secret`, and the code cache
/// at `code/`.
struct Host {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

const SECRET: &str = "the host's own file";

impl Host {
    fn new() -> Self {
        // A tmpfs where there is one: cases make and remove many directories.
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("tempdir");
        let root = dir.path().to_owned();
        fs::create_dir(root.join("outside")).expect("outside");
        fs::set_permissions(root.join("outside"), fs::Permissions::from_mode(0o1777)).expect("chmod outside");
        fs::write(root.join("outside/secret"), SECRET).expect("secret");
        Self { _dir: dir, root }
    }

    fn outside(&self) -> String {
        self.root.join("outside").to_str().expect("utf-8 temp path").to_owned()
    }

    fn cache(&self) -> CodeCache {
        CodeCache::new(self.root.join("code"), UnpackAs::Server, None).expect("code cache")
    }

    /// Nothing but the cache and `outside/secret`, untouched, is there.
    fn check_untouched(&self) -> Result<(), TestCaseError> {
        let names = |dir: &Path| -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(dir)
                .expect("list")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let mut top = names(&self.root);
        top.retain(|n| !n.ends_with(".zip"));
        prop_assert_eq!(top, vec!["code".to_owned(), "outside".to_owned()], "something was written beside the cache");
        prop_assert_eq!(names(&self.root.join("outside")), vec!["secret".to_owned()], "something was written outside");
        prop_assert_eq!(fs::read_to_string(self.root.join("outside/secret")).expect("secret"), SECRET);
        let mode = fs::metadata(self.root.join("outside")).expect("outside").permissions().mode() & 0o7777;
        prop_assert_eq!(mode, 0o1777, "the mode of a directory outside changed");
        Ok(())
    }

    /// The cache holds exactly `expected` (no staging directory left behind).
    fn check_cache(&self, expected: Option<&str>) -> Result<(), TestCaseError> {
        let mut names: Vec<String> = fs::read_dir(self.root.join("code"))
            .expect("list the cache")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        let expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        prop_assert_eq!(names, expected, "the cache holds other than the unpacked package");
        Ok(())
    }
}

fn lstat_at(dir: BorrowedFd<'_>, name: &CStr) -> nix::Result<nix::sys::stat::FileStat> {
    nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
}

/// Every path under `dir` (relative, `/`-joined), walked through
/// descriptors (paths may be longer than `PATH_MAX`), links not followed.
fn walk(dir: OwnedFd, prefix: &str, out: &mut Vec<String>) {
    let names: Vec<std::ffi::CString> = nix::dir::Dir::from_fd(dir.try_clone().expect("dup"))
        .expect("opendir")
        .iter()
        .map(|e| e.expect("readdir").file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        let text = name.to_str().expect("unpacked names are UTF-8");
        let path = if prefix.is_empty() { text.to_owned() } else { format!("{prefix}/{text}") };
        let stat = lstat_at(dir.as_fd(), &name).expect("lstat");
        out.push(path.clone());
        if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR {
            let child = nix::fcntl::openat(
                dir.as_fd(),
                name.as_c_str(),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .expect("open a directory");
            walk(child, &path, out);
        }
    }
}

/// Every path of an unpacked tree resolves (through its links) beneath it,
/// as inspection promised: `openat2(RESOLVE_BENEATH)` never says `EXDEV`.
fn check_beneath(out: &Path) -> Result<(), TestCaseError> {
    let root: OwnedFd = fs::File::open(out).expect("open the unpacked tree").into();
    let mut paths = Vec::new();
    walk(root.try_clone().expect("dup"), "", &mut paths);
    for path in paths {
        let open = || {
            let how = OpenHow::new().flags(OFlag::O_PATH | OFlag::O_CLOEXEC).resolve(ResolveFlag::RESOLVE_BENEATH);
            nix::fcntl::openat2(root.as_fd(), path.as_str(), how)
        };
        // EAGAIN: a rename anywhere raced a `..` in the resolution; again.
        let mut result = open();
        for _ in 0..100 {
            if !matches!(result, Err(Errno::EAGAIN)) {
                break;
            }
            result = open();
        }
        match result {
            // A dangling link, or one through a name too long to exist, goes nowhere.
            Ok(_) | Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG) => {}
            Err(Errno::ENOSYS) => return Ok(()), // no openat2: nothing to check with
            Err(e) => prop_assert!(false, "'{}' in an accepted package resolves outside it ({})", path, e),
        }
    }
    Ok(())
}

/// Inspection's answer: accepted, or one of its typed refusals (the type
/// says it; the message names only what is in the package).
fn inspect(bytes: &[u8]) -> Result<CodePackage, PackageError> {
    let result = CodePackage::inspect(bytes, CODE_SIZE_UNZIPPED);
    if let Err(e) = &result {
        let message = e.to_string();
        assert!(!message.is_empty() && message.len() < 2000, "an unreadable message: {message:?}");
        assert!(!message.contains("/tmp/"), "a message names a host path: {message}");
    }
    result
}

/// The properties for one list of packages (one: a function's code; more:
/// layers unpacked in order). Returns whether inspection accepted them all.
fn check(packages: &[Vec<u8>], host: &Host) -> Result<bool, TestCaseError> {
    let inspected: Vec<Result<CodePackage, PackageError>> = packages.iter().map(|p| inspect(p)).collect();
    if let Some(Ok(p)) = inspected.first() {
        prop_assert_eq!(p.size, packages[0].len() as u64);
        prop_assert_eq!(p.sha256_hex.len(), 64);
    }
    let all_accepted = inspected.iter().all(Result::is_ok);
    let merged = check_merged_packages(packages.iter().map(Vec::as_slice));
    let accepted = all_accepted && merged.is_ok();
    if packages.len() == 1 && all_accepted {
        prop_assert!(merged.is_ok(), "one accepted package fails the merged check: {:?}", merged);
    }

    let cache = host.cache();
    let mut zips = Vec::new();
    for (i, bytes) in packages.iter().enumerate() {
        let path = host.root.join(format!("{i}.zip"));
        fs::write(&path, bytes).expect("write the zip");
        zips.push((format!("k{i}"), path));
    }
    let unpacked =
        if packages.len() == 1 { cache.ensure("k0", &zips[0].1).map(Some) } else { cache.ensure_layers(&zips) };
    host.check_untouched()?;
    match unpacked {
        Ok(Some(out)) => {
            prop_assert!(out.starts_with(host.root.join("code")), "unpacked at {}", out.display());
            host.check_cache(out.file_name().and_then(|n| n.to_str()))?;
            if accepted {
                check_beneath(&out)?;
            }
        }
        Ok(None) => prop_assert!(false, "no directory for {} packages", packages.len()),
        Err(e) => {
            prop_assert!(!accepted, "inspection accepted what the unpacker refuses: {}", e);
            host.check_cache(None)?;
        }
    }
    Ok(accepted)
}

// ---- the test -------------------------------------------------------------

#[test]
fn fuzz_zip() {
    let run = lambdabox_fuzz::Run::new(TARGET, file!());

    let corpus = lambdabox_fuzz::corpus(CORPUS);
    assert!(corpus.len() >= 10, "the seed corpus is missing");
    for path in &corpus {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        let bytes = fs::read(path).expect("read a corpus file");
        let host = Host::new();
        run.count();
        let accepted = check(std::slice::from_ref(&bytes), &host).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(accepted, name.starts_with("valid-"), "{name}: inspection accepted it: {accepted}");
        // Each file again as the second of two layers, after a valid one.
        let first = fs::read(Path::new(CORPUS).join("valid-python.zip")).expect("valid-python.zip");
        let host = Host::new();
        run.count();
        check(&[first, bytes], &host).unwrap_or_else(|e| panic!("{name} as a layer: {e}"));
    }

    let strategy = prop::collection::vec(package(), 1..=2);
    run.generate(&strategy, |packages| {
        let host = Host::new();
        let bytes: Vec<Vec<u8>> = packages.iter().map(|p| p.bytes(&host.outside())).collect();
        check(&bytes, &host).map(|_| ())
    });
}
