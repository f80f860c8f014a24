//! The last [`TAIL_BYTES`] of an invocation's log, kept in a fixed ring: the
//! whole of what a function prints is never held in memory, however much it
//! prints (`X-Amz-Log-Result` carries only this tail).

use super::TAIL_BYTES;

/// A ring of the last [`TAIL_BYTES`] bytes appended.
#[derive(Debug)]
pub(crate) struct Tail {
    ring: Box<[u8; TAIL_BYTES]>,
    /// Bytes appended in all (the ring holds the last `min(len, TAIL_BYTES)`).
    len: u64,
}

impl Tail {
    pub(crate) fn new() -> Self {
        Self { ring: Box::new([0; TAIL_BYTES]), len: 0 }
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        if bytes.len() > TAIL_BYTES {
            self.len += (bytes.len() - TAIL_BYTES) as u64;
            bytes = &bytes[bytes.len() - TAIL_BYTES..];
        }
        let at = (self.len % TAIL_BYTES as u64) as usize;
        let first = bytes.len().min(TAIL_BYTES - at);
        self.ring[at..at + first].copy_from_slice(&bytes[..first]);
        self.ring[..bytes.len() - first].copy_from_slice(&bytes[first..]);
        self.len += bytes.len() as u64;
    }

    /// The kept bytes, oldest first.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        if self.len <= TAIL_BYTES as u64 {
            return self.ring[..self.len as usize].to_vec();
        }
        let at = (self.len % TAIL_BYTES as u64) as usize;
        let mut out = Vec::with_capacity(TAIL_BYTES);
        out.extend_from_slice(&self.ring[at..]);
        out.extend_from_slice(&self.ring[..at]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_bytes_in_order() {
        let mut all = Vec::new();
        let mut tail = Tail::new();
        for (i, size) in [1, 7, 4000, 90, 5000, 3, 4096, 17].into_iter().enumerate() {
            let chunk: Vec<u8> = (0..size).map(|j| (i * 31 + j) as u8).collect();
            tail.push(&chunk);
            all.extend_from_slice(&chunk);
        }
        assert_eq!(tail.into_vec(), all[all.len() - TAIL_BYTES..]);
        let mut short = Tail::new();
        short.push(b"abc");
        short.push(b"def");
        assert_eq!(short.into_vec(), b"abcdef");
    }
}
