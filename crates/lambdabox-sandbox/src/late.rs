//! A spare sandbox's assignment on the wire: the rest of its root (the
//! steps of [`crate::rootfs::plan_late`]), its working directory and its
//! program, sent by [`crate::Sandbox::assign`] as one message and read by
//! the waiting child, which may not allocate: it receives the message into
//! a mapping of its own and [`decode`]s it in place, writing `execve`'s
//! pointer arrays into room the parent left for them.
//!
//! Layout (native-endian `u32`s unless said; offsets from the start):
//!
//! ```text
//! 0   magic, step count, argc, envc, cwd offset, pointer-area offset, total length, 0
//! 32  steps: kind, a (string offset), b (string offset), slot, attrs (u64)   24 bytes each
//! ..  argv string offsets (argc), env string offsets (envc)
//! ..  NUL-terminated strings
//! ..  pointer area, 8-aligned: argc + 1 + envc + 1 zeroed u64s
//! ```

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;

use crate::exec::ExecPtrs;
use crate::rootfs::{Step, StepRef};
use crate::spec::SpecError;

const MAGIC: u32 = 0x4c42_5341;
const HEADER: usize = 32;
const STEP: usize = 24;
/// At most this many late bind sources (a function has code, runtime and layers).
pub(crate) const MAX_SLOTS: usize = 16;

const OPEN_SOURCE: u32 = 1;
const MKDIR: u32 = 2;
const TOUCH: u32 = 3;
const BIND: u32 = 4;
const REMOUNT: u32 = 5;
const CLOSE_SOURCES: u32 = 6;
const PIVOT_ROOT: u32 = 7;
const READ_ONLY: u32 = 8;

/// Encodes an assignment. `steps` are those of a late plan.
pub(crate) fn encode(
    steps: &[Step],
    argv: &[String],
    env: &[(String, String)],
    cwd: &Path,
) -> Result<Vec<u8>, SpecError> {
    let nul = |field| SpecError::NulByte { field };
    let argv: Vec<CString> =
        argv.iter().map(|a| CString::new(a.as_str())).collect::<Result<_, _>>().map_err(|_| nul("argv"))?;
    let env: Vec<CString> =
        env.iter().map(|(k, v)| CString::new(format!("{k}={v}"))).collect::<Result<_, _>>().map_err(|_| nul("env"))?;
    let cwd = CString::new(cwd.as_os_str().as_bytes()).map_err(|_| nul("cwd"))?;
    let strings_at = HEADER + steps.len() * STEP + (argv.len() + env.len()) * 4;
    let mut strings: Vec<u8> = Vec::new();
    let mut put = |s: &CStr| -> u32 {
        let offset = strings_at + strings.len();
        strings.extend_from_slice(s.to_bytes_with_nul());
        offset as u32
    };
    let mut table: Vec<u8> = Vec::with_capacity(strings_at - HEADER);
    for step in steps {
        let (kind, a, b, slot, attrs) = match step {
            Step::OpenSource { path, slot } => {
                if *slot >= MAX_SLOTS {
                    return Err(SpecError::TooManyMounts { max: MAX_SLOTS });
                }
                (OPEN_SOURCE, put(path), 0, *slot, 0)
            }
            Step::Mkdir { path } => (MKDIR, put(path), 0, 0, 0),
            Step::Touch { path } => (TOUCH, put(path), 0, 0, 0),
            Step::Bind { slot, target, attrs, .. } => (BIND, put(target), 0, *slot, *attrs),
            Step::Remount { target, flags, data } => (REMOUNT, put(target), put(data), 0, flags.bits()),
            Step::CloseSources => (CLOSE_SOURCES, 0, 0, 0, 0),
            Step::PivotRoot { new_root } => (PIVOT_ROOT, put(new_root), 0, 0, 0),
            Step::ReadOnly { target } => (READ_ONLY, put(target), 0, 0, 0),
            other => unreachable!("not a late step: {}", other.describe()),
        };
        for word in [kind, a, b, slot as u32] {
            table.extend_from_slice(&word.to_ne_bytes());
        }
        table.extend_from_slice(&attrs.to_ne_bytes());
    }
    for s in argv.iter().chain(&env) {
        let offset = put(s);
        table.extend_from_slice(&offset.to_ne_bytes());
    }
    let cwd_at = put(&cwd);
    let ptrs_at = (strings_at + strings.len()).next_multiple_of(8);
    let total = ptrs_at + (argv.len() + env.len() + 2) * 8;
    let header =
        [MAGIC, steps.len() as u32, argv.len() as u32, env.len() as u32, cwd_at, ptrs_at as u32, total as u32, 0];
    let mut out = Vec::with_capacity(total);
    for word in header {
        out.extend_from_slice(&word.to_ne_bytes());
    }
    out.extend_from_slice(&table);
    out.extend_from_slice(&strings);
    out.resize(total, 0);
    Ok(out)
}

