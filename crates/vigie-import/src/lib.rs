//! Import of the interchange format (docs/data-format.md): CSV files or an XLSX workbook, one table per file or
//! sheet, into journal events.
//!
//! Two steps, both pure (bytes and a state in, values out):
//! 1. [`read`] parses every file into typed records, collecting every problem with its `file:line:column`.
//! 2. [`plan`] checks references against the state and the batch itself, then diffs the records against the state:
//!    only what changes becomes an event, so importing the same files twice appends nothing.
//!
//! Either step reports every problem it finds; an import with any problem writes nothing.

mod oncall;
pub use oncall::{international, is_address};
mod readiness;
pub mod text;
pub mod values;
pub mod xlsx;

use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use vigie_domain::geo::{parse_decimal, LatLon};
use vigie_domain::ids::check_id;
use vigie_domain::text::{check_multiline_text, check_text, MAX_FREE_TEXT_CHARS, MAX_NAME_CHARS};
use vigie_domain::*;
use vigie_monitor::rollup::Rule;

/// One problem in an imported file, located to the cell. `message` is English (API clients, logs); `code` and
/// `params`, when set, let a user interface say it in the user's language (`import.number` with `column` and
/// `found`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub code: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<&'static str, String>,
}

impl Problem {
    pub fn at(file: &str, line: u32, column: u32, message: impl Into<String>) -> Problem {
        Problem { file: file.to_string(), line, column, message: message.into(), code: "", params: BTreeMap::new() }
    }

    /// The same problem with a stable code and its parameters.
    pub fn coded<const N: usize>(mut self, code: &'static str, params: [(&'static str, String); N]) -> Problem {
        self.code = code;
        self.params = params.into_iter().collect();
        self
    }
}

impl fmt::Display for Problem {
    /// `file:line:column: message`; `file: message` for a problem of a whole file (line 0); the message alone for
    /// the count of problems left out ([`Problems`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file.is_empty() {
            f.write_str(&self.message)
        } else if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }
}

/// The most rows an import holds, all files together (the scale-1 stock file has a million): what an import keeps
/// until it is planned grows with its rows (up to a few hundred bytes each), so it is bounded whatever the file.
pub const MAX_ROWS: usize = 2_000_000;

/// The most problems an import reports. The rest are only counted: whatever the files, the memory problems take
/// stays bounded.
pub const MAX_PROBLEMS: usize = 1_000;

/// The longest message a problem keeps, in bytes (a message quoting a long cell is cut).
pub const MAX_MESSAGE_BYTES: usize = 512;

/// Problems found so far: the first [`MAX_PROBLEMS`] in full, the count of the others.
#[derive(Debug, Clone, Default)]
pub struct Problems {
    list: Vec<Problem>,
    more: usize,
}

impl Problems {
    /// Keeps a problem (its message cut to [`MAX_MESSAGE_BYTES`]: a message may quote a cell), or counts it.
    pub fn push(&mut self, mut p: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            if p.message.len() > MAX_MESSAGE_BYTES {
                let mut cut = MAX_MESSAGE_BYTES;
                while !p.message.is_char_boundary(cut) {
                    cut -= 1;
                }
                p.message.truncate(cut);
                p.message.push('…');
            }
            self.list.push(p);
        } else {
            self.more += 1;
        }
    }
    /// Keeps a problem that ends the reading (at most one an import): shown even when the list is full.
    pub fn push_final(&mut self, p: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.push(p);
        } else {
            self.list.push(p);
        }
    }
    /// Counts a problem left out (when the list [`is_full`](Self::is_full)) without making it.
    pub fn count_one(&mut self) {
        self.more += 1;
    }
    /// Whether the list is full (further problems are only counted).
    pub fn is_full(&self) -> bool {
        self.list.len() >= MAX_PROBLEMS
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.more == 0
    }
    /// Every problem found, kept or counted.
    pub fn count(&self) -> usize {
        self.list.len() + self.more
    }
    /// The problems kept, in the order found.
    pub fn kept(&self) -> &[Problem] {
        &self.list
    }
    /// The problems kept, sorted by file, line and column, then, when some were left out, one last line
    /// `… and N more problems` (a [`Problem`] with no file).
    pub fn into_report(self) -> Vec<Problem> {
        let mut p = self.list;
        p.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        p.dedup();
        if self.more > 0 {
            let s = if self.more == 1 { "" } else { "s" };
            p.push(
                Problem::at("", 0, 0, format!("… and {} more problem{s}", self.more))
                    .coded("import.more", [("n", self.more.to_string())]),
            );
        }
        p
    }
}

/// How many problems a report ([`Problems::into_report`]) stands for: those listed, and those its last line counts.
pub fn problem_count(report: &[Problem]) -> usize {
    match report.last() {
        Some(last) if last.file.is_empty() => {
            let more = last.message.split_whitespace().find_map(|w| w.parse::<usize>().ok()).unwrap_or(0);
            report.len() - 1 + more
        }
        _ => report.len(),
    }
}

/// A file to import: its name (used to find the table and in messages) and its bytes.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The tables of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Organizations,
    Sites,
    Items,
    Allowances,
    Forces,
    Vehicles,
    Stock,
    Partners,
    Applications,
    Assets,
    Checks,
    Dependencies,
    Zones,
    Tasks,
    TaskLinks,
    Computers,
    ZoneTemplates,
    People,
    Teams,
    Rotations,
    Overrides,
}

