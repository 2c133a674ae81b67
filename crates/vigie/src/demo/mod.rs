//! The demo scenario: the Paris 2024 Olympic deployment of an army support service, built from facts (official
//! venue names and positions, army camps and bases, airports) and made interesting on purpose: a shortfall of
//! serviceable ballistic plates, an expired lot of rations, unserviceable vehicles, tents short for the force.
//!
//! Dates are relative to the day it runs (J = today in Paris), so the forces are engaged whenever the demo is
//! shown. The data goes through the ordinary import, as CSV files, so it is validated and traced like any import.

pub mod readiness;
pub mod rosters;
pub mod toc;

use crate::Rng;
use chrono::{DateTime, Duration, Utc};
use std::fmt::Write;
use vigie_import::SourceFile;

const STRATEGIC: &str = "COS-SCA";
const IDF: &str = "GSBDD-IDF";
const MRS: &str = "GSBDD-MRS";

/// Paris 2024 competition venues: code, official name, latitude, longitude, commune, supporting organisation.
/// Source: Paris 2024 open data "paris-2024-sites-de-competition".
pub const VENUES: &[(&str, &str, f64, f64, &str, &str)] = &[
    ("AQC", "Centre Aquatique", 48.923723, 2.35578, "Saint-Denis", IDF),
    ("CDM", "Arena Champ de Mars", 48.8531, 2.30252, "Paris", IDF),
    ("CTX", "Centre national de tir de Châteauroux", 46.8157, 1.7582, "Déols", STRATEGIC),
    ("DEF", "Paris La Défense Arena", 48.8954, 2.2294, "Nanterre", IDF),
    ("ELA", "Colline d’Elancourt", 48.78981063, 1.9642379, "Élancourt", IDF),
    ("INV", "Invalides", 48.85704803, 2.312835932, "Paris", IDF),
    ("LC1", "La Concorde 1", 48.86640642, 2.32119515, "Paris", IDF),
    ("LC2", "La Concorde 2", 48.86504456, 2.32119516, "Paris", IDF),
    ("LC3", "La Concorde 3", 48.86486788, 2.32139191, "Paris", IDF),
    ("LC4", "La Concorde 4", 48.86573765, 2.3220383, "Paris", IDF),
    ("LCO", "La Concorde", 48.86570357457259, 2.321214226315764, "Paris", IDF),
    ("LCS", "La Courneuve", 48.9372382, 2.3994101, "La Courneuve", IDF),
    ("LYO", "Stade de Lyon", 45.76514165, 4.98199275, "Décines-Charpieu", STRATEGIC),
    ("MRS", "Stade de Marseille", 43.2698, 5.3959, "Marseille", MRS),
    ("SP6", "Arena Paris Sud 6", 48.829381, 2.290865, "Paris", IDF),
    ("STA", "Stade de France", 48.924475, 2.360127, "Saint-Denis", IDF),
    ("TRO", "Trocadéro", 48.85972558, 2.29221884, "Paris", IDF),
    ("VE1", "Vélodrome National de Saint-Quentin-en-Yvelines", 48.78800979, 2.03498269, "Montigny-le-Bretonneux", IDF),
    ("VE2", "Stade BMX de Saint-Quentin-en-Yvelines", 48.78800979, 2.03498269, "Montigny-le-Bretonneux", IDF),
    ("ALX", "Pont Alexandre III", 48.8637, 2.3134, "Paris", IDF),
    ("BCY", "Arena Bercy", 48.83863, 2.378597, "Paris", IDF),
    ("CPL", "Arena Porte de la Chapelle", 48.8997292, 2.3605141, "Paris", IDF),
    ("CSB", "Clichy-sous-Bois", 48.906345, 2.553544, "Clichy-sous-Bois", IDF),
    ("EIF", "Stade Tour Eiffel", 48.85613, 2.2978, "Paris", IDF),
    ("GRP", "Grand Palais", 48.86616355, 2.3125474, "Paris", IDF),
    ("HDV", "Hôtel de Ville", 48.8563881, 2.35222203, "Paris", IDF),
    ("MAM", "Marina de Marseille", 43.2661, 5.3678, "Marseille", MRS),
    ("NAN", "Stade de la Beaujoire", 47.25593494, -1.52469927, "Nantes", STRATEGIC),
    ("NPA", "Arena Paris Nord", 48.9721, 2.5149, "Villepinte", IDF),
    ("PDP", "Parc des Princes", 48.84156974, 2.253048697, "Paris", IDF),
    ("RGA", "Stade Roland Garros", 48.845968, 2.253522, "Paris", IDF),
    ("SP1", "Arena Paris Sud 1", 48.832968, 2.2840069, "Paris", IDF),
    ("TAH", "Tahiti Teahupo'o", -17.86693, -149.25208, "Teahupoo", STRATEGIC),
    ("VER", "Château de Versailles", 48.81432266, 2.08452588, "Versailles", IDF),
    ("VN1", "Stade nautique de Vaires-sur-Marne - bassin d'eaux calmes", 48.8623, 2.6348, "Vaires-sur-Marne", IDF),
    (
        "VN2",
        "Stade nautique de Vaires-sur-Marne - stade d'eaux vives",
        48.86223209583829,
        2.6395463613678416,
        "Vaires-sur-Marne",
        IDF,
    ),
    ("BOR", "Stade de Bordeaux", 44.8974, -0.5616, "Bordeaux", STRATEGIC),
    ("LBO", "Site d’escalade du Bourget", 48.93693402, 2.41997931, "Le Bourget", IDF),
    ("LGN", "Golf National", 48.7532, 2.0758, "Guyancourt", IDF),
    ("LIL", "Stade Pierre Mauroy", 50.61190661, 3.13047318, "Villeneuve-d'Ascq", STRATEGIC),
    ("NIC", "Stade de Nice", 43.7051, 7.1926, "Nice", MRS),
    ("SP4", "Arena Paris Sud 4", 48.830184, 2.289033, "Paris", IDF),
    ("STE", "Stade Geoffroy-Guichard", 45.4607, 4.3902, "Saint-Étienne", STRATEGIC),
    ("YDM", "Stade Yves-du-Manoir", 48.92934371, 2.24777122, "Colombes", IDF),
];

