//! The technology operations part of the demo: the Olympic estate the TOC supervised, and a simulator that feeds
//! its checks through the push API, as agents would, and plays incidents.
//!
//! Sites: the 44 competition venues of the official open data (Olympic and Paralympic), the two athletes'
//! villages, the media village, the five airports, the broadcast and press centres, the TOC itself and two data
//! centres: 56 sites. 15 partners (the technology partners and support groups), 150 applications in six suites,
//! 10,000 computers, each site's two uplinks and core switch; everything at a site depends on its switch, the
//! switch on either uplink.

use super::{csv_field, file, VENUES};
use std::fmt::Write;
use vigie_import::SourceFile;

/// Sites the TOC supervises beyond the venues: id, name, kind, lat, lon, city.
pub const TOC_SITES: &[(&str, &str, &str, f64, f64, &str)] = &[
    ("VIL-MRS", "Village olympique de Marseille", "village", 43.2660, 5.3700, "Marseille"),
    ("VIL-MEDIA", "Village des médias", "village", 48.9560, 2.4290, "Dugny"),
    ("CIRTV", "Centre international de radio-télévision (IBC)", "other", 48.9650, 2.4440, "Le Bourget"),
    ("CPP", "Centre principal de presse (MPC)", "other", 48.8790, 2.2830, "Paris"),
    ("CTO", "Centre des opérations technologiques (TOC)", "hq", 48.9180, 2.3560, "Saint-Denis"),
    ("DC-1", "Centre de données principal", "other", 48.9020, 2.3690, "Aubervilliers"),
    ("DC-2", "Centre de données de secours", "other", 48.7120, 2.2470, "Saclay"),
];

/// Sites of the army support part that the TOC also supervises (villages, airports).
const SHARED_SITES: &[&str] = &["VIL-OLY", "APT-CDG", "APT-ORY", "APT-LBG", "APT-MRS", "APT-NTE"];

/// Technology partners and support groups: id, name.
pub const PARTNERS: &[(&str, &str)] = &[
    ("ATOS", "Atos – intégrateur des systèmes d'information"),
    ("ORANGE", "Orange – opérateur des télécommunications"),
    ("OMEGA", "Omega – chronométrage et résultats"),
    ("ALIBABA", "Alibaba Cloud – informatique en nuage"),
    ("PANASONIC", "Panasonic – audiovisuel"),
    ("SAMSUNG", "Samsung – terminaux mobiles"),
    ("INTEL", "Intel – processeurs et informatique de périphérie"),
    ("RES-SITES", "Groupe réseau des sites"),
    ("POSTES", "Groupe postes de travail"),
    ("IMPRESSION", "Groupe impression"),
    ("SECU-SI", "Groupe sécurité des systèmes d'information"),
    ("TELEPHONIE", "Groupe téléphonie et radio"),
    ("PROXIMITE", "Support de proximité des sites"),
    ("DATACENTRE", "Groupe centres de données"),
    ("APPLIS", "Groupe applications métier"),
];

