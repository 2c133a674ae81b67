//! Found by the fuzzer (crates/vigie-fuzz): a what-if scenario of thousands of changes copied the whole state once
//! per change, and the server held the state's read lock meanwhile (40 s for one request on a grown state, every
//! write waiting behind it). A scenario now costs one copy of the state and its changes. Measured in bytes
//! allocated (this binary's allocator counts them), not in time.

mod common;

use common::{apply, d, world};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use vigie_domain::*;
use vigie_logistics::whatif::*;

/// The system allocator, counting every byte allocated.
struct Counting;
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(l.size(), Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCATED.fetch_add(n, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Bytes allocated while `f` runs (this binary has one test: nothing else allocates meanwhile).
fn allocated<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.load(Ordering::Relaxed);
    let t = f();
    (t, ALLOCATED.load(Ordering::Relaxed) - before)
}

#[test]
fn a_scenario_of_many_changes_copies_the_state_once() {
    let mut st = world();
    // A state worth copying: 5,000 more forces.
    let forces = (0..5_000)
        .map(|i| {
            Event::ForceUpserted(Force {
                id: ForceId::parse(&format!("FX{i}")).unwrap(),
                name: format!("Force {i}"),
                site_id: SiteId::parse("SB").unwrap(),
                headcount: 10,
                organization_id: OrgId::parse("B").unwrap(),
                starts_on: d("2024-07-20"),
                ends_on: d("2024-08-11"),
                attributes: Default::default(),
            })
        })
        .collect();
    apply(&mut st, forces);
    let (copy, one_copy) = allocated(|| st.clone());
    drop(copy);
    let changes = 2_000;
    let scenario = Scenario {
        name: "beaucoup".into(),
        changes: (0..changes)
            .map(|i| Change::WithdrawForce { force: ForceId::parse(&format!("FX{}", i % 5_000)).unwrap() })
            .collect(),
    };
    let (after, cost) = allocated(|| apply_scenario(&st, &scenario).unwrap());
    assert_eq!(after.forces.len(), st.forces.len());
    let withdrawn = after.forces.values().filter(|f| f.value.ends_on < f.value.starts_on).count();
    assert_eq!(withdrawn, changes, "every change applied");
    // One copy, and a few kilobytes a change; a copy per change would be 2,000 copies.
    assert!(
        cost < 2 * one_copy + changes * 4096,
        "{cost} bytes allocated for {changes} changes; one copy of the state is {one_copy} bytes"
    );
}
