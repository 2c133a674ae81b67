//! The technology operations centre's model of health, kept pure: results and the current time come in, state
//! changes come out. No clock, no I/O: the server feeds it and journals what it returns.
//!
//! - [`status`]: the four check statuses (Nagios exit codes 0–3) and what a screen shows (plus maintenance and
//!   unreachable), with their colours and French labels.
//! - [`plugin`]: Nagios plugin output (`TEXT | perfdata`, long text, performance data).
//! - [`machine`]: one check's state machine: soft and hard states, flapping, staleness, acknowledgement,
//!   maintenance.
//! - [`rollup`]: the state of a group (application at a site, site, application, suite) from its members.
//! - [`alertmanager`]: Prometheus Alertmanager webhook payloads (version 4) and the label index.
//! - [`x509`]: when a certificate expires (DER), for the TLS expiry of http checks.
//! - [`availability`]: time-weighted availability that leaves maintenance out.
//! - [`estate`]: every check in memory, with dependencies (UNREACHABLE instead of a storm of reds) and
//!   maintenance windows.
//!
//! Times are milliseconds since the Unix epoch (UTC), given by the caller.

pub mod alertmanager;
pub mod availability;
pub mod command;
pub mod estate;
pub mod machine;
pub mod plugin;
pub mod rollup;
pub mod status;
pub mod x509;

pub use machine::{CheckState, Policy, StateType, Transition};
pub use status::{Shown, Status};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;