/// Other sites: id, name, kind, latitude, longitude, commune, organisation.
pub const SITES: &[(&str, &str, &str, f64, f64, &str, &str)] = &[
    ("HQ-BALARD", "Centre opérationnel – Hexagone Balard", "hq", 48.8350, 2.2790, "Paris", STRATEGIC),
    ("VIL-OLY", "Village olympique et paralympique", "village", 48.9165, 2.3315, "Saint-Denis", IDF),
    ("APT-CDG", "Aéroport Paris-Charles de Gaulle", "airport", 49.0097, 2.5479, "Roissy-en-France", IDF),
    ("APT-ORY", "Aéroport Paris-Orly", "airport", 48.7262, 2.3652, "Orly", IDF),
    ("APT-LBG", "Aéroport Paris-Le Bourget", "airport", 48.9694, 2.4414, "Le Bourget", IDF),
    ("APT-MRS", "Aéroport Marseille-Provence", "airport", 43.4393, 5.2214, "Marignane", MRS),
    ("APT-NTE", "Aéroport Nantes-Atlantique", "airport", 47.1532, -1.6107, "Bouguenais", STRATEGIC),
    ("CAMP-REUILLY", "Camp de la pelouse de Reuilly", "camp", 48.8336, 2.4105, "Paris", IDF),
    ("BASE-VINCENNES", "Fort de Vincennes", "base", 48.8426, 2.4351, "Vincennes", IDF),
    ("BASE-SATORY", "Camp de Satory", "base", 48.7797, 2.1061, "Versailles", IDF),
    ("BASE-LOGES", "Camp des Loges", "base", 48.9018, 2.0759, "Saint-Germain-en-Laye", IDF),
    ("BASE-VILLACOUBLAY", "Base aérienne 107 Villacoublay", "base", 48.7741, 2.2016, "Vélizy-Villacoublay", IDF),
    ("DEP-MONTLHERY", "Dépôt de Linas-Montlhéry", "depot", 48.6356, 2.2631, "Linas", IDF),
    ("DEP-VINCENNES", "Magasin central de Vincennes", "depot", 48.8418, 2.4379, "Vincennes", IDF),
    ("CAMP-CARPIAGNE", "Camp de Carpiagne", "camp", 43.2536, 5.5150, "Marseille", MRS),
    ("BASE-STE-MARTHE", "Quartier Sainte-Marthe", "base", 43.3318, 5.3960, "Marseille", MRS),
    ("BASE-AUBAGNE", "Quartier Viénot", "base", 43.2880, 5.5720, "Aubagne", MRS),
    ("BASE-SALON", "Base aérienne 701 Salon-de-Provence", "base", 43.6060, 5.1090, "Salon-de-Provence", MRS),
    ("DEP-MARSEILLE", "Dépôt de Marseille Sainte-Marthe", "depot", 43.3330, 5.3990, "Marseille", MRS),
    ("BASE-ANGERS", "Quartier Verneau", "base", 47.4890, -0.5560, "Angers", STRATEGIC),
    ("CAMP-AUVOURS", "Camp d'Auvours", "camp", 48.0170, 0.3370, "Champagné", STRATEGIC),
    ("CAMP-COETQUIDAN", "Camp de Coëtquidan", "camp", 47.9380, -2.1500, "Guer", STRATEGIC),
    ("BASE-VANNES", "Quartier Foch-Delestraint", "base", 47.6646, -2.7579, "Vannes", STRATEGIC),
    ("DEP-ANGERS", "Dépôt d'Angers", "depot", 47.4700, -0.5900, "Angers", STRATEGIC),
];