/// An application of a suite: id, name, criticality.
type NamedApp = (&'static str, &'static str, &'static str);

/// Suites and their applications: (suite, partner, applications); filled to 150 with modules.
const SUITES: &[(&str, &str, &[NamedApp])] = &[
    (
        "OMS",
        "ATOS",
        &[
            ("OMS-VOL", "Portail des volontaires", "critical"),
            ("OMS-WFS", "Planification du personnel", "critical"),
            ("OMS-ACR", "Accréditation", "critical"),
            ("OMS-CAL", "Calendrier des compétitions", "critical"),
            ("OMS-ENT", "Contrôle des entrées", "high"),
            ("OMS-HEB", "Hébergement", "medium"),
            ("OMS-TRA", "Transport", "high"),
            ("OMS-ARR", "Arrivées et départs", "medium"),
        ],
    ),
    (
        "ODS",
        "ATOS",
        &[
            ("ODS-RDS", "Diffusion des résultats", "critical"),
            ("ODS-CIS", "Information des commentateurs", "critical"),
            ("ODS-MYI", "MyInfo", "high"),
            ("ODS-PRD", "Distribution des impressions", "high"),
            ("ODS-INF", "Info+", "medium"),
        ],
    ),
    (
        "RES",
        "OMEGA",
        &[
            ("RES-OVR", "Saisie des résultats sur site", "critical"),
            ("RES-TAB", "Tableaux d'affichage", "high"),
            ("RES-CHR", "Chronométrage", "critical"),
        ],
    ),
    (
        "INF",
        "DATACENTRE",
        &[
            ("INF-DNS", "Résolution de noms", "critical"),
            ("INF-AD", "Annuaire et authentification", "critical"),
            ("INF-MSG", "Messagerie", "high"),
            ("INF-WIFI", "Wi-Fi des sites", "high"),
            ("INF-POSTES", "Postes de travail", "high"),
            ("INF-RESEAU", "Réseau des sites", "critical"),
            ("INF-IMP", "Impression", "medium"),
            ("INF-SAV", "Sauvegarde", "medium"),
        ],
    ),
    (
        "SEC",
        "SECU-SI",
        &[
            ("SEC-SIEM", "Détection des incidents de sécurité", "critical"),
            ("SEC-PKI", "Infrastructure de clés", "high"),
            ("SEC-AV", "Protection des postes", "high"),
        ],
    ),
    (
        "DIF",
        "ALIBABA",
        &[
            ("DIF-WEB", "Site internet des Jeux", "high"),
            ("DIF-APP", "Application mobile", "high"),
            ("DIF-VOD", "Plateforme vidéo", "medium"),
        ],
    ),
];

/// Applications checked at every venue (their state at each venue rolls up with the rest).
const AT_VENUES: &[&str] = &["ODS-RDS", "ODS-CIS", "RES-OVR", "OMS-ENT", "INF-WIFI"];

/// Computers in the estate.
pub const COMPUTERS: usize = 10_000;

/// The estate, as the demo builds it and the simulator feeds it.
#[derive(Debug, Clone)]
pub struct Estate {
    /// Supervised sites, venues first.
    pub sites: Vec<String>,
    /// (site, number of computers).
    pub computers: Vec<(String, usize)>,
    pub applications: Vec<App>,
}

/// An application of the demo.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub name: String,
    pub suite: String,
    pub criticality: String,
    pub partner: String,
    pub rollup: String,
}

impl Estate {
    pub fn build() -> Estate {
        let mut sites: Vec<String> = VENUES.iter().map(|v| v.0.to_string()).collect();
        sites.extend(SHARED_SITES.iter().map(|s| s.to_string()));
        sites.extend(TOC_SITES.iter().map(|s| s.0.to_string()));
        // Computers: broadcast and press centres and the TOC are large, airports small, venues in between.
        let weight = |s: &str| match s {
            "CIRTV" => 600,
            "CPP" => 500,
            "CTO" => 300,
            "VIL-OLY" | "VIL-MRS" | "VIL-MEDIA" => 150,
            "DC-1" | "DC-2" => 20,
            s if s.starts_with("APT-") => 40,
            _ => 180,
        };
        let mut computers: Vec<(String, usize)> = sites.iter().map(|s| (s.clone(), weight(s))).collect();
        let total: usize = computers.iter().map(|c| c.1).sum();
        if let Some(cto) = computers.iter_mut().find(|c| c.0 == "CTO") {
            cto.1 = (cto.1 as isize + COMPUTERS as isize - total as isize).max(0) as usize;
        }
        let mut applications = Vec::new();
        let modules = ["Référentiel", "Interface", "Rapports", "Échanges", "Administration", "Archives"];
        for (suite, partner, apps) in SUITES {
            for (id, name, crit) in apps.iter() {
                let rollup = match *id {
                    "INF-POSTES" => "percent 5 20",
                    "INF-RESEAU" => "min_ok 2",
                    _ => "worst",
                };
                applications.push(App {
                    id: id.to_string(),
                    name: name.to_string(),
                    suite: suite.to_string(),
                    criticality: crit.to_string(),
                    partner: partner.to_string(),
                    rollup: rollup.to_string(),
                });
            }
        }
        // Modules fill the suites to 150 applications.
        let mut k = 0;
        while applications.len() < 150 {
            let (suite, partner, _) = SUITES[k % SUITES.len()];
            let m = modules[(k / SUITES.len()) % modules.len()];
            let n = k / (SUITES.len() * modules.len()) + 1;
            applications.push(App {
                id: format!("{suite}-M{:02}", k + 1),
                name: format!("{suite} – {m} {n}"),
                suite: suite.to_string(),
                criticality: "medium".to_string(),
                partner: partner.to_string(),
                rollup: "worst".to_string(),
            });
            k += 1;
        }
        Estate { sites, computers, applications }
    }