impl Table {
    pub const ALL: [Table; 21] = [
        Table::Organizations,
        Table::Sites,
        Table::Items,
        Table::Allowances,
        Table::Forces,
        Table::Vehicles,
        Table::Stock,
        Table::Partners,
        Table::Applications,
        Table::Assets,
        Table::Checks,
        Table::Dependencies,
        Table::Zones,
        Table::Tasks,
        Table::TaskLinks,
        Table::Computers,
        Table::ZoneTemplates,
        Table::People,
        Table::Teams,
        Table::Rotations,
        Table::Overrides,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Organizations => "organizations",
            Table::Sites => "sites",
            Table::Items => "items",
            Table::Allowances => "allowances",
            Table::Forces => "forces",
            Table::Vehicles => "vehicles",
            Table::Stock => "stock",
            Table::Partners => "partners",
            Table::Applications => "applications",
            Table::Assets => "assets",
            Table::Checks => "checks",
            Table::Dependencies => "dependencies",
            Table::Zones => "zones",
            Table::Tasks => "tasks",
            Table::TaskLinks => "task_links",
            Table::Computers => "computers",
            Table::ZoneTemplates => "zone_templates",
            Table::People => "people",
            Table::Teams => "teams",
            Table::Rotations => "rotations",
            Table::Overrides => "overrides",
        }
    }

    /// Columns that must be present (values may still be optional, see docs/data-format.md).
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Table::Organizations => &["id", "name", "level"],
            Table::Sites => &["id", "name", "kind", "lat", "lon", "organization_id"],
            Table::Items => &["id", "name", "category", "unit", "unit_mass_kg", "unit_volume_m3"],
            Table::Allowances => &["item_id", "basis", "quantity"],
            Table::Forces => &["id", "name", "site_id", "headcount", "organization_id", "starts_on", "ends_on"],
            Table::Vehicles => &["id", "site_id", "kind", "seats", "payload_kg", "cargo_m3", "condition"],
            Table::Stock => &["site_id", "item_id", "quantity", "condition", "counted_at"],
            Table::Partners => &["id", "name"],
            Table::Applications => &["id", "name", "suite", "criticality", "partner_id"],
            Table::Assets => &["id", "name", "kind", "site_id"],
            Table::Checks => &["id", "target", "site_id", "kind", "interval_s", "timeout_s"],
            Table::Dependencies => &["child_id", "parent_id"],
            Table::Zones => &["id", "site_id", "name"],
            Table::Tasks => &["id", "site_id", "zone_id", "name", "trade", "owner", "duration_min"],
            Table::TaskLinks => &["before_id", "after_id"],
            Table::Computers => &["id", "model", "site_id", "role", "state"],
            Table::ZoneTemplates => &["kind", "key", "name", "trade", "owner", "duration_min"],
            Table::People => &["id", "name"],
            Table::Teams => &["id", "name"],
            Table::Rotations => &["team_id", "level", "period", "starts_at", "people"],
            Table::Overrides => &["team_id", "level", "from", "until", "person_id"],
        }
    }

    /// Columns the format names but that may be left out.
    pub fn optional(self) -> &'static [&'static str] {
        match self {
            Table::Organizations => &["parent_id"],
            Table::Sites => &["city"],
            Table::Vehicles => &["speed_kmh"],
            Table::Stock => &["lot", "expires_on"],
            Table::Applications => &["rollup"],
            Table::Assets => &["application_id"],
            Table::Checks => &["application_id", "asset_id", "max_attempts", "ttl_s", "expect", "labels", "tags"],
            Table::Dependencies => &["group"],
            Table::Zones => &["kind", "image", "deadline"],
            Table::Tasks => &["due", "plan_id"],
            Table::TaskLinks => &["lag_min"],
            Table::Computers => &["zone_id", "image", "image_version", "asset_id"],
            Table::ZoneTemplates => &["after", "lag_min", "count"],
            Table::People => &["email", "mobile", "chat", "partner_id", "organization_id"],
            Table::Teams => &["partner_id", "site_id", "organization_id"],
            Table::Overrides => &["reason", "removed"],
            _ => &[],
        }
    }

    /// The table a file or sheet name stands for: `stock.csv`, `stock-idf.csv`, `Stock_2024-07-26.csv`, sheet `Sites`.
    pub fn from_name(name: &str) -> Option<Table> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let stem = base.rsplit_once('.').map_or(base, |(s, _)| s).to_lowercase();
        let stem = stem.trim();
        let alias = |t: Table| -> bool {
            let n = t.name();
            stem == n
                || stem.strip_prefix(n).is_some_and(|r| r.starts_with(['-', '_', '.', ' ']))
                || (t == Table::Organizations && (stem == "organisations" || stem.starts_with("organisations_")))
        };
        Table::ALL.into_iter().find(|&t| alias(t))
    }
}

/// Where a record came from: file index, line, and the columns of its key and references.
#[derive(Debug, Clone, Copy, Default)]
struct Loc {
    file: u16,
    line: u32,
    /// Columns of [key, first reference, second reference]; 0 when unused.
    cols: [u32; 3],
}

/// What a reference points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RefKind {
    Organization,
    Site,
    Item,
    Partner,
    Application,
    Asset,
    /// A check or an asset.
    Supervised,
    Zone,
    Task,
    Person,
    Team,
}

/// A reference read from a cell, checked by [`plan`] whether or not the rest of its row was valid.
#[derive(Debug, Clone)]
struct Ref {
    kind: RefKind,
    id: String,
    field: &'static str,
    file: u16,
    line: u32,
    column: u32,
}

/// Every record read from a set of files, with the problems found while reading.
#[derive(Debug, Default)]
pub struct Batch {
    refs: Vec<Ref>,
    files: Vec<String>,
    organizations: Vec<(Organization, Loc)>,
    sites: Vec<(Site, Loc)>,
    items: Vec<(Item, Loc)>,
    allowances: Vec<(Allowance, Loc)>,
    forces: Vec<(Force, Loc)>,
    vehicles: Vec<(Vehicle, Loc)>,
    stock: Vec<(SiteId, StockLine, Loc)>,
    toc: TocRecords,
    readiness: readiness::ReadinessRecords,
    oncall: oncall::OnCallRecords,
    /// Rows read per table.
    pub rows: BTreeMap<Table, usize>,
    pub problems: Problems,
}

/// Records of the TOC tables.
#[derive(Debug, Default)]
struct TocRecords {
    partners: Vec<(toc::Partner, Loc)>,
    applications: Vec<(toc::Application, Loc)>,
    assets: Vec<(toc::Asset, Loc)>,
    checks: Vec<(toc::Check, Loc)>,
    /// (child, group, parent)
    dependencies: Vec<(String, String, String, Loc)>,
}

impl Batch {
    pub fn files(&self) -> &[String] {
        &self.files
    }
    pub fn row_count(&self) -> usize {
        self.rows.values().sum()
    }
}

/// Header of a table: where each named column is, and the extra columns kept as attributes.
struct Header {
    /// Keyed by the format's own column names (never by what a file holds): a fast hash, looked up for every cell.
    index: vigie_domain::fxhash::FxHashMap<&'static str, usize>,
    extras: Vec<(String, usize)>,
}

/// Reads one row's cells by column name, recording problems with their positions.
struct RowReader<'r, 'a> {
    file: &'r str,
    file_index: u16,
    row: &'r text::Row<'a>,
    header: &'r Header,
    problems: &'r mut Problems,
    refs: &'r mut Vec<Ref>,
    ok: bool,
}

