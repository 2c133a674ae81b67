//! Check statuses and what the wall screens show (defined with the domain's values, [`vigie_domain::health`]).

pub use vigie_domain::health::{Shown, Status};
