//! The demo's rosters (issue 17): every partner's support desk in 3×8 (three people taking turns at 06:00, 14:00
//! and 22:00, Paris time) with its manager as the second level, week by week; the TOC's pilot desk in 3×8; the two
//! tactical groups' duty officers day by day. Anchored to the Monday of the demo's week, so that running the demo
//! again changes nothing.

use super::{csv_field, file};
use chrono::{DateTime, Datelike, Duration, Utc};
use std::fmt::Write;
use vigie_import::SourceFile;

const FIRST: &[&str] = &[
    "Camille", "Nicolas", "Sophie", "Julien", "Claire", "Thomas", "Émilie", "Antoine", "Laura", "Mathieu", "Sarah",
    "Hugo", "Léa", "Maxime", "Chloé", "Romain", "Manon", "Pierre", "Inès", "Lucas",
];
const LAST: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
];

/// people.csv, teams.csv and rotations.csv.
pub fn files(now: DateTime<Utc>) -> Vec<SourceFile> {
    let today = vigie_domain::paris::today(now);
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let at = |hour: u32| format!("{} {hour:02}:00", monday.format("%Y-%m-%d"));
    let mut people = String::from("id,name,email,mobile,partner_id,organization_id\n");
    let mut teams = String::from("id,name,partner_id,site_id,organization_id\n");
    let mut rotations = String::from("team_id,level,period,starts_at,people\n");
    let mut n = 0usize;
    let mut person = |people: &mut String, partner: &str, org: &str, domain: &str| -> String {
        let (first, last) = (FIRST[n % FIRST.len()], LAST[(n * 7 + n / FIRST.len()) % LAST.len()]);
        n += 1;
        let id = format!("p{n:03}");
        let mail = format!("{}.{}@{domain}", fold(first), fold(last));
        writeln!(people, "{id},{first} {last},{mail},+3361{n:07},{partner},{org}").unwrap();
        id
    };
    for (partner, name) in super::toc::PARTNERS {
        let domain = format!("{}.paris2024.example", partner.to_lowercase());
        let short = name.split(" – ").next().unwrap_or(name);
        writeln!(teams, "{partner}-SUPPORT,{},{partner},,", csv_field(&format!("{short} — support"))).unwrap();
        let shift: Vec<String> = (0..3).map(|_| person(&mut people, partner, "", &domain)).collect();
        let manager = person(&mut people, partner, "", &domain);
        writeln!(rotations, "{partner}-SUPPORT,1,shift,{},{}", at(6), shift.join("|")).unwrap();
        writeln!(rotations, "{partner}-SUPPORT,2,weekly,{},{manager}", at(8)).unwrap();
    }
    writeln!(teams, "TOC-PILOTE,Centre des opérations technologiques — pilote,,CTO,").unwrap();
    let pilots: Vec<String> = (0..3).map(|_| person(&mut people, "", "", "toc.paris2024.example")).collect();
    writeln!(rotations, "TOC-PILOTE,1,shift,{},{}", at(6), pilots.join("|")).unwrap();
    for (org, name) in [("GSBDD-IDF", "Île-de-France"), ("GSBDD-MRS", "Marseille-Aubagne")] {
        writeln!(teams, "{org}-PERM,{},,,{org}", csv_field(&format!("Permanence du groupement {name}"))).unwrap();
        let officers: Vec<String> = (0..2).map(|_| person(&mut people, "", org, "intradef.example")).collect();
        writeln!(rotations, "{org}-PERM,1,daily,{},{}", at(8), officers.join("|")).unwrap();
    }
    vec![file("people.csv", people), file("teams.csv", teams), file("rotations.csv", rotations)]
}

/// Lower case ASCII for an address: accents dropped.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'É' | 'é' | 'è' | 'ê' => 'e',
            'Î' | 'ï' => 'i',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}