impl<'r, 'a> RowReader<'r, 'a> {
    fn cell(&self, name: &str) -> Option<&'r text::Cell<'a>> {
        let row: &'r text::Row<'a> = self.row;
        self.header.index.get(name).and_then(|&i| row.cells.get(i))
    }
    /// Line and column of a named cell (past the row's end when the row is short of it).
    fn position(&self, name: &str) -> (u32, u32) {
        match self.header.index.get(name) {
            Some(&i) => self.row.cells.get(i).map_or((self.row.line, self.row.end_column), |c| (c.line, c.column)),
            None => (self.row.line, 0),
        }
    }
    fn column(&self, name: &str) -> u32 {
        self.position(name).1
    }
    fn text(&self, name: &str) -> &'r str {
        self.cell(name).map_or("", |c| c.text.trim())
    }
    fn problem(&mut self, name: &str, message: String) {
        self.ok = false;
        if self.problems.is_full() {
            self.problems.count_one();
            return;
        }
        let (line, column) = self.position(name);
        self.problems.push(Problem::at(self.file, line, column.max(1), message));
    }
    /// A problem with a cell, coded (`import.<code>`, with the column's name among its parameters).
    fn coded<const N: usize>(
        &mut self,
        name: &str,
        code: &'static str,
        params: [(&'static str, String); N],
        message: String,
    ) {
        self.ok = false;
        if self.problems.is_full() {
            self.problems.count_one();
            return;
        }
        let (line, column) = self.position(name);
        let mut p = Problem::at(self.file, line, column.max(1), message).coded(code, params);
        p.params.insert("column", name.to_string());
        self.problems.push(p);
    }
    fn required(&mut self, name: &str) -> Option<&'r str> {
        let t = self.text(name);
        if t.is_empty() {
            self.coded(name, "import.required", [], format!("`{name}` is required"));
            None
        } else {
            Some(t)
        }
    }
    /// A required name or label: one line of at most [`MAX_NAME_CHARS`] characters (vigie_domain::text).
    fn string(&mut self, name: &str) -> Option<String> {
        self.checked(name, true, MAX_NAME_CHARS, false).map(str::to_string)
    }
    /// An optional one-line text of at most `max` characters: empty when absent, `None` (a problem) when refused.
    fn optional(&mut self, name: &str, max: usize) -> Option<String> {
        self.checked(name, false, max, false).map(str::to_string)
    }
    /// A cell's trimmed text checked by the rules of text (vigie_domain::text).
    fn checked(&mut self, name: &str, required: bool, max: usize, multiline: bool) -> Option<&'r str> {
        let t: &'r str = self.cell(name).map_or("", |c| c.text.trim());
        if t.is_empty() {
            if required {
                self.coded(name, "import.required", [], format!("`{name}` is required"));
                return None;
            }
            return Some("");
        }
        let checked = if multiline { check_multiline_text(name, t, max) } else { check_text(name, t, max) };
        match checked {
            Ok(()) => Some(t),
            Err(e) => {
                self.problem(name, e.to_string());
                None
            }
        }
    }
    /// Checks the extra columns' values (kept as attributes: free text).
    fn check_extras(&mut self) {
        let (header, row): (&'r Header, &'r text::Row<'a>) = (self.header, self.row);
        for (k, i) in &header.extras {
            let Some(c) = row.cells.get(*i) else { continue };
            if let Err(e) = check_multiline_text(k, c.text.trim(), MAX_FREE_TEXT_CHARS) {
                self.problems.push(Problem::at(self.file, c.line, c.column, e.to_string()));
                self.ok = false;
            }
        }
    }
    fn id<T>(&mut self, name: &str, parse: fn(&str) -> Result<T, vigie_domain::ids::IdError>) -> Option<T> {
        let t = self.required(name)?;
        match parse(t) {
            Ok(v) => Some(v),
            Err(e) => {
                self.coded(name, "import.id", [("found", t.to_string())], format!("`{name}`: {e}"));
                None
            }
        }
    }
    fn choice<T>(&mut self, name: &str, parse: fn(&str) -> Result<T, UnknownValue>) -> Option<T> {
        let t = self.required(name)?;
        match parse(t) {
            Ok(v) => Some(v),
            Err(e) => {
                self.coded(name, "import.choice", [("found", t.to_string())], format!("`{name}`: {e}"));
                None
            }
        }
    }
    fn decimal(&mut self, name: &str, min: f64) -> Option<f64> {
        let t = self.required(name)?;
        match parse_decimal(t) {
            Some(v) if v >= min => Some(v),
            Some(v) => {
                self.coded(
                    name,
                    "import.below",
                    [("min", min.to_string()), ("found", v.to_string())],
                    format!("`{name}` cannot be below {min}, found {v}"),
                );
                None
            }
            None => {
                self.coded(
                    name,
                    "import.number",
                    [("found", t.to_string())],
                    format!("`{name}`: expected a number (decimal point or comma), found {t:?}"),
                );
                None
            }
        }
    }
    fn quantity(&mut self, name: &str) -> Option<Quantity> {
        let t = self.required(name)?;
        match Quantity::parse(t) {
            Ok(q) if q.is_negative() => {
                self.coded(
                    name,
                    "import.negative",
                    [("found", t.to_string())],
                    format!("`{name}` cannot be negative, found {t}"),
                );
                None
            }
            Ok(q) => Some(q),
            Err(e) => {
                self.coded(name, "import.number", [("found", t.to_string())], format!("`{name}`: {e}"));
                None
            }
        }
    }
    fn count(&mut self, name: &str) -> Option<u32> {
        let t = self.required(name)?;
        let v = values::parse_count(t);
        if v.is_none() {
            self.coded(
                name,
                "import.count",
                [("found", t.to_string())],
                format!("`{name}`: expected a whole number ≥ 0, found {t:?}"),
            );
        }
        v
    }
    fn date(&mut self, name: &str, optional: bool) -> Option<Option<chrono::NaiveDate>> {
        let t = self.text(name);
        if t.is_empty() {
            if !optional {
                self.coded(name, "import.required", [], format!("`{name}` is required"));
                return None;
            }
            return Some(None);
        }
        match values::parse_date(t) {
            Some(d) => Some(Some(d)),
            None => {
                self.coded(
                    name,
                    "import.date",
                    [("found", t.to_string())],
                    format!("`{name}`: expected a date YYYY-MM-DD or DD/MM/YYYY, found {t:?}"),
                );
                None
            }
        }
    }
    /// Notes a reference to check once every file is read (only when the cell holds a well-formed id).
    fn reference(&mut self, kind: RefKind, field: &'static str) {
        let t = self.text(field);
        if t.is_empty() || check_id(t).is_err() {
            return;
        }
        let id = t.to_string();
        let (line, column) = self.position(field);
        self.refs.push(Ref { kind, id, field, file: self.file_index, line, column });
    }
    /// A reference among several in one cell (a rotation's people), located at the cell.
    fn reference_value(&mut self, kind: RefKind, field: &'static str, id: &str) {
        if check_id(id).is_err() {
            return;
        }
        let (line, column) = self.position(field);
        self.refs.push(Ref { kind, id: id.to_string(), field, file: self.file_index, line, column });
    }
    fn attributes(&self) -> Attributes {
        self.header
            .extras
            .iter()
            .filter_map(|(k, i)| {
                let v = self.row.cells.get(*i)?.text.trim();
                (!v.is_empty()).then(|| (k.clone(), v.to_string()))
            })
            .collect()
    }
    fn loc(&self, file: u16, key: &str, r1: &str, r2: &str) -> Loc {
        Loc { file, line: self.row.line, cols: [self.column(key), self.column(r1), self.column(r2)] }
    }
}

fn read_header(file: &str, table: Table, row: &text::Row<'_>, problems: &mut Problems) -> Option<Header> {
    let mut index = vigie_domain::fxhash::FxHashMap::default();
    let mut extras = Vec::new();
    let mut ok = true;
    for (i, c) in row.cells.iter().enumerate() {
        let name = c.text.trim().trim_start_matches('\u{feff}').to_lowercase();
        let known = table.required().iter().chain(table.optional()).find(|&&k| k == name);
        match known {
            Some(&k) => {
                if index.insert(k, i).is_some() {
                    problems.push(
                        Problem::at(file, row.line, c.column, format!("column `{k}` appears twice"))
                            .coded("import.column_twice", [("column", k.to_string())]),
                    );
                    ok = false;
                }
            }
            None if name.is_empty() => {}
            None => match check_text("column name", &name, MAX_NAME_CHARS) {
                Ok(()) => extras.push((name, i)),
                Err(e) => {
                    problems.push(Problem::at(file, row.line, c.column, e.to_string()));
                    ok = false;
                }
            },
        }
    }
    let found: Vec<String> = row.cells.iter().map(|c| c.text.trim().to_string()).collect();
    for k in table.required() {
        if !index.contains_key(k) {
            problems.push(Problem::at(
                file,
                row.line,
                1,
                format!("missing required column `{k}` for table {} (found: {})", table.name(), found.join(", ")),
            ));
            ok = false;
        }
    }
    ok.then_some(Header { index, extras })
}

