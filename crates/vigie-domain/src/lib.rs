//! Vigie's domain: the registry (organisations, sites, items, stock, forces, allowances, vehicles), the journal's
//! events, the in-memory projection they build, and its snapshots (`snapshot`: a versioned codec, so that a start
//! replays only the journal's tail).
//!
//! Architecture invariant: this crate does no I/O. It knows nothing of files, sockets, databases or async runtimes
//! (`cargo tree -p vigie-domain` holds no tokio, axum, rusqlite or postgres; a test checks it). Everything here is a
//! value or a pure function of values, so the edges (import, storage, HTTP, CLI) can be tested apart and the
//! decisions built on it can be benchmarked without a disk.

pub mod access;
pub mod event;
pub mod fxhash;
pub mod geo;
pub mod health;
pub mod ids;
pub mod instant;
pub mod itsm;
pub mod paris;
pub mod plan;
pub mod quantity;
#[macro_use]
pub mod registry;
pub mod notify;
pub mod oncall;
pub mod readiness;
pub mod report;
pub mod snapshot;
pub mod state;
pub mod text;
pub mod toc;

pub use event::{Actor, Envelope, Event, NewEvent};
pub use geo::LatLon;
pub use ids::{
    ApplicationId, AssetId, CheckId, ComputerId, ForceId, ItemId, OrgId, PartnerId, PersonId, SiteId, TaskId, TeamId,
    VehicleId, WindowId, ZoneId,
};
pub use plan::{Movement, Plan, PlanId, PlanStatus, PlanStep, SupportShift};
pub use quantity::Quantity;
pub use registry::*;
pub use state::State;
