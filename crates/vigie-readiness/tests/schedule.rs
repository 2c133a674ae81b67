//! The forward pass, critical paths, blocking and readiness against hand-computed cases, and its invariants on
//! random networks.

use proptest::prelude::*;
use vigie_readiness::*;

const H: Minutes = 60;

fn task(id: &str, site: &str, trade: &str, duration: Minutes, state: TaskState) -> Task {
    Task {
        id: id.into(),
        site: site.into(),
        zone: "résultats".into(),
        trade: trade.into(),
        owner: if trade == "mobilier" { "COJO".into() } else { "ATOS".into() },
        duration,
        due: None,
        state,
    }
}

fn dep(before: &str, after: &str, lag: Minutes) -> Dependency {
    Dependency { before: before.into(), after: after.into(), lag }
}

/// "No table, no PC": tables (4 h) → power (2 h) and network (3 h, 1 h after the tables) → install (5 h) → image
/// (2 h) → test (1 h), at Bercy, from 0.
fn bercy() -> Network {
    let t = |id, trade, d| task(id, "BCY", trade, d, TaskState::Todo);
    Network::new(
        vec![
            t("tables", "mobilier", 4 * H),
            t("power", "électricité", 2 * H),
            t("network", "réseau", 3 * H),
            t("install", "installation", 5 * H),
            t("image", "imagerie", 2 * H),
            t("test", "tests", H),
        ],
        &[
            dep("tables", "power", 0),
            dep("tables", "network", H),
            dep("power", "install", 0),
            dep("network", "install", 0),
            dep("install", "image", 0),
            dep("image", "test", 0),
        ],
    )
    .unwrap()
}

#[test]
fn the_forward_pass_follows_the_dependencies_and_their_lags() {
    let net = bercy();
    let s = net.schedule(0);
    assert_eq!(s.dates(&net, "tables"), Some((0, 4 * H)));
    assert_eq!(s.dates(&net, "power"), Some((4 * H, 6 * H)));
    assert_eq!(s.dates(&net, "network"), Some((5 * H, 8 * H)), "one hour after the tables");
    assert_eq!(s.dates(&net, "install"), Some((8 * H, 13 * H)), "after the later of power and network");
    assert_eq!(s.dates(&net, "test"), Some((15 * H, 16 * H)));
    assert_eq!(s.site_ready(&net, "BCY"), Some(16 * H));
    assert_eq!(s.critical_path(&net, "BCY"), ["tables", "network", "install", "image", "test"]);
}

#[test]
fn finished_and_started_tasks_keep_their_own_dates_and_nothing_starts_before_now() {
    let mut net = bercy();
    net.set_state("tables", TaskState::Done { finished: 3 * H });
    net.set_state("network", TaskState::InProgress { started: 4 * H });
    // At 10 h the network, started at 4 h for 3 h, is overdue: it finishes no earlier than now.
    let s = net.schedule(10 * H);
    assert_eq!(s.dates(&net, "tables"), Some((-H, 3 * H)));
    assert_eq!(s.dates(&net, "power"), Some((10 * H, 12 * H)), "not before now");
    assert_eq!(s.dates(&net, "network"), Some((4 * H, 10 * H)));
    assert_eq!(s.dates(&net, "install"), Some((12 * H, 17 * H)));
    assert_eq!(s.critical_path(&net, "BCY"), ["power", "install", "image", "test"]);
    assert_eq!(net.unfinished_predecessors("install"), ["power", "network"]);
    assert!(net.unfinished_predecessors("power").is_empty());
}

#[test]
fn a_blocked_task_blocks_its_successors_transitively_and_is_named_as_their_root_cause() {
    let mut net = bercy();
    net.set_state("tables", TaskState::Blocked);
    let s = net.schedule(0);
    for t in ["tables", "power", "network", "install", "image", "test"] {
        assert_eq!(s.blocked_by(&net, t), Some("tables"), "{t}");
    }
    assert_eq!(s.blockers(&net), [("tables", vec!["power", "network", "install", "image", "test"])]);
    // Once the tables are there, nothing is blocked.
    net.set_state("tables", TaskState::Done { finished: 0 });
    let s = net.schedule(0);
    assert!(s.blockers(&net).is_empty());
    assert_eq!(s.blocked_by(&net, "test"), None);
}

