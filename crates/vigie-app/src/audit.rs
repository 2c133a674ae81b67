//! Who changed what, when: journal events by actor, object and time, read from storage in pages.

use crate::AppError;
use vigie_domain::event::AuditFilter;
use vigie_domain::Envelope;
use vigie_journal::Journal;

/// Up to `limit` events after `after` that the filter keeps, oldest first; and the sequence to go on from.
pub fn events(
    journal: &Journal,
    filter: &AuditFilter,
    mut after: u64,
    limit: usize,
) -> Result<(Vec<Envelope>, u64), AppError> {
    let mut found = Vec::new();
    loop {
        let page = journal.read_after(after, 10_000)?;
        if page.is_empty() {
            return Ok((found, after));
        }
        for e in page {
            after = e.seq;
            if filter.matches(&e) {
                found.push(e);
                if found.len() == limit {
                    return Ok((found, after));
                }
            }
        }
    }
}
