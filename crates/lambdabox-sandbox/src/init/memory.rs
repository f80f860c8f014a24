//! Giving back the caller's memory.
//!
//! The init begins as a copy-on-write copy of the caller's address space:
//! the engine's heap, thread stacks and buffers. Every page the caller
//! changes or frees afterwards would stay allocated for the init for as
//! long as the sandbox lives, charged to the caller's cgroup (measured: a
//! 64 MiB buffer the caller freed after the spawn stayed whole in the
//! init). So once the program runs, the init drops its copy of every
//! writable mapping with `madvise(MADV_DONTNEED)` (the pages go; the
//! mapping stays and would read as zeros), except:
//!
//! - its own stack;
//! - 64 KiB either side of its thread pointer: the thread control block
//!   and the static thread-local storage beside it, where glibc keeps the
//!   `rseq` area that the kernel keeps writing to (a zeroed one would
//!   still work, but kernels built with `CONFIG_DEBUG_RSEQ` check it).
//!
//! The kept ranges are address ranges, not whole mappings: the kernel
//! merges neighbouring anonymous mappings, so the init's stack, a thread's
//! TLS and a large buffer of the caller's can all be one mapping.
//!
//! Read-only mappings (code, constants) are the caller's files' pages and
//! cost nothing. From then on the init runs only its own code, on its own
//! stack, with [`sys`] calls. Nothing is dropped where a hardware shadow
//! stack guards returns (dropping it would fault the next return), nor
//! where [`sys::RAW`] is false (libc would run on zeroed data).

use std::ops::Range;

use super::sys;

/// How much is kept either side of the thread pointer.
const THREAD_POINTER_WINDOW: usize = 64 * 1024;

/// Drops the init's copy of the caller's writable memory, keeping the
/// pages of `stack` (the init's own) and those around the thread pointer.
pub(crate) fn release(stack: &Range<usize>) {
    if !sys::RAW || sys::shadow_stack_enabled() {
        return;
    }
    // SAFETY: getauxval reads the auxiliary vector; no locks, no allocation.
    let page = unsafe { libc::getauxval(libc::AT_PAGESZ) } as usize;
    let (Some(thread_pointer), true) = (sys::thread_pointer(), page.is_power_of_two()) else {
        return;
    };
    let pages = |r: Range<usize>| (r.start & !(page - 1))..(r.end.saturating_add(page - 1) & !(page - 1));
    let around_thread_pointer =
        thread_pointer.saturating_sub(THREAD_POINTER_WINDOW)..thread_pointer.saturating_add(THREAD_POINTER_WINDOW);
    let mut keep = [pages(stack.clone()), pages(around_thread_pointer)];
    if keep[1].start < keep[0].start {
        keep.swap(0, 1);
    }
    // SAFETY: openat with a NUL-terminated path from the binary's constants.
    let fd = unsafe {
        sys::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD as usize,
            c"/proc/self/maps".as_ptr() as usize,
            (libc::O_RDONLY | libc::O_CLOEXEC) as usize,
            0,
        )
    };
    if fd < 0 {
        return;
    }
    let mut parser = MapsParser::default();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reads at most `buf.len()` bytes into a buffer on our stack.
        let n = unsafe { sys::syscall(libc::SYS_read, fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0) };
        if n == -(libc::EINTR as isize) {
            continue;
        }
        if n <= 0 {
            break;
        }
        for &byte in buf.iter().take(n as usize) {
            if let Some(mapping) = parser.feed(byte)
                && mapping.writable
            {
                drop_outside(&mapping.range, &keep);
            }
        }
    }
    // SAFETY: closing the descriptor opened above.
    unsafe { sys::syscall(libc::SYS_close, fd as usize, 0, 0, 0) };
}

/// The parts of `mapping` outside both `keep` ranges (sorted by start, and
/// possibly overlapping): before, between and after them. Any may be empty
/// (`start >= end`).
fn outside(mapping: &Range<usize>, keep: &[Range<usize>; 2]) -> [Range<usize>; 3] {
    let mut cursor = mapping.start;
    let before = cursor..keep[0].start.min(mapping.end);
    cursor = cursor.max(keep[0].end);
    let between = cursor..keep[1].start.min(mapping.end);
    cursor = cursor.max(keep[1].end);
    [before, between, cursor..mapping.end]
}

/// Drops the pages of `mapping` that lie outside `keep`.
fn drop_outside(mapping: &Range<usize>, keep: &[Range<usize>; 2]) {
    for piece in outside(mapping, keep) {
        if piece.start < piece.end {
            // SAFETY: MADV_DONTNEED on a private or shared mapping of ours
            // that the init will not read again (it runs on `keep`). Errors
            // (locked or special mappings) leave the pages where they are.
            unsafe {
                sys::syscall(libc::SYS_madvise, piece.start, piece.end - piece.start, libc::MADV_DONTNEED as usize, 0)
            };
        }
    }
}