#[test]
fn late_tasks_are_those_projected_past_their_due_date() {
    let mut tasks = bercy().tasks().to_vec();
    tasks[5].due = Some(12 * H);
    tasks[4].due = Some(20 * H);
    let deps = [dep("tables", "install", 0), dep("install", "image", 0), dep("image", "test", 0)];
    let net = Network::new(tasks, &deps).unwrap();
    let s = net.schedule(0);
    // tables 0–4, install 4–9, image 9–11, test 11–12: on time; from 2 h, the test is an hour late.
    assert!(s.late(&net).is_empty());
    let s = net.schedule(2 * H);
    assert_eq!(s.late(&net), [("test", 14 * H, 12 * H)]);
}

#[test]
fn readiness_is_work_done_over_work_planned() {
    let mut net = bercy();
    net.set_state("tables", TaskState::Done { finished: 4 * H });
    net.set_state("power", TaskState::Verified { finished: 6 * H });
    let by_site = readiness(&net, |t| t.site.as_str());
    let r = by_site["BCY"];
    assert_eq!((r.done, r.total, r.tasks_done, r.tasks), (6 * H, 17 * H, 2, 6));
    assert!((r.ratio() - 6.0 / 17.0).abs() < 1e-12);
    let by_owner = readiness(&net, |t| t.owner.as_str());
    assert_eq!(by_owner["COJO"].ratio(), 1.0);
}

#[test]
fn bad_networks_are_refused_with_what_is_wrong_and_where() {
    let t = |id: &str| task(id, "BCY", "tests", H, TaskState::Todo);
    // The cycle is named (from whichever of its tasks), not the tasks merely before or after it.
    let e = Network::new(
        vec![t("a"), t("b"), t("c"), t("d")],
        &[dep("a", "b", 0), dep("b", "c", 0), dep("c", "b", 0), dep("c", "d", 0)],
    )
    .unwrap_err();
    let NetworkError::Cycle { mut cycle } = e else { panic!("{e}") };
    cycle.sort();
    assert_eq!(cycle, ["b", "c"]);
    let e = Network::new(vec![t("a"), t("b"), t("c")], &[dep("a", "b", 0), dep("b", "c", 0), dep("c", "a", 0)])
        .unwrap_err();
    let NetworkError::Cycle { cycle } = &e else { panic!("{e}") };
    assert_eq!(cycle.len(), 3, "{e}");
    assert!(e.to_string().starts_with("the dependencies make a cycle: "), "{e}");
    assert_eq!(
        Network::new(vec![t("a")], &[dep("a", "z", 0)]).unwrap_err(),
        NetworkError::UnknownTask { id: "z".into(), at: 0 }
    );
    assert_eq!(
        Network::new(vec![t("a"), t("a")], &[]).unwrap_err(),
        NetworkError::DuplicateTask { id: "a".into(), at: 1 }
    );
    assert_eq!(
        Network::new(vec![t("a")], &[dep("a", "a", 0)]).unwrap_err(),
        NetworkError::SelfDependency { id: "a".into(), at: 0 }
    );
}