/// The catalogue: id, name, category, unit, unit mass (kg), unit volume (m³).
pub const ITEMS: &[(&str, &str, &str, &str, f64, f64)] = &[
    ("PLAQUE-BAL", "Plaque balistique (paire avant/arrière)", "protection", "pièce", 2.9, 0.004),
    ("GILET-PB", "Gilet pare-balles", "protection", "pièce", 4.2, 0.03),
    ("CASQUE", "Casque de combat", "protection", "pièce", 1.4, 0.012),
    ("RATION", "Ration de combat individuelle (24 h)", "vivres", "ration", 1.8, 0.004),
    ("EAU-1L5", "Bouteille d'eau 1,5 L", "eau", "bouteille", 1.55, 0.0017),
    ("TENTE-10", "Tente modulaire 10 places", "vie en campagne", "pièce", 85.0, 0.6),
    ("FRIGO", "Réfrigérateur de campagne 400 L", "vie en campagne", "pièce", 95.0, 0.9),
    ("GROUPE-ELEC", "Groupe électrogène 20 kVA", "énergie", "pièce", 650.0, 2.0),
    ("LIT-PICOT", "Lit picot", "vie en campagne", "pièce", 8.0, 0.05),
    ("SAC-COUCHAGE", "Sac de couchage", "vie en campagne", "pièce", 2.0, 0.02),
    ("TROUSSE-SECOURS", "Trousse de secours individuelle", "santé", "pièce", 0.5, 0.002),
    ("JERRICAN", "Jerrican 20 L", "carburant", "pièce", 4.0, 0.025),
    // What venues are fitted out with (readiness): "no table, no PC".
    ("TABLE-PLIANTE", "Table pliante 180 × 75 cm", "mobilier", "pièce", 14.0, 0.12),
    ("CHAISE", "Chaise empilable", "mobilier", "pièce", 4.5, 0.05),
];

