//! `vigie generate --scale N`: a large synthetic data set in the interchange format, for benchmarks.
//! Scale 1 = 1 strategic + 20 tactical organisations, 2,000 sites, 1,000 items, 1,000,000 stock lines,
//! 5,000 forces, 10,000 vehicles. Written as French exports are: `;`-separated, decimal commas.

use crate::Rng;
use anyhow::Context;
use std::io::{BufWriter, Write};
use std::path::Path;

pub struct Summary {
    pub sites: usize,
    pub items: usize,
    pub stock_lines: usize,
    pub forces: usize,
    pub vehicles: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "generated {} sites, {} items, {} stock lines, {} forces, {} vehicles",
            self.sites, self.items, self.stock_lines, self.forces, self.vehicles
        )
    }
}

fn comma(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}").replace('.', ",")
}

pub fn write(out: &Path, scale: f64, seed: u64) -> anyhow::Result<Summary> {
    anyhow::ensure!(scale > 0.0, "--scale must be above 0");
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let n = |base: f64| ((base * scale).round() as usize).max(1);
    let (orgs, sites, items, lines, forces, vehicles) =
        (20, n(2000.0), n(1000.0), n(1_000_000.0), n(5000.0), n(10_000.0));
    let mut rng = Rng::new(seed);
    let create = |name: &str| -> anyhow::Result<BufWriter<std::fs::File>> {
        let p = out.join(name);
        Ok(BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&p).with_context(|| format!("cannot create {}", p.display()))?,
        ))
    };

    let mut w = create("organizations.csv")?;
    writeln!(w, "id;name;level;parent_id")?;
    writeln!(w, "ORG-0;Centre stratégique;strategic;")?;
    for o in 1..=orgs {
        writeln!(w, "ORG-{o};Groupement de soutien {o};tactical;ORG-0")?;
    }
    w.flush()?;

    let kinds = ["depot", "base", "venue", "village", "airport", "hq", "camp", "other"];
    let mut w = create("sites.csv")?;
    writeln!(w, "id;name;kind;lat;lon;organization_id;city")?;
    for s in 0..sites {
        let lat = 42.5 + rng.unit() * 8.0;
        let lon = -4.5 + rng.unit() * 12.0;
        let kind = kinds[rng.range(0, kinds.len() as u64 - 1) as usize];
        writeln!(
            w,
            "S{s};Site {s};{kind};{};{};ORG-{};Commune {}",
            comma(lat, 5),
            comma(lon, 5),
            rng.range(1, orgs),
            s % 500
        )?;
    }
    w.flush()?;

    let mut w = create("items.csv")?;
    writeln!(w, "id;name;category;unit;unit_mass_kg;unit_volume_m3")?;
    for i in 0..items {
        writeln!(
            w,
            "I{i};Article {i};cat{};pièce;{};{}",
            i % 20,
            comma(0.1 + rng.unit() * 50.0, 2),
            comma(rng.unit() * 0.5, 4)
        )?;
    }
    w.flush()?;

    let mut w = create("allowances.csv")?;
    writeln!(w, "item_id;basis;quantity")?;
    for i in 0..items.min(100) {
        let basis = if i % 2 == 0 { "person" } else { "person_day" };
        writeln!(w, "I{i};{basis};{}", rng.range(1, 3))?;
    }
    w.flush()?;

    let mut w = create("forces.csv")?;
    writeln!(w, "id;name;site_id;headcount;organization_id;starts_on;ends_on")?;
    for f in 0..forces {
        let start = rng.range(1, 20);
        writeln!(
            w,
            "F{f};Unité {f};S{};{};ORG-{};2024-07-{start:02};2024-08-{:02}",
            rng.range(0, sites as u64 - 1),
            rng.range(5, 60) * 10,
            rng.range(1, orgs),
            rng.range(1, 28)
        )?;
    }
    w.flush()?;

    let mut w = create("vehicles.csv")?;
    writeln!(w, "id;site_id;kind;seats;payload_kg;cargo_m3;speed_kmh;condition")?;
    for v in 0..vehicles {
        let (kind, seats, kg, m3, speed) = match v % 3 {
            0 => ("truck", 3, 10_000, 40.0, 80),
            1 => ("bus", 50, 1_500, 8.0, 90),
            _ => ("light", 4, 500, 1.5, 100),
        };
        let cond = if rng.range(0, 9) == 0 { "unserviceable" } else { "serviceable" };
        writeln!(w, "V{v};S{};{kind};{seats};{kg};{};{speed};{cond}", rng.range(0, sites as u64 - 1), comma(m3, 1))?;
    }
    w.flush()?;

    // Stock: lines spread evenly over the sites, each site's lines together (as a site's count is exported).
    let mut w = create("stock.csv")?;
    writeln!(w, "site_id;item_id;quantity;condition;lot;expires_on;counted_at")?;
    let per_site = lines.div_ceil(sites);
    let mut written = 0;
    'sites: for s in 0..sites {
        let hour = rng.range(6, 20);
        for _ in 0..per_site {
            if written == lines {
                break 'sites;
            }
            let item = rng.range(0, items as u64 - 1);
            let cond = if rng.range(0, 19) == 0 { "unserviceable" } else { "serviceable" };
            let exp = if item.is_multiple_of(4) {
                format!("2024-{:02}-{:02}", rng.range(6, 12), rng.range(1, 28))
            } else {
                String::new()
            };
            writeln!(
                w,
                "S{s};I{item};{};{cond};L{};{exp};2024-07-25 {hour:02}:00",
                rng.range(0, 5000),
                rng.range(1, 99_999)
            )?;
            written += 1;
        }
    }
    w.flush()?;
    Ok(Summary { sites, items, stock_lines: written, forces, vehicles })
}
