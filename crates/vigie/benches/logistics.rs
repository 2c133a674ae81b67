//! Logistics benchmark (not a test): `cargo bench -p vigie --bench logistics`.
//!
//! On `vigie generate --scale 1` (2,000 sites, 1,000,000 stock lines, 5,000 forces), the sufficiency and locate
//! questions answered in-process by Vigie, p50 and p99 over 200 questions each, against the same questions answered
//! by DuckDB (PyPI `duckdb`) over the same CSV files in the same run (`duckdb_baseline.py`). Answers are compared so
//! that both compute the same thing. Goal: p99 < 1 ms; Vigie ≥ 10× faster than DuckDB.

use chrono::NaiveDate;
use std::time::Instant;
use vigie::Rng;
use vigie_domain::*;
use vigie_logistics::{locate, sufficiency, Near, Scope, Travel};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("scale1");
    vigie::generate::write(&data, 1.0, 2024).unwrap();
    let files = vigie::cli::read_paths(std::slice::from_ref(&data)).unwrap();
    let batch = vigie_import::read(&files, &mut |_, _| {});
    let plan = vigie_import::plan(&batch, &State::new(), &Actor::system("bench")).map_err(|p| p.len()).unwrap();
    let mut st = State::new();
    for (i, e) in plan.events.into_iter().enumerate() {
        st.apply_owned(Envelope {
            seq: i as u64 + 1,
            id: vigie_journal::new_event_id(),
            time: chrono::Utc::now(),
            actor: e.actor,
            origin: "bench".into(),
            source: e.source.as_str().into(),
            event: e.event,
        });
    }
    drop(batch);
    let c = st.counts();
    println!("# state: {} sites, {} items, {} stock lines, {} forces", c.sites, c.items, c.stock_lines, c.forces);

    let day = NaiveDate::from_ymd_opt(2024, 7, 26).unwrap();
    let mut rng = Rng::new(7);
    let n = 200;
    let items: Vec<String> = (0..n).map(|_| format!("I{}", rng.range(0, 99))).collect();
    let near: Vec<String> = (0..n).map(|_| format!("S{}", rng.range(0, c.sites as u64 - 1))).collect();
    let scope = Scope::everything();
    let travel = Travel::default();

    let mut suff = Vec::new();
    let mut vigie_answers = Vec::new();
    for i in &items {
        let id = ItemId::parse(i).unwrap();
        let t = Instant::now();
        let s = sufficiency(&st, &id, day, 1, &scope).unwrap();
        suff.push(t.elapsed().as_secs_f64());
        vigie_answers.push((i.clone(), s.figures.need, s.figures.on_hand, s.figures.serviceable));
    }
    let mut loc = Vec::new();
    let mut loc_answers = Vec::new();
    for (i, s) in items.iter().zip(&near) {
        let id = ItemId::parse(i).unwrap();
        let t = Instant::now();
        let l =
            locate(&st, std::slice::from_ref(&id), &Near::Site(s.clone()), None, None, day, &scope, &travel).unwrap();
        loc.push(t.elapsed().as_secs_f64());
        loc_answers.push((
            format!("{i}@{s}"),
            l.sites.len(),
            l.sites.first().map(|h| h.site_id.to_string()),
            l.totals[&id],
        ));
    }

    // Reinforce: 100 units of 3 items to a random site, from the 2,000 candidate sites and their vehicles.
    let mut reinf = Vec::new();
    for (k, s) in near.iter().enumerate().take(50) {
        let text = format!("{}=100,{}=100,{}=100", items[k], items[(k + 1) % n], items[(k + 2) % n]);
        let need = vigie_logistics::reinforce::parse_need(&st, &text).unwrap();
        let t = Instant::now();
        let r = vigie_logistics::reinforce::reinforce(
            &st,
            s,
            &need,
            day,
            None,
            &travel,
            &vigie_logistics::Scope::everything(),
        )
        .unwrap();
        reinf.push(t.elapsed().as_secs_f64());
        assert!(r.sources.len() > 10);
    }
    let (r50, r99) = (percentile(&mut reinf.clone(), 0.5), percentile(&mut reinf, 0.99));

    // Deploy: 20 to 200 persons, kit for 3 days, between two random sites, over every vehicle and site.
    let mut dep = Vec::new();
    let (mut proven, mut soonest, mut planned, mut short) = (0, 0, 0, 0);
    // Kilometres over their proven lower bound, and minutes of arrival over theirs.
    let (mut km_gap, mut eta_gap) = (Vec::new(), Vec::new());
    for k in 0..50 {
        let q = vigie_logistics::deploy::DeployRequest {
            from: Near::Site(near[k].clone()),
            to: Near::Site(near[(k + 100) % n].clone()),
            headcount: rng.range(2, 20) as u32 * 10,
            days: 3,
            on: day,
            deadline_min: None,
            within_km: 100.0,
            sources: vigie_logistics::Scope::everything(),
        };
        let t = Instant::now();
        let r = vigie_logistics::deploy::deploy(&st, &q, &travel).unwrap();
        dep.push(t.elapsed().as_secs_f64());
        if std::env::var_os("VIGIE_BENCH_VERBOSE").is_some() {
            println!(
                "#   deploy {k:>2}: {:>7.2} ms, {:>3} persons, {:>6} nodes, soonest {}, fewest km {}, {} legs, {:.0} km \
                 (≥ {:.0})",
                dep.last().unwrap() * 1000.0,
                q.headcount,
                r.search_nodes,
                r.eta_optimal,
                r.optimal,
                r.legs.len(),
                r.vehicle_km,
                r.vehicle_km_lower_bound.unwrap_or(f64::NAN)
            );
        }
        proven += r.optimal as u32;
        soonest += r.eta_optimal as u32;
        planned += r.eta_min.is_some() as u32;
        short += (r.shortfall.persons > 0 || !r.shortfall.items.is_empty()) as u32;
        if let (Some(lb), true) = (r.vehicle_km_lower_bound, r.vehicle_km > 0.0) {
            km_gap.push(r.vehicle_km / lb - 1.0);
        }
        if let (Some(e), Some(lb)) = (r.eta_min, r.eta_lower_bound_min) {
            eta_gap.push(e - lb);
        }
    }
    let (d50, d99) = (percentile(&mut dep.clone(), 0.5), percentile(&mut dep, 0.99));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/duckdb_baseline.py");
    let out = std::process::Command::new("python3")
        .args([script, data.to_str().unwrap(), &day.to_string(), &items.join(","), &near.join(",")])
        .output()
        .expect("python3 runs");
    if !out.status.success() {
        println!(
            "# DuckDB baseline unavailable ({}); install it with `pip install duckdb`",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
    }
    let duck: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();

    let ms = |s: f64| s * 1000.0;
    let (v50, v99) = (percentile(&mut suff.clone(), 0.5), percentile(&mut suff, 0.99));
    let (l50, l99) = (percentile(&mut loc.clone(), 0.5), percentile(&mut loc, 0.99));
    let report = |what: &str, p50: f64, p99: f64, key: &str| {
        let mut line = format!("{what:<34} p50 {:>8.3} ms  p99 {:>8.3} ms (goal p99 < 1 ms)", ms(p50), ms(p99));
        if let Some(d) = &duck {
            let mut v: Vec<f64> = d[key].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            let (d50, d99) = (percentile(&mut v.clone(), 0.5), percentile(&mut v, 0.99));
            line += &format!(
                " | baseline DuckDB: p50 {:>8.3} ms p99 {:>8.3} ms | ratio p50 {:.0}×, p99 {:.0}×",
                ms(d50),
                ms(d99),
                d50 / p50,
                d99 / p99
            );
        }
        println!("{line}");
    };
    report("sufficiency (one item, breakdowns)", v50, v99, "sufficiency");
    report("locate (one item, nearest first)", l50, l99, "locate");
    println!(
        "{:<34} p50 {:>8.3} ms  p99 {:>8.3} ms (3 items, 2,000 candidate sites, 10,000 vehicles; no baseline)",
        "reinforce (sources, loads, plan)",
        ms(r50),
        ms(r99)
    );

    println!(
        "{:<34} p50 {:>8.3} ms  p99 {:>8.3} ms (goal p99 < 50 ms; {} items in the kit, 2,000 candidate sites, 10,000 \
         vehicles; arrival proven soonest {soonest}/50 (else at most {:.0} min after the proven bound), also fewest km \
         {proven}/50, km over their proven lower bound p50 {:.0} % max {:.0} %, with a plan {planned}/50, with a \
         shortfall {short}/50; no baseline)",
        "deploy (nearby, optimal plan)",
        ms(d50),
        ms(d99),
        st.allowances.len(),
        eta_gap.iter().copied().fold(0.0, f64::max),
        percentile(&mut km_gap.clone(), 0.5) * 100.0,
        km_gap.iter().copied().fold(0.0, f64::max) * 100.0,
    );

    // Same answers, or the comparison means nothing.
    if let Some(d) = &duck {
        let mut checked = 0;
        for (i, need, on_hand, serviceable) in vigie_answers.iter().take(20) {
            let a = &d["answers"]["sufficiency"][i];
            assert_eq!(a["need"].as_f64().unwrap(), need.as_f64(), "need of {i}");
            assert_eq!(a["on_hand"].as_f64().unwrap(), on_hand.as_f64(), "on hand of {i}");
            assert_eq!(a["serviceable"].as_f64().unwrap(), serviceable.as_f64(), "serviceable of {i}");
            checked += 1;
        }
        for (k, sites, first, total) in loc_answers.iter().take(20) {
            let a = &d["answers"]["locate"][k];
            assert_eq!(a["sites"].as_u64().unwrap() as usize, *sites, "sites of {k}");
            assert_eq!(a["first"].as_str().map(str::to_string), *first, "nearest of {k}");
            assert_eq!(a["total"].as_f64().unwrap(), total.as_f64(), "total of {k}");
            checked += 1;
        }
        println!("# answers cross-checked with DuckDB: {checked} identical");
    }
}
