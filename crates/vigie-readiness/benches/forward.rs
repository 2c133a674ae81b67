//! Readiness at the Games' scale: ~11,000 tasks over 56 sites (14 zones of 14 tasks each, tables before power and
//! network, computers imaged then tested, a furniture delivery shared per site). After one task changes, every
//! projected date, ready date and roll-up is recomputed; p50 and p99 over 2,000 changes, against the same forward
//! pass in Python with networkx (`benches/networkx_baseline.py`) on the same network, in the same run.
//!
//! `cargo bench -p vigie-readiness` (the baseline needs `python3` with networkx; without it, only our figures).

use std::io::Write;
use std::time::Instant;
use vigie_readiness::*;

const SITES: usize = 56;
const ZONES: usize = 14;
const TRADES: [&str; 14] = [
    "mobilier",
    "électricité",
    "réseau",
    "câblage",
    "livraison-pc",
    "installation",
    "imagerie",
    "imagerie-critique",
    "tests",
    "tests-résultats",
    "affichage",
    "téléphonie",
    "sécurité",
    "recette",
];

fn network() -> (Vec<Task>, Vec<Dependency>) {
    let mut tasks = Vec::new();
    let mut deps = Vec::new();
    for s in 0..SITES {
        let site = format!("S{s:02}");
        let delivery = format!("{site}-livraison-mobilier");
        tasks.push(Task {
            id: delivery.clone(),
            site: site.clone(),
            zone: "quai".into(),
            trade: "logistique".into(),
            owner: "SCA".into(),
            duration: 240,
            due: Some(10_000),
            state: TaskState::Todo,
        });
        for z in 0..ZONES {
            for (k, trade) in TRADES.iter().enumerate() {
                let id = format!("{site}-Z{z:02}-{k:02}");
                tasks.push(Task {
                    id: id.clone(),
                    site: site.clone(),
                    zone: format!("Z{z:02}"),
                    trade: (*trade).into(),
                    owner: if k < 4 { "COJO".into() } else { "ATOS".into() },
                    duration: 30 + ((s * 7 + z * 3 + k * 11) % 240) as Minutes,
                    due: Some(20_000),
                    state: TaskState::Todo,
                });
                match k {
                    0 => deps.push(Dependency { before: delivery.clone(), after: id, lag: 60 }),
                    1 | 2 => deps.push(Dependency { before: format!("{site}-Z{z:02}-00"), after: id, lag: 0 }),
                    5 => {
                        for b in [1, 2, 3, 4] {
                            deps.push(Dependency {
                                before: format!("{site}-Z{z:02}-{b:02}"),
                                after: id.clone(),
                                lag: 0,
                            });
                        }
                    }
                    _ => deps.push(Dependency { before: format!("{site}-Z{z:02}-{:02}", k - 1), after: id, lag: 15 }),
                }
            }
        }
    }
    (tasks, deps)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let (tasks, deps) = network();
    let (n_tasks, n_deps) = (tasks.len(), deps.len());
    let t0 = Instant::now();
    let mut net = Network::new(tasks.clone(), &deps).expect("a network");
    println!(
        "{n_tasks} tasks, {n_deps} dependencies over {SITES} sites; checked and ordered in {:.1} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );
    let ids: Vec<String> = tasks.iter().map(|t| t.id.clone()).collect();
    let mut times = Vec::with_capacity(2000);
    let mut checksum = 0i64;
    for i in 0..2000usize {
        let id = &ids[(i * 7919) % ids.len()];
        let state = if i % 2 == 0 { TaskState::Done { finished: 500 } } else { TaskState::Todo };
        let t = Instant::now();
        net.set_state(id, state);
        let s = net.schedule(0);
        let ready = s.ready_dates(&net);
        let by_site = readiness(&net, |t| t.site.as_str());
        checksum += ready.values().sum::<i64>() + by_site.values().map(|r| r.done).sum::<i64>();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!("vigie-readiness: one change → every date, ready date and roll-up: p50 {p50:.2} ms, p99 {p99:.2} ms (checksum {checksum})");
    // As the server answers (vigie_app::readiness::NetworkCache): the checked shape copied, every state set from
    // the journal's progress, then the same recomputation.
    let states: Vec<(String, TaskState)> = net.tasks().iter().map(|t| (t.id.clone(), t.state)).collect();
    let mut served = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        let mut copy = net.clone();
        for (id, s) in &states {
            copy.set_state(id, *s);
        }
        let s = copy.schedule(0);
        let ready = s.ready_dates(&copy);
        let by_site = readiness(&copy, |t| t.site.as_str());
        std::hint::black_box((ready.len(), by_site.len()));
        served.push(t.elapsed().as_secs_f64() * 1e3);
    }
    served.sort_by(f64::total_cmp);
    println!(
        "as served (the cached shape copied, every state set, then the same): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&served, 0.5),
        percentile(&served, 0.99)
    );

    // The same network and changes, in Python with networkx.
    let dir = std::env::temp_dir().join(format!("vigie-readiness-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("network.json");
    let json = serde_json::json!({
        "tasks": tasks.iter().map(|t| serde_json::json!({"id": t.id, "site": t.site, "duration": t.duration})).collect::<Vec<_>>(),
        "deps": deps.iter().map(|d| serde_json::json!([d.before, d.after, d.lag])).collect::<Vec<_>>(),
        "changes": (0..2000usize).map(|i| ids[(i * 7919) % ids.len()].clone()).collect::<Vec<_>>(),
    });
    std::fs::File::create(&file).and_then(|mut f| f.write_all(json.to_string().as_bytes())).expect("network.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/networkx_baseline.py");
    match std::process::Command::new("python3").arg(script).arg(&file).output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let field =
                |k: &str| text.split_whitespace().find_map(|w| w.strip_prefix(k)).and_then(|v| v.parse::<f64>().ok());
            match (field("p50="), field("p99="), field("checksum=")) {
                (Some(b50), Some(b99), Some(sum)) => println!(
                    "networkx baseline (same network, same changes, {} answers): p50 {b50:.2} ms, p99 {b99:.2} ms → vigie-readiness is {:.0}× faster at p50, {:.0}× at p99",
                    if sum as i64 == checksum { "the same" } else { "DIFFERENT" },
                    b50 / p50,
                    b99 / p99
                ),
                _ => println!("networkx baseline printed no figures: {text}"),
            }
        }
        Ok(out) => {
            println!("networkx baseline not run: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""))
        }
        Err(e) => println!("networkx baseline not run: python3: {e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