    /// Every check id with its kind of subject, for the simulator.
    pub fn checks(&self) -> Vec<String> {
        let mut v = Vec::new();
        for s in &self.sites {
            v.extend([format!("UPL-{s}-A"), format!("UPL-{s}-B"), format!("SW-{s}")]);
        }
        for (s, n) in &self.computers {
            v.extend((1..=*n).map(|k| format!("PC-{s}-{k:03}")));
        }
        for a in &self.applications {
            v.push(format!("APP-{}", a.id));
        }
        for s in self.sites.iter().take(VENUES.len()) {
            v.extend(AT_VENUES.iter().map(|a| format!("APP-{a}@{s}")));
        }
        v
    }
}

/// The TOC tables of the demo.
pub fn files() -> Vec<SourceFile> {
    let e = Estate::build();
    let mut partners = String::from("id,name\n");
    for (id, name) in PARTNERS {
        writeln!(partners, "{id},{}", csv_field(name)).unwrap();
    }
    let mut apps = String::from("id,name,suite,criticality,partner_id,rollup\n");
    for a in &e.applications {
        let App { id, name, suite, criticality, partner, rollup } = a;
        writeln!(apps, "{id},{},{suite},{criticality},{partner},{rollup}", csv_field(name)).unwrap();
    }
    let mut assets = String::from("id,name,kind,site_id,application_id\n");
    let mut checks =
        String::from("id,target,site_id,kind,interval_s,timeout_s,asset_id,application_id,max_attempts,labels\n");
    let mut deps = String::from("child_id,parent_id,group\n");
    for s in &e.sites {
        for side in ["A", "B"] {
            writeln!(assets, "NET-{s}-{side},Lien {side} {s},network,{s},INF-RESEAU").unwrap();
            writeln!(checks, "UPL-{s}-{side},uplink-{side}.{s},{s},push,10,5,NET-{s}-{side},INF-RESEAU,2,").unwrap();
            writeln!(deps, "SW-{s},UPL-{s}-{side},uplinks").unwrap();
        }
        writeln!(assets, "NET-{s}-SW,Commutateur de cœur {s},network,{s},INF-RESEAU").unwrap();
        writeln!(checks, "SW-{s},core.{s},{s},push,10,5,NET-{s}-SW,INF-RESEAU,2,").unwrap();
    }
    for (s, n) in &e.computers {
        for k in 1..=*n {
            let id = format!("PC-{s}-{k:03}");
            writeln!(assets, "{id},Poste {k} {s},computer,{s},INF-POSTES").unwrap();
            writeln!(checks, "{id},{},{s},push,10,5,{id},INF-POSTES,3,", id.to_lowercase()).unwrap();
            writeln!(deps, "{id},SW-{s},").unwrap();
        }
    }
    for App { id, .. } in &e.applications {
        writeln!(checks, "APP-{id},https://{}.paris2024.local/sante,DC-1,push,10,5,,{id},2,", id.to_lowercase())
            .unwrap();
    }
    for s in e.sites.iter().take(VENUES.len()) {
        for a in AT_VENUES {
            let labels = format!("\"alertname=AppDown,application={a},site={s}\"");
            writeln!(checks, "APP-{a}@{s},{a}.{s},{s},push,10,5,,{a},2,{labels}").unwrap();
            writeln!(deps, "APP-{a}@{s},SW-{s},").unwrap();
        }
    }
    vec![
        file("partners.csv", partners),
        file("applications.csv", apps),
        file("assets.csv", assets),
        file("checks.csv", checks),
        file("dependencies.csv", deps),
    ]
}

/// Extra sites rows for `sites.csv` (organisation: the strategic centre).
pub fn site_rows(org: &str) -> String {
    let mut s = String::new();
    for (id, name, kind, lat, lon, city) in TOC_SITES {
        writeln!(s, "{id},{},{kind},{lat},{lon},{org},{}", csv_field(name), csv_field(city)).unwrap();
    }
    s
}