/// One line of `/proc/PID/maps`, as far as the init cares.
#[derive(Debug, PartialEq, Eq)]
struct Mapping {
    range: Range<usize>,
    writable: bool,
}

/// Parses `/proc/PID/maps` one byte at a time, with no buffer of its own:
/// `start-end perms offset dev inode [path]`, hexadecimal addresses.
#[derive(Debug, Default)]
struct MapsParser {
    /// 0: start, 1: end, 2: permissions, 3: the rest of the line.
    field: u8,
    start: usize,
    end: usize,
    perm: u8,
    writable: bool,
}

impl MapsParser {
    /// Feeds one byte; returns the mapping at each end of line.
    fn feed(&mut self, byte: u8) -> Option<Mapping> {
        if byte == b'\n' {
            let mapping = Mapping { range: self.start..self.end, writable: self.writable };
            *self = Self::default();
            return Some(mapping);
        }
        match (self.field, byte) {
            (0, b'-') => self.field = 1,
            (0, _) => self.start = push_hex(self.start, byte),
            (1, b' ') => self.field = 2,
            (1, _) => self.end = push_hex(self.end, byte),
            (2, b' ') => self.field = 3,
            (2, _) => {
                self.writable |= self.perm == 1 && byte == b'w';
                self.perm = self.perm.saturating_add(1);
            }
            _ => {}
        }
        None
    }
}

fn push_hex(value: usize, digit: u8) -> usize {
    let nibble = match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => 0,
    };
    (value << 4) | usize::from(nibble)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Vec<Mapping> {
        let mut parser = MapsParser::default();
        text.iter().filter_map(|&b| parser.feed(b)).collect()
    }

    #[test]
    fn parses_addresses_and_the_write_permission() {
        let text = b"55d0c8a00000-55d0c8a21000 r-xp 00000000 08:01 1234 /usr/bin/x y\n\
                     7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0 [stack]\n\
                     7f00-8f00 rw-s 00000000 00:05 7 /memfd:a (deleted)\n";
        assert_eq!(
            parse(text),
            vec![
                Mapping { range: 0x55d0_c8a0_0000..0x55d0_c8a2_1000, writable: false },
                Mapping { range: 0x7ffd_1c00_0000..0x7ffd_1c02_1000, writable: true },
                Mapping { range: 0x7f00..0x8f00, writable: true },
            ]
        );
    }

    #[test]
    fn agrees_with_a_plain_parse_of_our_own_maps() {
        let text = std::fs::read_to_string("/proc/self/maps").unwrap();
        let expected: Vec<Mapping> = text
            .lines()
            .map(|line| {
                let mut fields = line.split_whitespace();
                let (start, end) = fields.next().unwrap().split_once('-').unwrap();
                let hex = |s| usize::from_str_radix(s, 16).unwrap();
                Mapping { range: hex(start)..hex(end), writable: fields.next().unwrap().as_bytes()[1] == b'w' }
            })
            .collect();
        assert!(expected.iter().any(|m| m.writable) && expected.iter().any(|m| !m.writable));
        assert_eq!(parse(text.as_bytes()), expected);
    }

    #[test]
    fn only_the_pages_outside_both_kept_ranges_are_dropped() {
        let keep = [0x5000..0x7000, 0xa000..0xb000];
        let pieces = |m: Range<usize>| outside(&m, &keep).into_iter().filter(|p| p.start < p.end).collect::<Vec<_>>();
        assert_eq!(pieces(0x1000..0x3000), vec![0x1000..0x3000]);
        assert_eq!(pieces(0x8000..0x9000), vec![0x8000..0x9000]);
        assert_eq!(pieces(0xc000..0xd000), vec![0xc000..0xd000]);
        assert_eq!(pieces(0x1000..0x10000), vec![0x1000..0x5000, 0x7000..0xa000, 0xb000..0x10000]);
        assert_eq!(pieces(0x6000..0xa800), vec![0x7000..0xa000]);
        assert_eq!(pieces(0x5000..0x7000), Vec::<Range<usize>>::new());
        // Overlapping kept ranges.
        let keep = [0x5000..0x9000, 0x6000..0x8000];
        let pieces = |m: Range<usize>| outside(&m, &keep).into_iter().filter(|p| p.start < p.end).collect::<Vec<_>>();
        assert_eq!(pieces(0x1000..0x10000), vec![0x1000..0x5000, 0x9000..0x10000]);
    }
}