/// Caches ids that repeat from row to row (a stock file names the same sites and items again and again).
#[derive(Default)]
struct Interner {
    /// Site and item references already noted, per file (stock files repeat them on every line): looked up
    /// without allocating, a new id is copied once.
    checked: HashMap<(u16, RefKind), HashSet<String>>,
    sites: HashMap<String, SiteId>,
    items: HashMap<String, ItemId>,
    instants: Option<(String, chrono::DateTime<chrono::Utc>)>,
}

fn read_rows(
    batch: &mut Batch,
    file_index: u16,
    file: &str,
    table: Table,
    rows: &mut dyn Iterator<Item = Result<text::Row<'_>, Problem>>,
    interner: &mut Interner,
    progress: &mut dyn FnMut(usize),
) {
    let header = match rows.next() {
        None => {
            batch.problems.push(
                Problem::at(file, 1, 1, "the file is empty: expected a header row").coded("import.empty_file", []),
            );
            return;
        }
        Some(Err(p)) => {
            batch.problems.push(p);
            return;
        }
        Some(Ok(h)) => h,
    };
    let Some(header) = read_header(file, table, &header, &mut batch.problems) else {
        return;
    };
    let mut n = 0usize;
    let already: usize = batch.rows.values().sum();
    for row in rows {
        let row = match row {
            Ok(r) => r,
            Err(p) => {
                batch.problems.push(p);
                return;
            }
        };
        if already + n >= MAX_ROWS {
            // What an import holds until it is planned grows with its rows: bounded, whatever the file.
            let line = row.line;
            batch.problems.push_final(Problem::at(
                file,
                line,
                1,
                format!("an import holds at most {MAX_ROWS} rows in all: split it (nothing is read past this line)"),
            ));
            break;
        }
        n += 1;
        if n.is_multiple_of(65_536) {
            progress(n);
        }
        let mut r = RowReader {
            file,
            file_index,
            row: &row,
            header: &header,
            problems: &mut batch.problems,
            refs: &mut batch.refs,
            ok: true,
        };
        let f = file_index;
        if !header.extras.is_empty() {
            r.check_extras();
        }
        if matches!(table, Table::Partners | Table::Applications | Table::Assets | Table::Checks | Table::Dependencies)
        {
            match table {
                Table::Applications => r.reference(RefKind::Partner, "partner_id"),
                Table::Assets => {
                    r.reference(RefKind::Site, "site_id");
                    r.reference(RefKind::Application, "application_id");
                }
                Table::Checks => {
                    r.reference(RefKind::Site, "site_id");
                    r.reference(RefKind::Application, "application_id");
                    r.reference(RefKind::Asset, "asset_id");
                }
                Table::Dependencies => {
                    r.reference(RefKind::Supervised, "child_id");
                    r.reference(RefKind::Supervised, "parent_id");
                }
                _ => {}
            }
            read_toc_row(&mut batch.toc, table, &mut r, f);
            continue;
        }
        if matches!(table, Table::Zones | Table::Tasks | Table::TaskLinks | Table::Computers | Table::ZoneTemplates) {
            readiness::read_row(&mut batch.readiness, table, &mut r, f);
            continue;
        }
        if matches!(table, Table::People | Table::Teams | Table::Rotations | Table::Overrides) {
            oncall::read_row(&mut batch.oncall, table, &mut r, f);
            continue;
        }
        match table {
            Table::Organizations => r.reference(RefKind::Organization, "parent_id"),
            Table::Sites => r.reference(RefKind::Organization, "organization_id"),
            Table::Items => {}
            Table::Allowances => r.reference(RefKind::Item, "item_id"),
            Table::Forces => {
                r.reference(RefKind::Site, "site_id");
                r.reference(RefKind::Organization, "organization_id");
            }
            Table::Vehicles => r.reference(RefKind::Site, "site_id"),
            Table::Partners | Table::Applications | Table::Assets | Table::Checks | Table::Dependencies => {}
            Table::Zones | Table::Tasks | Table::TaskLinks | Table::Computers | Table::ZoneTemplates => {}
            Table::People | Table::Teams | Table::Rotations | Table::Overrides => {}
            // A stock file names the same sites and items on every line: each is noted once per file, and only
            // from a row read whole (below), so that rows of nonsense leave nothing behind but their count.
            Table::Stock => {}
        }
        match table {
            Table::Organizations => {
                let id = r.id("id", OrgId::parse);
                let name = r.string("name");
                let level = r.choice("level", OrgLevel::parse);
                let parent_id = if r.text("parent_id").is_empty() { None } else { r.id("parent_id", OrgId::parse) };
                if let (Some(id), Some(name), Some(level), true) = (id, name, level, r.ok) {
                    let loc = r.loc(f, "id", "parent_id", "");
                    let attributes = r.attributes();
                    batch.organizations.push((Organization { id, name, level, parent_id, attributes }, loc));
                }
            }
            Table::Sites => {
                let id = r.id("id", SiteId::parse);
                let name = r.string("name");
                let kind = r.choice("kind", SiteKind::parse);
                let lat = r.decimal("lat", -90.0);
                let lon = r.decimal("lon", -180.0);
                let organization_id = r.id("organization_id", OrgId::parse);
                if let (Some(la), Some(lo)) = (lat, lon) {
                    if let Err(e) = LatLon::new(la, lo) {
                        let col = if la > 90.0 { "lat" } else { "lon" };
                        r.problem(col, e.to_string());
                    }
                }
                let city = r.optional("city", MAX_NAME_CHARS).unwrap_or_default();
                if let (Some(id), Some(name), Some(kind), Some(lat), Some(lon), Some(organization_id), true) =
                    (id, name, kind, lat, lon, organization_id, r.ok)
                {
                    let loc = r.loc(f, "id", "organization_id", "");
                    let attributes = r.attributes();
                    batch.sites.push((Site { id, name, kind, lat, lon, organization_id, city, attributes }, loc));
                }
            }
            Table::Items => {
                let id = r.id("id", ItemId::parse);
                let name = r.string("name");
                let category = r.string("category");
                let unit = r.string("unit");
                let unit_mass_kg = r.decimal("unit_mass_kg", 0.0);
                let unit_volume_m3 = r.decimal("unit_volume_m3", 0.0);
                if let (
                    Some(id),
                    Some(name),
                    Some(category),
                    Some(unit),
                    Some(unit_mass_kg),
                    Some(unit_volume_m3),
                    true,
                ) = (id, name, category, unit, unit_mass_kg, unit_volume_m3, r.ok)
                {
                    let loc = r.loc(f, "id", "", "");
                    let attributes = r.attributes();
                    batch
                        .items
                        .push((Item { id, name, category, unit, unit_mass_kg, unit_volume_m3, attributes }, loc));
                }
            }
            Table::Allowances => {
                let item_id = r.id("item_id", ItemId::parse);
                let basis = r.choice("basis", AllowanceBasis::parse);
                let quantity = r.quantity("quantity");
                if let (Some(item_id), Some(basis), Some(quantity), true) = (item_id, basis, quantity, r.ok) {
                    let loc = r.loc(f, "item_id", "item_id", "");
                    let attributes = r.attributes();
                    batch.allowances.push((Allowance { item_id, basis, quantity, attributes }, loc));
                }
            }
            Table::Forces => {
                let id = r.id("id", ForceId::parse);
                let name = r.string("name");
                let site_id = r.id("site_id", SiteId::parse);
                let headcount = r.count("headcount");
                let organization_id = r.id("organization_id", OrgId::parse);
                let starts_on = r.date("starts_on", false).flatten();
                let ends_on = r.date("ends_on", false).flatten();
                if let (Some(s), Some(e)) = (starts_on, ends_on) {
                    if e < s {
                        r.problem("ends_on", format!("`ends_on` ({e}) is before `starts_on` ({s})"));
                    }
                }
                if let (
                    Some(id),
                    Some(name),
                    Some(site_id),
                    Some(headcount),
                    Some(organization_id),
                    Some(starts_on),
                    Some(ends_on),
                    true,
                ) = (id, name, site_id, headcount, organization_id, starts_on, ends_on, r.ok)
                {
                    let loc = r.loc(f, "id", "site_id", "organization_id");
                    let attributes = r.attributes();
                    batch.forces.push((
                        Force { id, name, site_id, headcount, organization_id, starts_on, ends_on, attributes },
                        loc,
                    ));
                }
            }
            Table::Vehicles => {
                let id = r.id("id", VehicleId::parse);
                let site_id = r.id("site_id", SiteId::parse);
                let kind = r.string("kind").map(|k| k.to_lowercase());
                let seats = r.count("seats");
                let payload_kg = r.decimal("payload_kg", 0.0);
                let cargo_m3 = r.decimal("cargo_m3", 0.0);
                let condition = r.choice("condition", Condition::parse);
                let speed_kmh = if r.text("speed_kmh").is_empty() {
                    None
                } else {
                    match r.decimal("speed_kmh", 0.0) {
                        Some(v) if v > 0.0 => Some(v),
                        Some(_) => {
                            r.problem("speed_kmh", "`speed_kmh` must be above 0".into());
                            None
                        }
                        None => None,
                    }
                };
                if let (
                    Some(id),
                    Some(site_id),
                    Some(kind),
                    Some(seats),
                    Some(payload_kg),
                    Some(cargo_m3),
                    Some(condition),
                    true,
                ) = (id, site_id, kind, seats, payload_kg, cargo_m3, condition, r.ok)
                {
                    let loc = r.loc(f, "id", "site_id", "");
                    let attributes = r.attributes();
                    batch.vehicles.push((
                        Vehicle { id, site_id, kind, seats, payload_kg, cargo_m3, speed_kmh, condition, attributes },
                        loc,
                    ));
                }
            }
            Table::Partners | Table::Applications | Table::Assets | Table::Checks | Table::Dependencies => {}
            Table::Zones | Table::Tasks | Table::TaskLinks | Table::Computers | Table::ZoneTemplates => {}
            Table::People | Table::Teams | Table::Rotations | Table::Overrides => {}
            Table::Stock => {
                let site_id = match interner.sites.get(r.text("site_id")) {
                    Some(id) => Some(id.clone()),
                    None => r.id("site_id", SiteId::parse),
                };
                let item_id = match interner.items.get(r.text("item_id")) {
                    Some(id) => Some(id.clone()),
                    None => r.id("item_id", ItemId::parse),
                };
                let quantity = r.quantity("quantity");
                let condition = r.choice("condition", Condition::parse);
                let lot = r.optional("lot", MAX_NAME_CHARS).filter(|l| !l.is_empty());
                let expires_on = r.date("expires_on", true).flatten();
                let counted_at = match (r.required("counted_at"), &interner.instants) {
                    (None, _) => None,
                    (Some(t), Some((prev, v))) if prev == t => Some(*v),
                    (Some(t), _) => {
                        let t = t.to_string();
                        match values::parse_instant(&t) {
                            Some(v) => {
                                interner.instants = Some((t, v));
                                Some(v)
                            }
                            None => {
                                r.problem(
                                    "counted_at",
                                    format!("`counted_at`: expected a date and time (2024-07-26 08:00, Paris time, or RFC 3339), found {t:?}"),
                                );
                                None
                            }
                        }
                    }
                };
                if let (Some(site_id), Some(item_id), Some(quantity), Some(condition), Some(counted_at), true) =
                    (site_id, item_id, quantity, condition, counted_at, r.ok)
                {
                    for (kind, field) in [(RefKind::Site, "site_id"), (RefKind::Item, "item_id")] {
                        let seen = interner.checked.entry((file_index, kind)).or_default();
                        let id = r.text(field);
                        if !seen.contains(id) {
                            seen.insert(id.to_string());
                            r.reference(kind, field);
                        }
                    }
                    if !interner.sites.contains_key(site_id.as_str()) {
                        interner.sites.insert(site_id.as_str().to_string(), site_id.clone());
                    }
                    if !interner.items.contains_key(item_id.as_str()) {
                        interner.items.insert(item_id.as_str().to_string(), item_id.clone());
                    }
                    let loc = r.loc(f, "site_id", "site_id", "item_id");
                    let attributes = r.attributes();
                    batch.stock.push((
                        site_id,
                        StockLine { item_id, quantity, condition, lot, expires_on, counted_at, attributes },
                        loc,
                    ));
                }
            }
        }
    }
    *batch.rows.entry(table).or_default() += n;
}