/// What the simulator sends at second `t` of its cycle: (check, status, output); `None` for checks whose agents
/// are silent (a power cut).
pub fn results_at(e: &Estate, t: u64) -> Vec<(String, &'static str, String)> {
    const CYCLE: u64 = 900;
    let t = t % CYCLE;
    let power_cut = (120..420).contains(&t); // Arena Bercy loses power
    let flapping = (60..600).contains(&t); // Paris La Défense Arena's second uplink flaps
    let app_error = (300..480).contains(&t); // results distribution fails at the Stade de France
    let app_slow = (280..500).contains(&t);
    let mut out = Vec::new();
    for id in e.checks() {
        let at_bercy = id.contains("-BCY") || id.ends_with("@BCY");
        let (status, text): (&'static str, String) = if power_cut && at_bercy {
            if id.starts_with("UPL-") || id.starts_with("SW-") {
                ("CRITICAL", "CRITICAL - plus de réponse (coupure électrique)".into())
            } else {
                continue; // the agents are down: their TTL runs out
            }
        } else if flapping && id == "UPL-DEF-B" {
            if (t / 10).is_multiple_of(2) {
                ("CRITICAL", "CRITICAL - perte de paquets 100 %".into())
            } else {
                ("OK", "OK - perte de paquets 0 %".into())
            }
        } else if app_error && id == "APP-ODS-RDS@STA" {
            ("CRITICAL", "HTTP CRITICAL: HTTP/1.1 500 - erreur applicative | time=0.812s".into())
        } else if app_slow && id == "APP-ODS-RDS" {
            ("WARNING", "HTTP WARNING: temps de réponse 2,4 s | time=2.4s;1;5".into())
        } else if id == "PC-VER-001" && (330..500).contains(&t) {
            ("CRITICAL", "CRITICAL - disque plein".into()) // during the first cycle, inside the maintenance window
        } else if id.starts_with("PC-") {
            ("OK", "OK - agent actif".into())
        } else {
            ("OK", "OK".into())
        };
        out.push((id, status, text));
    }
    out
}

/// Feeds the server at `base` (e.g. `http://127.0.0.1:8080`) through its push API every 10 seconds, after
/// scheduling the planned maintenance (Château de Versailles, from 5 to 15 minutes after the start).
pub async fn simulate(base: String, token: String) {
    let mut auth = reqwest::header::HeaderMap::new();
    let mut bearer = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("tokens are ASCII");
    bearer.set_sensitive(true);
    auth.insert(reqwest::header::AUTHORIZATION, bearer);
    // The demo's own certificate may be self-signed: the simulator talks to its own server only.
    let client = reqwest::Client::builder()
        .default_headers(auth)
        .danger_accept_invalid_certs(true)
        .build()
        .expect("an HTTP client");
    let e = Estate::build();
    let start = chrono::Utc::now();
    let window = serde_json::json!({
        "id": "MAINT-VER", "scope": {"by": "site", "id": "VER"},
        "starts_at": start + chrono::Duration::minutes(5), "ends_at": start + chrono::Duration::minutes(15),
        "every_hours": 24, "reason": "bascule électrique planifiée",
    });
    let _ = client.post(format!("{base}/api/v1/monitoring/maintenance")).json(&window).send().await;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        every.tick().await;
        let t = (chrono::Utc::now() - start).num_seconds().max(0) as u64;
        let results = results_at(&e, t);
        for chunk in results.chunks(2000) {
            let body: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(id, status, output)| serde_json::json!({"check": id, "status": status, "output": output}))
                .collect();
            let sent = client
                .post(format!("{base}/api/v1/monitoring/results"))
                .json(&serde_json::json!({"results": body}))
                .send()
                .await;
            if let Err(err) = sent {
                tracing::warn!(error = %err, "simulator: results not sent");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estate_has_its_sizes() {
        let e = Estate::build();
        assert_eq!(e.computers.iter().map(|c| c.1).sum::<usize>(), COMPUTERS);
        assert_eq!(e.applications.len(), 150);
        assert_eq!(e.sites.len(), 44 + 6 + 7);
        let ids = e.checks();
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "check ids are unique");
        // The scripted incidents.
        let quiet = results_at(&e, 0);
        assert_eq!(quiet.len(), ids.len());
        assert!(quiet.iter().all(|r| r.1 == "OK"));
        let cut = results_at(&e, 200);
        assert!(cut.len() < ids.len(), "Bercy's agents are silent");
        assert!(cut.iter().any(|r| r.0 == "UPL-BCY-A" && r.1 == "CRITICAL"));
        assert!(results_at(&e, 310).iter().any(|r| r.0 == "APP-ODS-RDS@STA" && r.1 == "CRITICAL"));
    }
}
