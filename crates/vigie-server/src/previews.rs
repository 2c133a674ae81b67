//! Imports validated and waiting for their confirmation. The files are uploaded, read and checked once (the dry
//! run); confirming commits what was read, planned again against the state as it is then (so a change in between is
//! taken into account), without a second upload. Bounded: a preview belongs to the caller who made it, lives
//! [`TTL`], and at most [`MAX`] are kept (the oldest goes first): a forgotten preview costs memory for minutes, not
//! for ever.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigie_import::Batch;

/// How long a validated import waits for its confirmation.
pub const TTL: Duration = Duration::from_secs(15 * 60);
/// Previews kept at once, every caller together.
pub const MAX: usize = 4;

struct Preview {
    id: String,
    actor: String,
    batch: Arc<Batch>,
    at: Instant,
}

#[derive(Default)]
pub(crate) struct Previews {
    kept: Mutex<VecDeque<Preview>>,
}

impl Previews {
    /// Keeps a validated batch for `actor`; returns the id that confirms it.
    pub fn keep(&self, actor: &str, batch: Arc<Batch>) -> String {
        let id = vigie_app::new_id();
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|p| p.at.elapsed() < TTL);
        while kept.len() >= MAX {
            kept.pop_front();
        }
        kept.push_back(Preview { id: id.clone(), actor: actor.to_string(), batch, at: Instant::now() });
        id
    }

    /// The batch of preview `id`, if `actor` made it and it has not expired; it is used once.
    pub fn take(&self, id: &str, actor: &str) -> Option<Arc<Batch>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|p| p.at.elapsed() < TTL);
        let at = kept.iter().position(|p| p.id == id && p.actor == actor)?;
        kept.remove(at).map(|p| p.batch)
    }
}