/// The TOC tables (docs/data-format.md): partners, applications, assets, checks, dependencies.
fn read_toc_row(batch: &mut TocRecords, table: Table, r: &mut RowReader<'_, '_>, f: u16) {
    let optional_id = |r: &mut RowReader<'_, '_>, name: &str| -> Option<Option<String>> {
        let t = r.text(name).to_string();
        if t.is_empty() {
            return Some(None);
        }
        match check_id(&t) {
            Ok(()) => Some(Some(t)),
            Err(e) => {
                r.problem(name, format!("`{name}`: {e}"));
                None
            }
        }
    };
    match table {
        Table::Partners => {
            let id = r.id("id", PartnerId::parse);
            let name = r.string("name");
            if let (Some(id), Some(name), true) = (id, name, r.ok) {
                let loc = r.loc(f, "id", "", "");
                batch.partners.push((toc::Partner { id, name, attributes: r.attributes() }, loc));
            }
        }
        Table::Applications => {
            let id = r.id("id", ApplicationId::parse);
            let name = r.string("name");
            let suite = r.string("suite");
            let criticality = r.choice("criticality", toc::Criticality::parse);
            let partner_id = optional_id(r, "partner_id").map(|p| p.map(|p| PartnerId::parse(&p).expect("checked")));
            let rollup = r.optional("rollup", MAX_NAME_CHARS).unwrap_or_default();
            if let Err(e) = Some(rollup.as_str()).filter(|t| !t.is_empty()).map_or(Ok(Rule::Worst), str::parse::<Rule>)
            {
                r.problem("rollup", format!("`rollup`: {e}"));
            }
            if let (Some(id), Some(name), Some(suite), Some(criticality), Some(partner_id), true) =
                (id, name, suite, criticality, partner_id, r.ok)
            {
                let loc = r.loc(f, "id", "partner_id", "");
                let attributes = r.attributes();
                let a = toc::Application { id, name, suite, criticality, partner_id, rollup, attributes };
                batch.applications.push((a, loc));
            }
        }
        Table::Assets => {
            let id = r.id("id", AssetId::parse);
            let name = r.string("name");
            let kind = r.string("kind").map(|k| k.to_lowercase());
            let site_id = r.id("site_id", SiteId::parse);
            let application_id =
                optional_id(r, "application_id").map(|a| a.map(|a| ApplicationId::parse(&a).expect("checked")));
            if let (Some(id), Some(name), Some(kind), Some(site_id), Some(application_id), true) =
                (id, name, kind, site_id, application_id, r.ok)
            {
                let loc = r.loc(f, "id", "site_id", "application_id");
                let attributes = r.attributes();
                batch.assets.push((toc::Asset { id, name, kind, site_id, application_id, attributes }, loc));
            }
        }
        Table::Checks => {
            let id = r.id("id", CheckId::parse);
            let target = r.checked("target", true, MAX_FREE_TEXT_CHARS, false).map(str::to_string);
            let kind = r.choice("kind", toc::CheckKind::parse);
            // A command check's target is a command line run without a shell: refused here if a shell would read
            // more into it than quoting (docs/monitoring.md).
            let target = match (target, kind) {
                (Some(t), Some(toc::CheckKind::Command)) => match vigie_monitor::command::split(&t) {
                    Ok(_) => Some(t),
                    Err(why) => {
                        r.problem("target", format!("`target`: {why}"));
                        None
                    }
                },
                (t, _) => t,
            };
            let site_id = optional_id(r, "site_id").map(|s| s.map(|s| SiteId::parse(&s).expect("checked")));
            let application_id =
                optional_id(r, "application_id").map(|a| a.map(|a| ApplicationId::parse(&a).expect("checked")));
            let asset_id = optional_id(r, "asset_id").map(|a| a.map(|a| AssetId::parse(&a).expect("checked")));
            let interval_s = r.count("interval_s").filter(|&v| {
                v > 0 || {
                    r.problem("interval_s", "`interval_s` must be at least 1".into());
                    false
                }
            });
            let timeout_s = r.count("timeout_s").filter(|&v| {
                v > 0 || {
                    r.problem("timeout_s", "`timeout_s` must be at least 1".into());
                    false
                }
            });
            let max_attempts = if r.text("max_attempts").is_empty() {
                Some(3)
            } else {
                match r.count("max_attempts") {
                    Some(v @ 1..=10) => Some(v as u8),
                    Some(v) => {
                        r.problem("max_attempts", format!("`max_attempts` must be between 1 and 10, found {v}"));
                        None
                    }
                    None => None,
                }
            };
            let ttl_s = if r.text("ttl_s").is_empty() { Some(None) } else { r.count("ttl_s").map(Some) };
            let labels_text = r.optional("labels", MAX_FREE_TEXT_CHARS).unwrap_or_default();
            let labels = match toc::parse_labels(&labels_text) {
                Some(l) => Some(l),
                None => {
                    r.problem(
                        "labels",
                        format!("`labels`: expected name=value pairs separated by commas, found {labels_text:?}"),
                    );
                    None
                }
            };
            let tags: Vec<String> = r
                .optional("tags", MAX_FREE_TEXT_CHARS)
                .unwrap_or_default()
                .split([',', '|'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            let expect = r.optional("expect", MAX_FREE_TEXT_CHARS).unwrap_or_default();
            if let (
                Some(id),
                Some(target),
                Some(kind),
                Some(site_id),
                Some(application_id),
                Some(asset_id),
                Some(interval_s),
                Some(timeout_s),
                Some(max_attempts),
                Some(ttl_s),
                Some(labels),
                true,
            ) = (
                id,
                target,
                kind,
                site_id,
                application_id,
                asset_id,
                interval_s,
                timeout_s,
                max_attempts,
                ttl_s,
                labels,
                r.ok,
            ) {
                let loc = r.loc(f, "id", "site_id", "asset_id");
                let attributes = r.attributes();
                batch.checks.push((
                    toc::Check {
                        id,
                        target,
                        kind,
                        site_id,
                        application_id,
                        asset_id,
                        interval_s,
                        timeout_s,
                        max_attempts,
                        ttl_s,
                        expect,
                        labels,
                        tags,
                        attributes,
                    },
                    loc,
                ));
            }
        }
        Table::Dependencies => {
            let child = r.id("child_id", CheckId::parse);
            let parent = r.id("parent_id", CheckId::parse);
            let group = r.optional("group", MAX_NAME_CHARS).unwrap_or_default();
            if let (Some(c), Some(p)) = (&child, &parent) {
                if c == p {
                    r.problem("parent_id", format!("{c} cannot depend on itself"));
                }
            }
            if let (Some(child), Some(parent), true) = (child, parent, r.ok) {
                let loc = r.loc(f, "child_id", "child_id", "parent_id");
                let group = if group.is_empty() { parent.to_string() } else { group };
                batch.dependencies.push((child.to_string(), group, parent.to_string(), loc));
            }
        }
        _ => unreachable!("not a TOC table"),
    }
}

fn unknown_table(file: &str, name: &str) -> Problem {
    let names: Vec<_> = Table::ALL.iter().map(|t| t.name()).collect();
    Problem::at(file, 1, 1, format!("{name:?} names no table; expected one of {}", names.join(", ")))
        .coded("import.unknown_table", [("name", name.to_string())])
}

/// Reads files into a batch. `progress(done, total)` is told how many bytes are read, from time to time.
pub fn read(files: &[SourceFile], progress: &mut dyn FnMut(usize, usize)) -> Batch {
    let mut batch = Batch::default();
    let mut interner = Interner::default();
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    let mut done = 0usize;
    for f in files {
        let lower = f.name.to_lowercase();
        if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") {
            let mut book = match xlsx::Workbook::open(&f.name, &f.bytes) {
                Ok(b) => b,
                Err(p) => {
                    batch.problems.push(p);
                    continue;
                }
            };
            for sheet in book.sheet_names().to_vec() {
                let display = format!("{}[{}]", f.name, sheet);
                let Some(table) = Table::from_name(&sheet) else {
                    batch.problems.push(unknown_table(&display, &sheet));
                    continue;
                };
                let mut rows = match book.rows(&sheet) {
                    Ok(r) => r,
                    Err(p) => {
                        batch.problems.push(p);
                        continue;
                    }
                };
                let idx = batch.files.len() as u16;
                batch.files.push(display.clone());
                read_rows(&mut batch, idx, &display, table, &mut rows, &mut interner, &mut |_| {});
            }
        } else {
            let Some(table) = Table::from_name(&f.name) else {
                batch.problems.push(unknown_table(&f.name, &f.name));
                continue;
            };
            let text = text::decode_text(&f.bytes);
            let delim = text::detect_delimiter(&text);
            let mut scanner = text::CsvScanner::new(&text, delim);
            let idx = batch.files.len() as u16;
            batch.files.push(f.name.clone());
            let name = f.name.clone();
            let (len, size, base) = (text.len().max(1), f.bytes.len(), done);
            let pos = std::cell::Cell::new(0usize);
            let mut it = std::iter::from_fn(|| {
                let r = scanner.next_row(&name).transpose();
                pos.set(scanner.position());
                r
            });
            read_rows(&mut batch, idx, &name, table, &mut it, &mut interner, &mut |_| {
                progress(base + pos.get() * size / len, total)
            });
        }
        done += f.bytes.len();
        progress(done, total);
    }
    readiness::expand(&mut batch);
    batch
}

/// What an import changes, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub files: Vec<String>,
    pub tables: BTreeMap<Table, TableReport>,
    /// Events the import appends (0 when everything is already known).
    pub events: usize,
    /// What a recount takes away: items a site held more of, or at all, than its new count says (a count replaces
    /// the site's lines), largest first; at most [`MAX_REDUCTIONS`], the rest counted in `reductions_more`.
    pub reductions: Vec<Reduction>,
    pub reductions_more: usize,
}

