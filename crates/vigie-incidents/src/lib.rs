//! Incidents, as ServiceNow names them, so that its clients work against Vigie unchanged (docs/incidents.md).
//!
//! - [`alerts`]: alerts of critical applications open incidents, one per site and application, with the storm attached.
//! - [`query`]: ServiceNow encoded queries (`sysparm_query`): parse, evaluate on a record, order.
//! - [`incident`]: the incident record's states, the impact × urgency priority matrix, and the lifecycle rules
//!   (what a change may do, with a clear error when it may not).
//!
//! - [`oplog`]: the operations log in 3×8 shifts and the shift hand-over.
//! - [`sla`]: response and resolution clocks, paused while On Hold, re-targeted by priority.
//!
//! Pure: records and changes in, decisions out.

pub mod alerts;
pub mod incident;
pub mod oplog;
pub mod query;
pub mod sla;
