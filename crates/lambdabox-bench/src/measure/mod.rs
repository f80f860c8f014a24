//! The measurements, each a function that drives a target over raw HTTP and
//! returns what it saw; the report puts them beside their baselines.

pub mod alias;
pub mod cold;
pub mod density;
pub mod front_door;
pub mod load;
pub mod queued;
pub mod warm;