/// A decoded assignment, borrowing the child's buffer.
pub(crate) struct Late<'a> {
    buf: &'a [u8],
    steps: usize,
    pub(crate) exec: ExecPtrs,
    pub(crate) cwd: &'a CStr,
}

fn word(buf: &[u8], at: usize) -> Result<u32, Errno> {
    let bytes = buf.get(at..at + 4).ok_or(Errno::EBADMSG)?;
    Ok(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn cstr(buf: &[u8], at: u32) -> Result<&CStr, Errno> {
    let rest = buf.get(at as usize..).ok_or(Errno::EBADMSG)?;
    CStr::from_bytes_until_nul(rest).map_err(|_| Errno::EBADMSG)
}

/// Checks the buffer and fills its pointer area (the buffer must be
/// 8-aligned, as a mapping is). Allocates nothing.
pub(crate) fn decode(buf: &mut [u8]) -> Result<Late<'_>, Errno> {
    if !(buf.as_ptr() as usize).is_multiple_of(8) || word(buf, 0)? != MAGIC || word(buf, 24)? as usize != buf.len() {
        return Err(Errno::EBADMSG);
    }
    let steps = word(buf, 4)? as usize;
    let (argc, envc) = (word(buf, 8)? as usize, word(buf, 12)? as usize);
    let ptrs_at = word(buf, 20)? as usize;
    let strings_table = HEADER.checked_add(steps.checked_mul(STEP).ok_or(Errno::EBADMSG)?).ok_or(Errno::EBADMSG)?;
    if argc == 0 || !ptrs_at.is_multiple_of(8) || ptrs_at + (argc + envc + 2) * 8 > buf.len() {
        return Err(Errno::EBADMSG);
    }
    let base = buf.as_mut_ptr();
    for (i, slot) in (0..argc).map(|i| (i, i)).chain((0..envc).map(|i| (argc + i, argc + 1 + i))) {
        let offset = word(buf, strings_table + i * 4)?;
        cstr(buf, offset)?;
        // SAFETY: `offset` was checked to start a NUL-terminated string inside `buf`.
        let ptr = unsafe { base.add(offset as usize) } as usize;
        buf[ptrs_at + slot * 8..ptrs_at + slot * 8 + 8].copy_from_slice(&(ptr as u64).to_ne_bytes());
    }
    // The two terminating NULLs are the zeroes the parent left.
    let buf: &[u8] = buf;
    let cwd = cstr(buf, word(buf, 16)?)?;
    // SAFETY: `ptrs_at` and the array lengths were checked against `buf`.
    let (argv, envp) = unsafe {
        let argv = buf.as_ptr().add(ptrs_at).cast::<*const libc::c_char>();
        (argv, argv.add(argc + 1))
    };
    // SAFETY: argv[0] was filled above from a checked string.
    let program = unsafe { *argv };
    Ok(Late { buf, steps, exec: ExecPtrs { program, argv, envp }, cwd })
}

impl<'a> Late<'a> {
    pub(crate) fn len(&self) -> usize {
        self.steps
    }

    pub(crate) fn step(&self, index: usize) -> Result<StepRef<'a>, Errno> {
        let buf = self.buf;
        let at = HEADER + index * STEP;
        let (kind, a, b, slot) = (word(buf, at)?, word(buf, at + 4)?, word(buf, at + 8)?, word(buf, at + 12)? as usize);
        let attrs = buf.get(at + 16..at + 24).ok_or(Errno::EBADMSG)?;
        let attrs =
            u64::from_ne_bytes([attrs[0], attrs[1], attrs[2], attrs[3], attrs[4], attrs[5], attrs[6], attrs[7]]);
        if slot >= MAX_SLOTS {
            return Err(Errno::EBADMSG);
        }
        Ok(match kind {
            OPEN_SOURCE => StepRef::OpenSource { path: cstr(buf, a)?, slot },
            MKDIR => StepRef::Mkdir { path: cstr(buf, a)? },
            TOUCH => StepRef::Touch { path: cstr(buf, a)? },
            BIND => StepRef::Bind { slot, target: cstr(buf, a)?, attrs },
            REMOUNT => StepRef::Remount {
                target: cstr(buf, a)?,
                flags: MsFlags::from_bits_truncate(attrs as _),
                data: cstr(buf, b)?,
            },
            CLOSE_SOURCES => StepRef::CloseSources,
            PIVOT_ROOT => StepRef::PivotRoot { new_root: cstr(buf, a)? },
            READ_ONLY => StepRef::ReadOnly { target: cstr(buf, a)? },
            _ => return Err(Errno::EBADMSG),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An 8-aligned copy, as the child's mapping is.
    fn aligned(bytes: &[u8]) -> Vec<u64> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        // SAFETY: the words have room for every byte.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), words.as_mut_ptr().cast::<u8>(), bytes.len()) };
        words
    }

    fn bytes(words: &mut [u64], len: usize) -> &mut [u8] {
        // SAFETY: `len` is at most the words' size in bytes.
        unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), len) }
    }

    fn late_steps() -> Vec<Step> {
        vec![
            Step::OpenSource { path: c"/srv/code".into(), slot: 0 },
            Step::Mkdir { path: c"/stage/var/task".into() },
            Step::Bind { source: c"/srv/code".into(), slot: 0, target: c"/stage/var/task".into(), attrs: 7 },
            Step::Remount {
                target: c"/stage/tmp".into(),
                flags: MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                data: c"size=4096".into(),
            },
            Step::CloseSources,
            Step::PivotRoot { new_root: c"/stage".into() },
            Step::ReadOnly { target: c"/".into() },
        ]
    }

    #[test]
    fn an_assignment_decodes_in_place_to_what_was_encoded() {
        let argv = vec!["/var/task/bootstrap".to_owned(), "-x".to_owned()];
        let env = vec![("A".to_owned(), "1".to_owned()), ("EMPTY".to_owned(), String::new())];
        let encoded = encode(&late_steps(), &argv, &env, Path::new("/var/task")).unwrap();
        let mut words = aligned(&encoded);
        let late = decode(bytes(&mut words, encoded.len())).unwrap();
        assert_eq!(late.len(), 7);
        assert_eq!(late.cwd, c"/var/task");
        let described: Vec<String> = (0..late.len()).map(|i| format!("{:?}", late.step(i).unwrap())).collect();
        let expected: Vec<String> = late_steps().iter().map(|s| format!("{:?}", s.as_ref())).collect();
        assert_eq!(described, expected);
        // SAFETY: decode filled NULL-terminated arrays of pointers into the buffer.
        unsafe {
            assert_eq!(CStr::from_ptr(late.exec.program), c"/var/task/bootstrap");
            assert_eq!(CStr::from_ptr(*late.exec.argv.add(1)), c"-x");
            assert!((*late.exec.argv.add(2)).is_null());
            assert_eq!(CStr::from_ptr(*late.exec.envp), c"A=1");
            assert_eq!(CStr::from_ptr(*late.exec.envp.add(1)), c"EMPTY=");
            assert!((*late.exec.envp.add(2)).is_null());
        }
    }

    #[test]
    fn damaged_assignments_are_refused() {
        let encoded = encode(&late_steps(), &["/p".to_owned()], &[], Path::new("/")).unwrap();
        let mut short = aligned(&encoded[..encoded.len() - 8]);
        assert_eq!(decode(bytes(&mut short, encoded.len() - 8)).err(), Some(Errno::EBADMSG));
        let mut bad_magic = encoded.clone();
        bad_magic[0] ^= 1;
        let mut words = aligned(&bad_magic);
        assert_eq!(decode(bytes(&mut words, bad_magic.len())).err(), Some(Errno::EBADMSG));
        // A string offset past the end.
        let mut bad_offset = encoded.clone();
        bad_offset[HEADER + 4..HEADER + 8].copy_from_slice(&u32::MAX.to_ne_bytes());
        let mut words = aligned(&bad_offset);
        let late = decode(bytes(&mut words, bad_offset.len())).unwrap();
        assert_eq!(late.step(0).err(), Some(Errno::EBADMSG));
        assert!(encode(&[], &["/p".to_owned()], &[("A".to_owned(), "\0".to_owned())], Path::new("/")).is_err());
    }
}
