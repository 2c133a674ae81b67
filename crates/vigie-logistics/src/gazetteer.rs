//! A built-in gazetteer of the 34,870 French communes (INSEE, IGN, Licence Ouverte 2.0; see `data/README.md`):
//! resolves `Nantes`, `nantes`, `Saint-Denis (93)`, `st denis 93` or an INSEE code such as `44109` to a position,
//! without the internet. An ambiguous name is an error that lists the candidates.

use std::collections::HashMap;
use std::sync::OnceLock;
use vigie_domain::LatLon;

const DATA: &str = include_str!("../data/france-communes.csv");

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Commune {
    pub insee: &'static str,
    pub name: &'static str,
    pub departement: &'static str,
    pub population: u32,
    pub lat: f64,
    pub lon: f64,
}

impl Commune {
    pub fn position(&self) -> LatLon {
        LatLon { lat: self.lat, lon: self.lon }
    }
    /// `Saint-Denis (93, INSEE 93066, 141441 hab.)`.
    pub fn describe(&self) -> String {
        format!("{} ({}, INSEE {}, {} hab.)", self.name, self.departement, self.insee, self.population)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlaceError {
    #[error("no French commune is called {query:?}{}", hint(.suggestions))]
    NotFound { query: String, suggestions: Vec<String> },
    #[error("{query:?} names {} communes; say which with its département or INSEE code: {}", .candidates.len(), .candidates.join("; "))]
    Ambiguous { query: String, candidates: Vec<String> },
}

fn hint(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean: {}?)", s.join(", "))
    }
}

/// Lower case, no accents, hyphens and apostrophes as spaces, `st`/`ste` as `saint`/`sainte`.
/// Leading articles of official names, as [`normalize`] writes them.
const ARTICLES: [&str; 4] = ["le ", "la ", "les ", "l "];

pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => out.push('a'),
            'ç' => out.push('c'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' => out.push('i'),
            'ô' | 'ö' | 'ó' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '-' | '\'' | '’' | '_' | '.' | ',' => out.push(' '),
            c => out.push(c),
        }
    }
    let words: Vec<&str> = out
        .split_whitespace()
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            w => w,
        })
        .collect();
    words.join(" ")
}

pub struct Gazetteer {
    communes: Vec<Commune>,
    by_name: HashMap<String, Vec<usize>>,
    by_insee: HashMap<&'static str, usize>,
}

impl Gazetteer {
    /// The built-in gazetteer, parsed once.
    pub fn get() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(|| Gazetteer::parse(DATA))
    }

    fn parse(data: &'static str) -> Gazetteer {
        let mut communes = Vec::with_capacity(35_000);
        let mut lines = data.lines();
        let _header = lines.next();
        for line in lines {
            let f: Vec<&'static str> = line.split(',').collect();
            if f.len() != 6 {
                continue;
            }
            let (Ok(lat), Ok(lon)) = (f[4].parse(), f[5].parse()) else {
                continue;
            };
            communes.push(Commune {
                insee: f[0],
                name: f[1],
                departement: f[2],
                population: f[3].parse().unwrap_or(0),
                lat,
                lon,
            });
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_insee = HashMap::new();
        for (i, c) in communes.iter().enumerate() {
            let full = normalize(c.name);
            // The official name keeps its article (`Le Mans`); `Mans` finds it too.
            if let Some(bare) = ARTICLES.iter().find_map(|a| full.strip_prefix(a)) {
                by_name.entry(bare.to_string()).or_default().push(i);
            }
            by_name.entry(full).or_default().push(i);
            by_insee.insert(c.insee, i);
        }
        for v in by_name.values_mut() {
            v.sort_by_key(|&i| std::cmp::Reverse(communes[i].population));
        }
        Gazetteer { communes, by_name, by_insee }
    }

    pub fn len(&self) -> usize {
        self.communes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.communes.is_empty()
    }

    /// Resolves a commune name (optionally followed by its département: `Saint-Denis (93)`, `Saint-Denis 93`)
    /// or an INSEE code.
    pub fn resolve(&self, query: &str) -> Result<&Commune, PlaceError> {
        let q = query.trim();
        if let Some(&i) = self.by_insee.get(q) {
            return Ok(&self.communes[i]);
        }
        let norm = normalize(&q.replace(['(', ')'], " "));
        if let Some(found) = self.by_name.get(&norm) {
            return match found.as_slice() {
                [one] => Ok(&self.communes[*one]),
                many => Err(PlaceError::Ambiguous {
                    query: q.to_string(),
                    candidates: many.iter().map(|&i| self.communes[i].describe()).collect(),
                }),
            };
        }
        // A trailing département code picks among namesakes.
        if let Some((name, dep)) = norm.rsplit_once(' ') {
            let dep = dep.to_uppercase();
            if let Some(found) = self.by_name.get(name) {
                let hits: Vec<usize> = found.iter().copied().filter(|&i| self.communes[i].departement == dep).collect();
                if let [one] = hits.as_slice() {
                    return Ok(&self.communes[*one]);
                }
            }
        }
        let mut suggestions: Vec<&Commune> = self
            .by_name
            .iter()
            .filter(|(n, _)| n.starts_with(&norm) && !norm.is_empty())
            .flat_map(|(_, v)| v.iter().map(|&i| &self.communes[i]))
            .collect();
        suggestions.sort_by_key(|c| std::cmp::Reverse(c.population));
        Err(PlaceError::NotFound {
            query: q.to_string(),
            suggestions: suggestions.iter().take(5).map(|c| c.describe()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, expect: Result<&str, &str>) {
        let got = Gazetteer::get().resolve(query).map(|c| c.insee).map_err(|e| e.to_string());
        match (got, expect) {
            (Ok(insee), Ok(want)) => assert_eq!(insee, want, "{query}"),
            (Err(msg), Err(want)) => assert!(msg.contains(want), "{query}: {msg}"),
            (got, want) => panic!("{query}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn resolves_names_codes_and_namesakes() {
        assert!(Gazetteer::get().len() > 34_000);
        check("Nantes", Ok("44109"));
        check("  NANTES ", Ok("44109"));
        check("44109", Ok("44109"));
        check("Saint-Étienne", Ok("42218"));
        check("saint etienne", Ok("42218"));
        check("St-Denis (93)", Ok("93066"));
        check("Saint-Denis 974", Ok("97411"));
        check("Le Mans", Ok("72181"));
        check("Mans", Ok("72181"));
        assert_eq!(Gazetteer::get().resolve("Le Mans").unwrap().describe(), "Le Mans (72, INSEE 72181, 142946 hab.)");
        check("La Rochelle (17)", Ok("17300"));
        check("L'Haÿ-les-Roses", Ok("94038"));
        check("ile saint denis", Ok("93039"));
        check("Saint-Denis", Err("\"Saint-Denis\" names"));
        check("Saint-Denis", Err("Saint-Denis (93, INSEE 93066"));
        check("Nantess", Err("no French commune is called \"Nantess\""));
        check("Vincenn", Err("did you mean: Vincennes (94"));
    }
}