/// Reductions listed in a report (the rest are counted).
pub const MAX_REDUCTIONS: usize = 1_000;

/// An item a site's new count holds less of than the count it replaces (`after` 0: it disappears).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reduction {
    pub site_id: SiteId,
    pub item_id: ItemId,
    pub before: Quantity,
    pub after: Quantity,
}

/// Per item, what a site's count lines add up to.
fn totals(lines: &[StockLine]) -> BTreeMap<&ItemId, Quantity> {
    let mut m: BTreeMap<&ItemId, Quantity> = BTreeMap::new();
    for l in lines {
        *m.entry(&l.item_id).or_default() += l.quantity;
    }
    m
}

/// The events of an import and what they change.
#[derive(Debug, Clone)]
pub struct Plan {
    pub events: Vec<NewEvent>,
    pub report: Report,
}

struct Checker<'b> {
    batch: &'b Batch,
    problems: Problems,
}

impl Checker<'_> {
    fn at(&mut self, loc: Loc, col: usize, message: String) {
        let file = &self.batch.files[loc.file as usize];
        self.problems.push(Problem::at(file, loc.line, loc.cols[col].max(1), message));
    }
    fn place(&self, loc: Loc) -> String {
        format!("{}:{}", self.batch.files[loc.file as usize], loc.line)
    }
}