/// A random network: edges only from a lower to a higher index (acyclic), random states and lags.
fn network() -> impl Strategy<Value = (Network, Minutes)> {
    (2usize..40).prop_flat_map(|n| {
        let states = proptest::collection::vec((0u8..5, 0i64..2000), n);
        let durations = proptest::collection::vec(0i64..600, n);
        let edges = proptest::collection::vec((0..n, 0..n, 0i64..120), 0..n * 2);
        (states, durations, edges, 0i64..3000).prop_map(move |(states, durations, edges, now)| {
            let tasks: Vec<Task> = (0..n)
                .map(|i| {
                    let (k, at) = states[i];
                    let state = match k {
                        0 => TaskState::Todo,
                        1 => TaskState::Blocked,
                        2 => TaskState::InProgress { started: at },
                        3 => TaskState::Done { finished: at },
                        _ => TaskState::Verified { finished: at },
                    };
                    task(&format!("T{i}"), ["A", "B", "C"][i % 3], "tests", durations[i], state)
                })
                .collect();
            let deps: Vec<Dependency> = edges
                .into_iter()
                .filter(|(a, b, _)| a < b)
                .map(|(a, b, lag)| dep(&format!("T{a}"), &format!("T{b}"), lag))
                .collect();
            (Network::new(tasks, &deps).expect("acyclic"), now)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A task not yet started starts no earlier than now nor than each predecessor's finish plus lag, and the
    /// latest of them exactly; a site is ready when its last task finishes; a blocked task's successors are blocked.
    #[test]
    fn the_forward_pass_respects_every_dependency((net, now) in network()) {
        let s = net.schedule(now);
        for t in net.tasks() {
            let (start, finish) = s.dates(&net, &t.id).unwrap();
            prop_assert!(finish >= start);
            if matches!(t.state, TaskState::Todo | TaskState::Blocked) {
                let bound = net.predecessors(&t.id).iter().map(|&(p, lag)| s.dates(&net, p).unwrap().1 + lag).fold(now, i64::max);
                prop_assert_eq!(start, bound, "{}", t.id);
                prop_assert_eq!(finish, start + t.duration);
            }
            if t.state == TaskState::Blocked {
                prop_assert_eq!(s.blocked_by(&net, &t.id), Some(t.id.as_str()));
                for succ in net.successors(&t.id) {
                    let st = net.task(succ).unwrap().state;
                    prop_assert!(st.finished().is_some() || s.blocked_by(&net, succ).is_some(), "{} after {}", succ, t.id);
                }
            }
        }
        for (site, ready) in s.ready_dates(&net) {
            let latest = net.tasks().iter().filter(|t| t.site == site).map(|t| s.dates(&net, &t.id).unwrap().1).max().unwrap();
            prop_assert_eq!(ready, latest);
            // The critical path ends on the site's last task and each step's finish (plus lag) sets the next start.
            let path = s.critical_path(&net, site);
            let last = path.last().unwrap();
            prop_assert_eq!(s.dates(&net, last).unwrap().1, ready);
            for w in path.windows(2) {
                // (Two dependencies between the same tasks: the longer lag holds.)
                let lag = net.predecessors(w[1]).iter().filter(|(p, _)| *p == w[0]).map(|&(_, l)| l).max().unwrap();
                prop_assert_eq!(s.dates(&net, w[0]).unwrap().1 + lag, s.dates(&net, w[1]).unwrap().0);
            }
        }
    }
}

fn results_room() -> Template {
    let t = |key: &str, trade: &str, owner: &str, duration, after: &[(&str, Minutes)], count| TemplateTask {
        key: key.into(),
        trade: trade.into(),
        owner: owner.into(),
        duration,
        after: after.iter().map(|&(k, l)| (k.to_string(), l)).collect(),
        count,
    };
    Template {
        kind: "salle-résultats".into(),
        tasks: vec![
            t("tables", "mobilier", "COJO", 4 * H, &[], 1),
            t("power", "électricité", "COJO", 2 * H, &[("tables", 0)], 1),
            t("network", "réseau", "ATOS", 3 * H, &[("tables", H)], 1),
            t("pc", "installation", "ATOS", H, &[("power", 0), ("network", 0)], 3),
            t("test", "tests", "ATOS", H, &[("pc", 0)], 1),
        ],
    }
}

/// A template gives every zone of every site its tasks from a few lines; counted tasks (one per computer) each
/// follow their predecessors, and the zone's test waits for every computer.
#[test]
fn a_template_instantiated_for_many_sites_gives_each_zone_its_network() {
    let room = results_room();
    let (mut tasks, mut deps) = (Vec::new(), Vec::new());
    for site in ["BCY", "STA", "MRS"] {
        for zone in ["R1", "R2"] {
            let (t, d) = room.instantiate(site, zone, Some(20 * H)).unwrap();
            tasks.extend(t);
            deps.extend(d);
        }
    }
    // 7 tasks (3 computers) and 1 + 1 + 2×3 + 3 = 11 dependencies a zone, six zones.
    assert_eq!((tasks.len(), deps.len()), (42, 66));
    let net = Network::new(tasks, &deps).unwrap();
    assert_eq!(net.predecessors("BCY/R1/pc.2"), [("BCY/R1/power", 0), ("BCY/R1/network", 0)]);
    assert_eq!(net.unfinished_predecessors("STA/R2/test"), ["STA/R2/pc.1", "STA/R2/pc.2", "STA/R2/pc.3"]);
    let s = net.schedule(0);
    // tables 0–4 h, network 5–8 h, each computer 8–9 h, test 9–10 h.
    assert_eq!(s.dates(&net, "MRS/R2/test"), Some((9 * H, 10 * H)));
    assert_eq!(s.site_ready(&net, "MRS"), Some(10 * H));
    assert_eq!(readiness(&net, |t| t.zone.as_str())["R1"].tasks, 21);
}

#[test]
fn a_template_that_names_an_unknown_task_or_one_twice_is_refused() {
    let mut room = results_room();
    room.tasks[4].after.push(("imaging".into(), 0));
    assert_eq!(
        room.instantiate("BCY", "R1", None).unwrap_err(),
        TemplateError::UnknownKey { kind: "salle-résultats".into(), key: "test".into(), after: "imaging".into() }
    );
    let mut room = results_room();
    room.tasks.push(room.tasks[0].clone());
    assert!(matches!(room.instantiate("BCY", "R1", None), Err(TemplateError::DuplicateKey { .. })));
    // A template going round in circles is named by the network, like any other cycle.
    let mut room = results_room();
    room.tasks[0].after.push(("test".into(), 0));
    let (t, d) = room.instantiate("BCY", "R1", None).unwrap();
    assert!(matches!(Network::new(t, &d), Err(NetworkError::Cycle { .. })));
}

/// "No table, no PC": the installation cannot start while the tables are not there, unless overridden (the caller
/// records the override); verification follows completion; a finished task is reopened first.
#[test]
fn a_task_waits_for_its_predecessors_unless_overridden() {
    let mut net = bercy();
    let e = net.check_transition("install", TaskState::InProgress { started: 0 }, false).unwrap_err();
    assert_eq!(
        e,
        TransitionError::Waiting { task: "install".into(), waiting_for: vec!["power".into(), "network".into()] }
    );
    assert!(e.to_string().contains("waits for power, network"), "{e}");
    assert_eq!(
        net.check_transition("install", TaskState::Done { finished: 0 }, true).unwrap(),
        ["power", "network"],
        "the override says what it passes over"
    );
    assert_eq!(
        net.check_transition("tables", TaskState::InProgress { started: 0 }, false).unwrap(),
        Vec::<String>::new()
    );
    assert!(net.check_transition("tables", TaskState::Verified { finished: 0 }, false).is_err(), "not done yet");
    net.set_state("tables", TaskState::Done { finished: 4 * H });
    assert!(net.check_transition("tables", TaskState::Verified { finished: 5 * H }, false).is_ok());
    assert!(net.check_transition("tables", TaskState::InProgress { started: 5 * H }, false).is_err(), "reopened first");
    assert!(net.check_transition("tables", TaskState::Todo, false).is_ok());
    assert_eq!(
        net.check_transition("power", TaskState::InProgress { started: 5 * H }, false).unwrap(),
        Vec::<String>::new()
    );
    assert!(matches!(net.check_transition("nope", TaskState::Todo, false), Err(TransitionError::UnknownTask(_))));
}
