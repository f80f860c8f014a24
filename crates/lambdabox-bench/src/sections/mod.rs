//! The sections of a run, one driver each: it prints the section's heading
//! and progress, calls its measurement in [`crate::measure`] and returns
//! what the report needs. `run` in `main.rs` calls them in order; `--soak`,
//! `--auth-overhead` and `--event-sources` run [`soak`], [`auth`] and
//! [`event_sources`] instead.

pub mod alias;
pub mod auth;
pub mod baseline;
pub mod cargo_lambda;
pub mod cold;
pub mod density;
pub mod deploy;
pub mod event_sources;
pub mod front_door;
pub mod load;
pub mod queued;
pub mod soak;
pub mod warm;

use std::time::Duration;

use crate::cli::{Args, Section};

/// The event every warm, throughput and async request sends.
pub const PAYLOAD: &[u8] = br#"{"bench":"lambdabox"}"#;

/// The untimed start of every closed-loop run, in which the server starts
/// the environments its clients need.
pub const LOAD_WARMUP: Duration = Duration::from_millis(1500);

/// One benchmark run: its arguments, and what its sections could not
/// measure.
pub struct Bench<'a> {
    pub args: &'a Args,
    /// What could not be measured, and why, in the order the sections found out.
    pub unavailable: Vec<(String, String)>,
}

impl<'a> Bench<'a> {
    pub fn new(args: &'a Args) -> Self {
        Self { args, unavailable: Vec::new() }
    }

    /// Whether `--skip` leaves `section` out.
    pub fn skips(&self, section: Section) -> bool {
        self.args.skips(section)
    }

    /// The measured window of each closed-loop run (`--load-seconds`).
    pub fn load_window(&self) -> Duration {
        Duration::from_secs_f64(self.args.load_seconds)
    }

    /// Records that `what` could not be measured, and why.
    pub fn mark_unavailable(&mut self, what: impl Into<String>, why: String) {
        self.unavailable.push((what.into(), why));
    }
}