/// Allowances: item, basis, quantity.
pub const ALLOWANCES: &[(&str, &str, &str)] = &[
    ("PLAQUE-BAL", "person", "2"),
    ("GILET-PB", "person", "1"),
    ("CASQUE", "person", "1"),
    ("TROUSSE-SECOURS", "person", "1"),
    ("LIT-PICOT", "person", "1"),
    ("SAC-COUCHAGE", "person", "1"),
    ("TENTE-10", "person", "0.1"),
    ("RATION", "person_day", "1"),
    ("EAU-1L5", "person_day", "2"),
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn file(name: &str, body: String) -> SourceFile {
    SourceFile { name: format!("demo/{name}"), bytes: body.into_bytes() }
}

/// The demo's files, dated relative to `now`.
pub fn files(now: DateTime<Utc>) -> Vec<SourceFile> {
    let today = vigie_domain::paris::today(now);
    let day = |d: i64| (today + Duration::days(d)).format("%Y-%m-%d").to_string();
    let mut rng = Rng::new(2024);

    let mut orgs = String::from("id,name,level,parent_id\n");
    orgs += &format!("{STRATEGIC},Centre opérationnel du soutien (niveau stratégique),strategic,\n");
    orgs += &format!("{IDF},Groupement de soutien Île-de-France,tactical,{STRATEGIC}\n");
    orgs += &format!("{MRS},Groupement de soutien Marseille-Aubagne,tactical,{STRATEGIC}\n");

    let mut sites = String::from("id,name,kind,lat,lon,organization_id,city\n");
    for (id, name, lat, lon, city, org) in VENUES {
        writeln!(sites, "{id},{},venue,{lat},{lon},{org},{}", csv_field(name), csv_field(city)).unwrap();
    }
    for (id, name, kind, lat, lon, city, org) in SITES {
        writeln!(sites, "{id},{},{kind},{lat},{lon},{org},{}", csv_field(name), csv_field(city)).unwrap();
    }
    sites += &toc::site_rows(STRATEGIC);

    let mut items = String::from("id,name,category,unit,unit_mass_kg,unit_volume_m3\n");
    for (id, name, cat, unit, kg, m3) in ITEMS {
        writeln!(items, "{id},{},{},{unit},{kg},{m3}", csv_field(name), csv_field(cat)).unwrap();
    }
    let mut allowances = String::from("item_id,basis,quantity\n");
    for (i, b, q) in ALLOWANCES {
        writeln!(allowances, "{i},{b},{q}").unwrap();
    }

    // Forces: guard units at every venue, reserves in the camps; about 18,000 soldiers.
    let mut forces = String::from("id,name,site_id,headcount,organization_id,starts_on,ends_on,mission\n");
    for (id, name, _, _, _, org) in VENUES {
        let headcount = match *org {
            IDF => rng.range(24, 36) * 10,
            MRS => rng.range(35, 55) * 10,
            _ => rng.range(12, 22) * 10,
        };
        let headcount = if *id == "TAH" { 60 } else { headcount };
        writeln!(
            forces,
            "F-{id},{},{id},{headcount},{org},{},{},sécurisation du site",
            csv_field(&format!("Détachement {name}")),
            day(-14),
            day(21)
        )
        .unwrap();
    }
    for (id, name, site, n, org) in [
        ("F-REUILLY-1", "Groupement tactique Reuilly 1", "CAMP-REUILLY", 1500, IDF),
        ("F-REUILLY-2", "Groupement tactique Reuilly 2", "CAMP-REUILLY", 1500, IDF),
        ("F-REUILLY-3", "Groupement tactique Reuilly 3", "CAMP-REUILLY", 1200, IDF),
        ("F-CARPIAGNE", "Réserve Carpiagne", "CAMP-CARPIAGNE", 900, MRS),
        ("F-VILLAGE", "Détachement Village olympique", "VIL-OLY", 600, IDF),
        ("F-CDG", "Détachement Roissy", "APT-CDG", 250, IDF),
    ] {
        writeln!(forces, "{id},{name},{site},{n},{org},{},{},réserve d'intervention", day(-14), day(21)).unwrap();
    }
    // A unit that has left: not engaged today, so not counted in the need.
    writeln!(forces, "F-RELEVE,Détachement relevé,BASE-SATORY,400,{IDF},{},{},relevé", day(-30), day(-1)).unwrap();

    // Stock at depots and bases, counted before today (each site at its own time). Anchored to today's midnight
    // so that running the demo again the same day appends nothing.
    let mut stock = String::from("site_id,item_id,quantity,condition,lot,expires_on,counted_at\n");
    let midnight = vigie_domain::paris::from_local(today.and_hms_opt(0, 0, 0).expect("midnight"));
    let counted = |rng: &mut Rng| {
        let t = midnight - Duration::minutes(rng.range(30, 36 * 60) as i64);
        t.format("%Y-%m-%dT%H:%M:00Z").to_string()
    };
    // (site, [(item, serviceable qty, unserviceable qty)])
    type Holding = (&'static str, &'static [(&'static str, u32, u32)]);
    let holdings: &[Holding] = &[
        (
            "DEP-VINCENNES",
            &[
                ("PLAQUE-BAL", 12_000, 900),
                ("GILET-PB", 7_000, 300),
                ("CASQUE", 8_000, 120),
                ("RATION", 22_000, 0),
                ("EAU-1L5", 60_000, 0),
                ("TENTE-10", 400, 25),
                ("FRIGO", 40, 3),
                ("GROUPE-ELEC", 25, 4),
                ("LIT-PICOT", 6_000, 150),
                ("SAC-COUCHAGE", 7_000, 0),
                ("TROUSSE-SECOURS", 9_000, 0),
                ("TABLE-PLIANTE", 900, 12),
                ("CHAISE", 2_400, 30),
            ],
        ),
        (
            "DEP-MONTLHERY",
            &[
                ("PLAQUE-BAL", 9_000, 1_100),
                ("GILET-PB", 5_000, 200),
                ("CASQUE", 6_000, 0),
                ("RATION", 15_000, 0),
                ("EAU-1L5", 40_000, 0),
                ("TENTE-10", 300, 10),
                ("FRIGO", 30, 0),
                ("GROUPE-ELEC", 18, 2),
                ("LIT-PICOT", 5_000, 0),
                ("SAC-COUCHAGE", 5_000, 0),
                ("JERRICAN", 2_000, 40),
            ],
        ),
        (
            "BASE-SATORY",
            &[
                ("PLAQUE-BAL", 3_000, 200),
                ("CASQUE", 2_000, 0),
                ("RATION", 6_000, 0),
                ("EAU-1L5", 12_000, 0),
                ("TENTE-10", 120, 0),
                ("GROUPE-ELEC", 6, 0),
            ],
        ),
        ("CAMP-REUILLY", &[("RATION", 5_000, 0), ("EAU-1L5", 18_000, 0), ("LIT-PICOT", 4_200, 0), ("FRIGO", 12, 1)]),
        (
            "DEP-MARSEILLE",
            &[
                ("PLAQUE-BAL", 3_500, 300),
                ("GILET-PB", 2_000, 0),
                ("CASQUE", 2_500, 0),
                ("RATION", 7_000, 0),
                ("EAU-1L5", 20_000, 0),
                ("TENTE-10", 150, 0),
                ("FRIGO", 15, 0),
                ("GROUPE-ELEC", 8, 1),
                ("LIT-PICOT", 1_500, 0),
                ("SAC-COUCHAGE", 2_000, 0),
            ],
        ),
        ("CAMP-CARPIAGNE", &[("RATION", 2_500, 0), ("EAU-1L5", 6_000, 0), ("TENTE-10", 90, 0)]),
        (
            "DEP-ANGERS",
            &[
                ("PLAQUE-BAL", 2_500, 0),
                ("GILET-PB", 1_500, 0),
                ("CASQUE", 1_800, 0),
                ("RATION", 4_000, 0),
                ("EAU-1L5", 10_000, 0),
                ("TENTE-10", 80, 0),
                ("FRIGO", 10, 0),
                ("GROUPE-ELEC", 6, 0),
                ("LIT-PICOT", 900, 0),
            ],
        ),
        (
            "CAMP-AUVOURS",
            &[
                ("PLAQUE-BAL", 800, 0),
                ("CASQUE", 600, 0),
                ("RATION", 1_500, 0),
                ("EAU-1L5", 4_000, 0),
                ("TENTE-10", 40, 0),
            ],
        ),
        (
            "CAMP-COETQUIDAN",
            &[
                ("PLAQUE-BAL", 1_200, 0),
                ("CASQUE", 900, 0),
                ("RATION", 2_000, 0),
                ("EAU-1L5", 5_000, 0),
                ("TENTE-10", 60, 0),
                ("LIT-PICOT", 400, 0),
            ],
        ),
    ];
    for (site, lines) in holdings {
        let at = counted(&mut rng);
        for (item, ok, ko) in lines.iter() {
            let (lot_exp, perishable) = match *item {
                "RATION" => (Some(day(rng.range(120, 500) as i64)), true),
                "EAU-1L5" => (Some(day(rng.range(30, 300) as i64)), true),
                _ => (None, false),
            };
            let lot = format!("{}-{}", item.split('-').next().unwrap_or(item), rng.range(1000, 9999));
            writeln!(stock, "{site},{item},{ok},serviceable,{lot},{},{at}", lot_exp.clone().unwrap_or_default())
                .unwrap();
            if *ko > 0 {
                writeln!(stock, "{site},{item},{ko},unserviceable,{lot}-HS,,{at}").unwrap();
            }
            if perishable && *site == "DEP-VINCENNES" && *item == "RATION" {
                // An expired lot still on the shelf: on hand, not serviceable.
                writeln!(stock, "{site},{item},8000,serviceable,RATION-0423,{},{at}", day(-20)).unwrap();
            }
        }
    }

    let mut vehicles = String::from("id,site_id,kind,seats,payload_kg,cargo_m3,speed_kmh,condition,model\n");
    let fleet: &[(&str, u32, u32, u32)] = &[
        // site, trucks, buses, light vehicles
        ("DEP-VINCENNES", 8, 2, 4),
        ("DEP-MONTLHERY", 10, 2, 4),
        ("BASE-SATORY", 6, 4, 6),
        ("CAMP-REUILLY", 2, 6, 8),
        ("BASE-VINCENNES", 3, 3, 4),
        ("DEP-MARSEILLE", 6, 2, 3),
        ("CAMP-CARPIAGNE", 4, 4, 4),
        ("BASE-STE-MARTHE", 2, 2, 3),
        ("DEP-ANGERS", 5, 2, 3),
        ("BASE-ANGERS", 3, 4, 4),
        ("CAMP-AUVOURS", 2, 3, 3),
        ("CAMP-COETQUIDAN", 3, 4, 4),
        ("BASE-VANNES", 2, 2, 3),
    ];
    let mut n = 0;
    for (site, trucks, buses, light) in fleet {
        let mut add = |kind: &str, seats: u32, kg: u32, m3: f64, speed: u32, model: &str, rng: &mut Rng| {
            n += 1;
            let cond = if rng.range(0, 9) == 0 { "unserviceable" } else { "serviceable" };
            writeln!(vehicles, "VEH-{n:04},{site},{kind},{seats},{kg},{m3},{speed},{cond},{model}").unwrap();
        };
        for i in 0..*trucks {
            if i % 2 == 0 {
                add("truck", 3, 4_000, 20.0, 70, "Camion GBC 180", &mut rng);
            } else {
                add("truck", 2, 10_000, 40.0, 80, "Porteur polyvalent terrestre (PPT)", &mut rng);
            }
        }
        for _ in 0..*buses {
            add("bus", 50, 1_500, 8.0, 90, "Autocar 50 places", &mut rng);
        }
        for _ in 0..*light {
            add("light", 4, 500, 1.5, 100, "Véhicule léger tout-terrain", &mut rng);
        }
    }

    let mut all = vec![
        file("organizations.csv", orgs),
        file("sites.csv", sites),
        file("items.csv", items),
        file("allowances.csv", allowances),
        file("forces.csv", forces),
        file("vehicles.csv", vehicles),
        file("stock.csv", stock),
    ];
    all.extend(toc::files());
    all.extend(rosters::files(now));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_domain::{Actor, AllowanceBasis, Condition, ItemId, State};

    #[test]
    fn the_demo_is_valid_and_tells_the_story() {
        let now = DateTime::parse_from_rfc3339("2026-07-28T10:00:00Z").unwrap().with_timezone(&Utc);
        let batch = vigie_import::read(&files(now), &mut |_, _| {});
        let plan = vigie_import::plan(&batch, &State::new(), &Actor::system("demo"))
            .unwrap_or_else(|p| panic!("{}", p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")));
        let mut st = State::new();
        for (i, e) in plan.events.iter().enumerate() {
            st.apply(&vigie_domain::Envelope {
                seq: i as u64 + 1,
                id: vigie_journal::new_event_id(),
                time: now,
                actor: e.actor.clone(),
                origin: "t".into(),
                source: e.source.as_str().into(),
                event: e.event.clone(),
            });
        }
        let today = vigie_domain::paris::today(now);
        let engaged: u64 =
            st.forces.values().filter(|f| f.value.active_on(today)).map(|f| f.value.headcount as u64).sum();
        assert!((16_000..=20_000).contains(&engaged), "about 18,000 soldiers engaged, got {engaged}");
        assert!(st.sites.len() >= 60, "{}", st.sites.len());
        // Fewer serviceable plates than two per engaged soldier: the shortfall the staff must see.
        let plates = ItemId::parse("PLAQUE-BAL").unwrap();
        let serviceable: i64 = st
            .stock_iter()
            .map(|(_, s)| s)
            .flat_map(|s| &s.lines)
            .filter(|l| l.item_id == plates && l.condition == Condition::Serviceable)
            .map(|l| l.quantity.milli() / 1000)
            .sum();
        let per_person = st.allowances[&(plates.clone(), AllowanceBasis::Person)].value.quantity.milli() / 1000;
        assert!(serviceable < per_person * engaged as i64, "{serviceable} plates for {engaged}");
        // An expired lot of rations exists.
        assert!(st.stock_iter().flat_map(|(_, s)| &s.lines).any(|l| l.expires_on.is_some_and(|d| d < today)));
        assert!(st.vehicles.values().any(|v| v.value.condition == Condition::Unserviceable));
        // The TOC's estate.
        assert_eq!((st.toc.partners.len(), st.toc.applications.len()), (15, 150));
        assert_eq!(st.toc.assets.values().filter(|a| a.value.kind == "computer").count(), toc::COMPUTERS);
        assert!(st.toc.checks.len() > 10_000);
    }
}
