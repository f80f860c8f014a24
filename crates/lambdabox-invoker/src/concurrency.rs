//! Concurrency accounting: how many invocations run per function, against
//! its reserved concurrency or the account's unreserved share. A request
//! over the limit is throttled (`TooManyRequestsException`); a queued
//! event over the limit waits in the queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why an invocation was throttled (AWS's `Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// The function's reserved concurrency is in use (or is 0).
    Reserved,
    /// The account's unreserved concurrency is in use.
    Account,
}

impl Throttle {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Reserved => "ReservedFunctionConcurrentInvocationLimitExceeded",
            Self::Account => "ConcurrentInvocationLimitExceeded",
        }
    }
}

#[derive(Default)]
struct Counts {
    per_function: HashMap<String, u32>,
    unreserved_in_use: u32,
}

/// Running invocations, by function.
#[derive(Default, Clone)]
pub struct Concurrency {
    counts: Arc<Mutex<Counts>>,
}

/// One running invocation; dropping it frees its slot.
pub struct Slot {
    counts: Arc<Mutex<Counts>>,
    function: String,
    unreserved: bool,
}

impl Concurrency {
    /// Takes a slot for `function`, whose reserved concurrency is `reserved`
    /// (None: it shares the account's `unreserved_limit`).
    pub fn acquire(&self, function: &str, reserved: Option<u32>, unreserved_limit: u32) -> Result<Slot, Throttle> {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let running = c.per_function.get(function).copied().unwrap_or(0);
        match reserved {
            Some(limit) if running >= limit => return Err(Throttle::Reserved),
            None if c.unreserved_in_use >= unreserved_limit => return Err(Throttle::Account),
            _ => {}
        }
        *c.per_function.entry(function.to_owned()).or_insert(0) += 1;
        if reserved.is_none() {
            c.unreserved_in_use += 1;
        }
        Ok(Slot { counts: Arc::clone(&self.counts), function: function.to_owned(), unreserved: reserved.is_none() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.per_function.get_mut(&self.function) {
            *n -= 1;
            if *n == 0 {
                c.per_function.remove(&self.function);
            }
        }
        if self.unreserved {
            c.unreserved_in_use -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_account_limits() {
        let c = Concurrency::default();
        let a = c.acquire("f", Some(2), 10).unwrap();
        let _b = c.acquire("f", Some(2), 10).unwrap();
        assert_eq!(c.acquire("f", Some(2), 10).err(), Some(Throttle::Reserved));
        drop(a);
        assert!(c.acquire("f", Some(2), 10).is_ok());
        assert_eq!(c.acquire("g", Some(0), 10).err(), Some(Throttle::Reserved));
        let _x = c.acquire("h", None, 1).unwrap();
        assert_eq!(c.acquire("i", None, 1).err(), Some(Throttle::Account));
    }
}