/// Reports every record whose key an earlier record of the batch has.
fn dups<K: std::hash::Hash + Eq + fmt::Display, T>(
    c: &mut Checker<'_>,
    what: &str,
    recs: &[(T, Loc)],
    key: impl Fn(&T) -> K,
) {
    let mut seen: HashMap<K, Loc> = HashMap::new();
    for (r, loc) in recs {
        let k = key(r);
        if let Some(first) = seen.get(&k) {
            let msg = format!("duplicate {what} {k} (first at {})", c.place(*first));
            c.at(*loc, 0, msg);
        } else {
            seen.insert(k, *loc);
        }
    }
}

/// The ids a reference may name: the batch's and the state's.
fn known<'a, K: std::borrow::Borrow<str> + 'a>(
    batch: impl Iterator<Item = &'a str>,
    state: impl Iterator<Item = &'a K>,
) -> HashSet<&'a str> {
    batch.chain(state.map(|k| k.borrow())).collect()
}

/// Checks the batch's references and duplicates against itself and `state`, then returns the events that bring
/// `state` up to the batch. Every problem is reported; with any problem, no event.
pub fn plan(batch: &Batch, state: &State, actor: &Actor) -> Result<Plan, Vec<Problem>> {
    let mut c = Checker { batch, problems: batch.problems.clone() };

    // Duplicates within the batch.
    dups(&mut c, "organization id", &batch.organizations, |o| o.id.clone());
    dups(&mut c, "site id", &batch.sites, |s| s.id.clone());
    dups(&mut c, "item id", &batch.items, |i| i.id.clone());
    dups(&mut c, "force id", &batch.forces, |f| f.id.clone());
    dups(&mut c, "vehicle id", &batch.vehicles, |v| v.id.clone());
    dups(&mut c, "allowance", &batch.allowances, |a| format!("{} per {}", a.item_id, a.basis));
    dups(&mut c, "partner id", &batch.toc.partners, |p| p.id.clone());
    dups(&mut c, "application id", &batch.toc.applications, |a| a.id.clone());
    dups(&mut c, "asset id", &batch.toc.assets, |a| a.id.clone());
    dups(&mut c, "check id", &batch.toc.checks, |k| k.id.clone());
    {
        let deps: Vec<(String, Loc)> =
            batch.toc.dependencies.iter().map(|(c, g, p, loc)| (format!("{c} on {p} (group {g})"), *loc)).collect();
        dups(&mut c, "dependency", &deps, |d| d.clone());
    }

    // References: to the batch or to what is already known.
    let orgs: HashSet<&str> = batch
        .organizations
        .iter()
        .map(|(o, _)| o.id.as_str())
        .chain(state.organizations.keys().map(|k| k.as_str()))
        .collect();
    let sites: HashSet<&str> =
        batch.sites.iter().map(|(s, _)| s.id.as_str()).chain(state.sites.keys().map(|k| k.as_str())).collect();
    let items: HashSet<&str> =
        batch.items.iter().map(|(i, _)| i.id.as_str()).chain(state.items.keys().map(|k| k.as_str())).collect();
    for (o, loc) in &batch.organizations {
        if o.parent_id.as_ref() == Some(&o.id) {
            c.at(*loc, 1, format!("organization {} cannot be its own parent", o.id));
        }
    }
    let toc = &state.toc;
    let partners: HashSet<&str> =
        batch.toc.partners.iter().map(|(p, _)| p.id.as_str()).chain(toc.partners.keys().map(|k| k.as_str())).collect();
    let applications: HashSet<&str> = batch
        .toc
        .applications
        .iter()
        .map(|(a, _)| a.id.as_str())
        .chain(toc.applications.keys().map(|k| k.as_str()))
        .collect();
    let assets: HashSet<&str> =
        batch.toc.assets.iter().map(|(a, _)| a.id.as_str()).chain(toc.assets.keys().map(|k| k.as_str())).collect();
    let checks: HashSet<&str> =
        batch.toc.checks.iter().map(|(k, _)| k.id.as_str()).chain(toc.checks.keys().map(|k| k.as_str())).collect();
    let zones = known(batch.readiness.zones.iter().map(|(x, _)| x.id.as_str()), state.readiness.zones.keys());
    let tasks = known(batch.readiness.tasks.iter().map(|(x, _)| x.id.as_str()), state.readiness.tasks.keys());
    readiness::check(&mut c, state);
    oncall::check(&mut c);
    let people = known(batch.oncall.people.iter().map(|(x, _)| x.id.as_str()), state.oncall.people.keys());
    let teams = known(batch.oncall.teams.iter().map(|(x, _)| x.id.as_str()), state.oncall.teams.keys());
    for r in &batch.refs {
        let id = r.id.as_str();
        let (known, what) = match r.kind {
            RefKind::Organization => (orgs.contains(id), "organization"),
            RefKind::Site => (sites.contains(id), "site"),
            RefKind::Item => (items.contains(id), "item"),
            RefKind::Partner => (partners.contains(id), "partner"),
            RefKind::Application => (applications.contains(id), "application"),
            RefKind::Asset => (assets.contains(id), "asset"),
            RefKind::Supervised => (checks.contains(id) || assets.contains(id), "check or asset"),
            RefKind::Zone => (zones.contains(id), "zone"),
            RefKind::Task => (tasks.contains(id), "task"),
            RefKind::Person => (people.contains(id), "person"),
            RefKind::Team => (teams.contains(id), "team"),
        };
        if !known {
            let file = &batch.files[r.file as usize];
            c.problems.push(
                Problem::at(file, r.line, r.column, format!("unknown {what} {} in `{}`", r.id, r.field)).coded(
                    "import.unknown_ref",
                    [("what", what.to_string()), ("id", r.id.to_string()), ("column", r.field.to_string())],
                ),
            );
        }
    }
    if !c.problems.is_empty() {
        return Err(c.problems.into_report());
    }

    // Diff against the state.
    let mut d = Differ {
        batch,
        actor,
        report: Report { files: batch.files.clone(), ..Default::default() },
        events: Vec::new(),
    };
    d.diff(
        Table::Organizations,
        &batch.organizations,
        |o| state.organizations.get(&o.id).map(|x| &x.value),
        Event::OrganizationUpserted,
    );
    d.diff(Table::Sites, &batch.sites, |s| state.sites.get(&s.id).map(|x| &x.value), Event::SiteUpserted);
    d.diff(Table::Items, &batch.items, |i| state.items.get(&i.id).map(|x| &x.value), Event::ItemUpserted);
    d.diff(
        Table::Allowances,
        &batch.allowances,
        |a| state.allowances.get(&(a.item_id.clone(), a.basis)).map(|x| &x.value),
        Event::AllowanceSet,
    );
    d.diff(Table::Forces, &batch.forces, |f| state.forces.get(&f.id).map(|x| &x.value), Event::ForceUpserted);
    d.diff(Table::Vehicles, &batch.vehicles, |v| state.vehicles.get(&v.id).map(|x| &x.value), Event::VehicleUpserted);
    d.diff(Table::Partners, &batch.toc.partners, |p| toc.partners.get(&p.id).map(|x| &x.value), Event::PartnerUpserted);
    d.diff(
        Table::Applications,
        &batch.toc.applications,
        |a| toc.applications.get(&a.id).map(|x| &x.value),
        Event::ApplicationUpserted,
    );
    d.diff(Table::Assets, &batch.toc.assets, |a| toc.assets.get(&a.id).map(|x| &x.value), Event::AssetUpserted);
    d.diff(Table::Checks, &batch.toc.checks, |k| toc.checks.get(&k.id).map(|x| &x.value), Event::CheckUpserted);
    // Dependency rows with the same child and group make one record (a redundancy group).
    let mut groups: Vec<(toc::Dependency, Loc)> = Vec::new();
    let mut at: HashMap<(&str, &str), usize> = HashMap::new();
    for (child, group, parent, loc) in &batch.toc.dependencies {
        let k = *at.entry((child.as_str(), group.as_str())).or_insert_with(|| {
            groups.push((toc::Dependency { child: child.clone(), group: group.clone(), parents: Vec::new() }, *loc));
            groups.len() - 1
        });
        groups[k].0.parents.push(parent.clone());
    }
    for (g, _) in &mut groups {
        g.parents.sort();
    }
    d.diff(
        Table::Dependencies,
        &groups,
        |g| toc.dependencies.get(&(g.child.clone(), g.group.clone())),
        Event::DependencySet,
    );
    if let Some(r) = d.report.tables.get_mut(&Table::Dependencies) {
        r.rows = batch.toc.dependencies.len();
    }
    readiness::diff(&mut d, state);
    oncall::diff(&mut d, state);
    let Differ { mut report, mut events, .. } = d;
    let source = |loc: &Loc| format!("import:{}", batch.files[loc.file as usize]);
    if !batch.stock.is_empty() {
        // A count replaces each named site's lines: group the lines by site, in order of first appearance.
        let mut order: Vec<(&SiteId, Loc)> = Vec::new();
        let mut by_site: HashMap<&SiteId, Vec<StockLine>> = HashMap::new();
        for (site, line, loc) in &batch.stock {
            by_site
                .entry(site)
                .or_insert_with(|| {
                    order.push((site, *loc));
                    Vec::new()
                })
                .push(line.clone());
        }
        let r = report.tables.entry(Table::Stock).or_default();
        r.rows = batch.stock.len();
        let mut reductions = Vec::new();
        for (site, loc) in order {
            let lines = by_site.remove(site).unwrap_or_default();
            match state.stock_of(site.as_str()) {
                Some(cur) if cur.lines == lines => {
                    r.unchanged += lines.len();
                    continue;
                }
                Some(cur) => {
                    r.updated += lines.len();
                    let after = totals(&lines);
                    for (item, before) in totals(&cur.lines) {
                        let now = after.get(item).copied().unwrap_or_default();
                        if now < before {
                            let (site_id, item_id) = (site.clone(), item.clone());
                            reductions.push(Reduction { site_id, item_id, before, after: now });
                        }
                    }
                }
                None => r.created += lines.len(),
            }
            events.push(NewEvent {
                actor: actor.clone(),
                source: source(&loc),
                event: Event::StockCounted(StockCount { site_id: site.clone(), lines }),
            });
        }
        // Disappearances first, then the largest cuts.
        reductions.sort_by(|a, b| {
            (a.after > Quantity::ZERO, b.before - b.after).cmp(&(b.after > Quantity::ZERO, a.before - a.after))
        });
        report.reductions_more = reductions.len().saturating_sub(MAX_REDUCTIONS);
        reductions.truncate(MAX_REDUCTIONS);
        report.reductions = reductions;
    }
    report.events = events.len();
    Ok(Plan { events, report })
}

/// Turns a table's records into events for those that differ from the state, counting what changes.
struct Differ<'b> {
    batch: &'b Batch,
    actor: &'b Actor,
    report: Report,
    events: Vec<NewEvent>,
}

impl Differ<'_> {
    fn diff<'s, T: Clone + PartialEq + 's>(
        &mut self,
        table: Table,
        recs: &[(T, Loc)],
        current: impl Fn(&T) -> Option<&'s T>,
        make: fn(T) -> Event,
    ) {
        if recs.is_empty() {
            return;
        }
        let r = self.report.tables.entry(table).or_default();
        for (rec, loc) in recs {
            r.rows += 1;
            match current(rec) {
                Some(cur) if cur == rec => {
                    r.unchanged += 1;
                    continue;
                }
                Some(_) => r.updated += 1,
                None => r.created += 1,
            }
            let source = format!("import:{}", self.batch.files[loc.file as usize]);
            self.events.push(NewEvent { actor: self.actor.clone(), source, event: make(rec.clone()) });
        }
    }
}
