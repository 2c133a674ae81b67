//! The readiness tables (issue 16, docs/data-format.md): `zones`, `tasks`, `task_links`, `computers` and
//! `zone_templates`. Read row by row with located problems like every table; [`expand`] then gives every zone of the
//! batch the tasks and links of its kind's template (a task or link the batch lists itself wins); [`check`] checks
//! what only the whole batch and the state can say — zones on their site, links between known tasks, no cycle (the
//! cycle's links located) — and [`diff`] turns the batch into events.

use super::*;
use chrono::{DateTime, Utc};
use vigie_domain::readiness::{Computer, ComputerRole, DeploymentState, Task, TaskLink, Trade, Zone};
use vigie_domain::{ComputerId, TaskId, ZoneId};

/// Records of the readiness tables.
#[derive(Debug, Default)]
pub(crate) struct ReadinessRecords {
    pub zones: Vec<(Zone, Loc)>,
    pub tasks: Vec<(Task, Loc)>,
    pub links: Vec<(TaskLink, Loc)>,
    pub computers: Vec<(Computer, Loc)>,
    pub templates: Vec<(TemplateRow, Loc)>,
}

/// One row of `zone_templates`: a task every zone of `kind` gets (`count` of it: one per computer).
#[derive(Debug)]
pub(crate) struct TemplateRow {
    kind: String,
    key: String,
    name: String,
    trade: Trade,
    owner: PartnerId,
    duration_min: u32,
    after: Vec<String>,
    lag_min: u32,
    count: u32,
}

/// Copies of one template task in a zone (computers to install: one task each).
pub const MAX_TEMPLATE_COUNT: u32 = 1_000;
/// Tasks the templates of one import may create.
pub const MAX_TEMPLATE_TASKS: usize = 500_000;
/// Links the templates of one import may create (each copy of a counted task follows every copy of its
/// predecessors: 1,000 computers after 1,000 others are a million links).
pub const MAX_TEMPLATE_LINKS: u64 = 2_000_000;

/// A template task's key: letters, digits, `-` and `_` (it ends task ids `SITE/ZONE/key`, `SITE/ZONE/key.n`).
fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 40 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Err(format!("{key:?}: a template key is 1 to 40 letters, digits, `-` or `_`"))
    } else {
        Ok(())
    }
}

pub(crate) fn optional_instant(r: &mut RowReader<'_, '_>, name: &str) -> Option<Option<DateTime<Utc>>> {
    let t = r.text(name).trim();
    if t.is_empty() {
        return Some(None);
    }
    match values::parse_instant(t) {
        Some(v) => Some(Some(v)),
        None => {
            let t = t.to_string();
            r.problem(
                name,
                format!("`{name}`: expected a date and time (2024-07-26 08:00, Paris time, or RFC 3339), found {t:?}"),
            );
            None
        }
    }
}

pub(crate) fn optional<T>(
    r: &mut RowReader<'_, '_>,
    name: &str,
    parse: fn(&str) -> Result<T, vigie_domain::ids::IdError>,
) -> Option<Option<T>> {
    if r.text(name).trim().is_empty() {
        Some(None)
    } else {
        r.id(name, parse).map(Some)
    }
}

/// Reads one row of a readiness table into `batch`.
pub(crate) fn read_row(batch: &mut ReadinessRecords, table: Table, r: &mut RowReader<'_, '_>, f: u16) {
    match table {
        Table::Zones => {
            r.reference(RefKind::Site, "site_id");
            let id = r.id("id", ZoneId::parse);
            let site_id = r.id("site_id", SiteId::parse);
            let name = r.string("name");
            let kind = r.optional("kind", MAX_NAME_CHARS).unwrap_or_default();
            let image = r.optional("image", MAX_NAME_CHARS).unwrap_or_default();
            let deadline = optional_instant(r, "deadline");
            if let (Some(id), Some(site_id), Some(name), Some(deadline), true) = (id, site_id, name, deadline, r.ok) {
                let loc = r.loc(f, "id", "site_id", "");
                let attributes = r.attributes();
                batch.zones.push((Zone { id, site_id, name, kind, image, deadline, attributes }, loc));
            }
        }
        Table::Tasks => {
            r.reference(RefKind::Site, "site_id");
            r.reference(RefKind::Zone, "zone_id");
            r.reference(RefKind::Partner, "owner");
            let id = r.id("id", TaskId::parse);
            let site_id = r.id("site_id", SiteId::parse);
            let zone_id = r.id("zone_id", ZoneId::parse);
            let name = r.string("name");
            let trade = r.choice("trade", Trade::parse);
            let owner = r.id("owner", PartnerId::parse);
            let duration_min = r.count("duration_min");
            let due = optional_instant(r, "due");
            let plan_id = optional(r, "plan_id", |s| vigie_domain::ids::check_id(s).map(|()| PlanId(s.to_string())));
            if let (
                Some(id),
                Some(site_id),
                Some(zone_id),
                Some(name),
                Some(trade),
                Some(owner),
                Some(duration_min),
                Some(due),
                Some(plan_id),
                true,
            ) = (id, site_id, zone_id, name, trade, owner, duration_min, due, plan_id, r.ok)
            {
                let loc = r.loc(f, "id", "zone_id", "owner");
                let attributes = r.attributes();
                let t = Task { id, site_id, zone_id, name, trade, owner, duration_min, due, plan_id, attributes };
                batch.tasks.push((t, loc));
            }
        }
        Table::TaskLinks => {
            r.reference(RefKind::Task, "before_id");
            r.reference(RefKind::Task, "after_id");
            let before = r.id("before_id", TaskId::parse);
            let after = r.id("after_id", TaskId::parse);
            let lag_min = if r.text("lag_min").trim().is_empty() { Some(0) } else { r.count("lag_min") };
            if let (Some(b), Some(a)) = (&before, &after) {
                if a == b {
                    r.problem("after_id", format!("task {a} cannot come after itself"));
                }
            }
            if let (Some(before), Some(after), Some(lag_min), true) = (before, after, lag_min, r.ok) {
                let loc = r.loc(f, "before_id", "before_id", "after_id");
                batch.links.push((TaskLink { before, after, lag_min, removed: false }, loc));
            }
        }
        Table::Computers => {
            r.reference(RefKind::Site, "site_id");
            r.reference(RefKind::Zone, "zone_id");
            r.reference(RefKind::Asset, "asset_id");
            let id = r.id("id", ComputerId::parse);
            let model = r.string("model");
            let site_id = r.id("site_id", SiteId::parse);
            let zone_id = optional(r, "zone_id", ZoneId::parse);
            let role = r.choice("role", ComputerRole::parse);
            let state = r.choice("state", DeploymentState::parse);
            let image = r.optional("image", MAX_NAME_CHARS).unwrap_or_default();
            let image_version = r.optional("image_version", MAX_NAME_CHARS).unwrap_or_default();
            let asset_id = optional(r, "asset_id", AssetId::parse);
            if let (
                Some(id),
                Some(model),
                Some(site_id),
                Some(zone_id),
                Some(role),
                Some(state),
                Some(asset_id),
                true,
            ) = (id, model, site_id, zone_id, role, state, asset_id, r.ok)
            {
                let loc = r.loc(f, "id", "site_id", "zone_id");
                let attributes = r.attributes();
                let c =
                    Computer { id, model, site_id, zone_id, role, image, image_version, state, asset_id, attributes };
                batch.computers.push((c, loc));
            }
        }
        Table::ZoneTemplates => {
            r.reference(RefKind::Partner, "owner");
            let kind = r.string("kind");
            let key = r.string("key");
            if let Some(Err(e)) = key.as_deref().map(check_key) {
                r.problem("key", format!("`key`: {e}"));
            }
            let name = r.string("name");
            let trade = r.choice("trade", Trade::parse);
            let owner = r.id("owner", PartnerId::parse);
            let duration_min = r.count("duration_min");
            let after: Vec<String> = r
                .text("after")
                .split([',', '|', ' '])
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect();
            if let Some(e) = after.iter().find_map(|k| check_key(k).err()) {
                r.problem("after", format!("`after`: {e}"));
            }
            let lag_min = if r.text("lag_min").trim().is_empty() { Some(0) } else { r.count("lag_min") };
            let count = if r.text("count").trim().is_empty() { Some(1) } else { r.count("count") };
            if let Some(n) = count.filter(|n| !(1..=MAX_TEMPLATE_COUNT).contains(n)) {
                r.problem("count", format!("`count`: from 1 to {MAX_TEMPLATE_COUNT} copies, found {n}"));
            }
            if let (
                Some(kind),
                Some(key),
                Some(name),
                Some(trade),
                Some(owner),
                Some(duration_min),
                Some(lag_min),
                Some(count),
                true,
            ) = (kind, key, name, trade, owner, duration_min, lag_min, count, r.ok)
            {
                let loc = r.loc(f, "key", "after", "owner");
                let row = TemplateRow { kind, key, name, trade, owner, duration_min, after, lag_min, count };
                batch.templates.push((row, loc));
            }
        }
        _ => unreachable!("not a readiness table"),
    }
}

/// Gives every zone of the batch the tasks and links of its kind's template, as if the batch listed them: ids
/// `SITE/ZONE/key` (`SITE/ZONE/key.n`, named "name n° n", for the n-th of a counted task), due by the zone's
/// deadline, located at their template row. A task or link the batch lists itself wins over the template's. A
/// template with a key given twice, a predecessor it does not have, or a cycle is refused, located, and expands
/// nothing.
pub(crate) fn expand(batch: &mut Batch) {
    let b = &mut batch.readiness;
    if b.templates.is_empty() {
        return;
    }
    let files = &batch.files;
    let mut problems: Vec<(Loc, usize, String)> = Vec::new();
    let mut kinds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (row, _)) in b.templates.iter().enumerate() {
        kinds.entry(row.kind.as_str()).or_default().push(i);
    }
    let mut templates: HashMap<String, (vigie_readiness::Template, HashMap<String, usize>)> = HashMap::new();
    for (kind, rows) in kinds {
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut ok = true;
        for &i in &rows {
            let (row, loc) = &b.templates[i];
            if let Some(&first) = keys.get(&row.key) {
                let at = &b.templates[first].1;
                let place = format!("{}:{}", files[at.file as usize], at.line);
                problems.push((
                    *loc,
                    0,
                    format!("template {kind}: task {} is given twice (first at {place})", row.key),
                ));
                ok = false;
            } else {
                keys.insert(row.key.clone(), i);
            }
        }
        for &i in &rows {
            let (row, loc) = &b.templates[i];
            for a in row.after.iter().filter(|a| !keys.contains_key(*a)) {
                problems.push((
                    *loc,
                    1,
                    format!("template {kind}: task {} comes after {a}, which it does not have", row.key),
                ));
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        // Its size, counted before anything is made of it, for one zone and for all the zones of its kind.
        let count = |key: &str| keys.get(key).map_or(0, |&i| u64::from(b.templates[i].0.count));
        let per_zone_tasks: u64 = rows.iter().map(|&i| u64::from(b.templates[i].0.count)).sum();
        let per_zone_links: u64 = rows
            .iter()
            .map(|&i| {
                let row = &b.templates[i].0;
                row.after.iter().map(|a| u64::from(row.count).saturating_mul(count(a))).sum::<u64>()
            })
            .sum();
        let zones = b.zones.iter().filter(|(z, _)| z.kind == kind).count() as u64;
        let (tasks, links) = (per_zone_tasks.saturating_mul(zones.max(1)), per_zone_links.saturating_mul(zones.max(1)));
        if tasks > MAX_TEMPLATE_TASKS as u64 || links > MAX_TEMPLATE_LINKS {
            let at = b.templates[rows[0]].1;
            problems.push((
                at,
                0,
                format!(
                    "template {kind}: {per_zone_tasks} tasks and {per_zone_links} links per zone, for {zones} zone(s): \
                     more than {MAX_TEMPLATE_TASKS} tasks or {MAX_TEMPLATE_LINKS} links in one import; split it"
                ),
            ));
            continue;
        }
        let template = vigie_readiness::Template {
            kind: kind.to_string(),
            tasks: rows
                .iter()
                .map(|&i| {
                    let row = &b.templates[i].0;
                    vigie_readiness::TemplateTask {
                        key: row.key.clone(),
                        trade: row.trade.as_str().to_string(),
                        owner: row.owner.to_string(),
                        duration: row.duration_min.into(),
                        after: row.after.iter().map(|a| (a.clone(), row.lag_min.into())).collect(),
                        count: row.count,
                    }
                })
                .collect(),
        };
        // The template's own cycles, found once on a copy of it.
        let cycle = template.instantiate("S", "Z", None).ok().and_then(|(tasks, deps)| {
            match vigie_readiness::Network::new(tasks, &deps) {
                Err(vigie_readiness::NetworkError::Cycle { cycle }) => Some(cycle),
                _ => None,
            }
        });
        if let Some(cycle) = cycle {
            let on: Vec<&str> =
                cycle.iter().map(|id| id.trim_start_matches("S/Z/").split('.').next().unwrap_or("")).collect();
            for &i in &rows {
                let (row, loc) = &b.templates[i];
                if on.contains(&row.key.as_str()) {
                    problems.push((*loc, 1, format!("template {kind}: its tasks make a cycle ({})", on.join(" → "))));
                }
            }
            continue;
        }
        templates.insert(kind.to_string(), (template, keys));
    }
    let listed: HashSet<TaskId> = b.tasks.iter().map(|(t, _)| t.id.clone()).collect();
    let linked: HashSet<(TaskId, TaskId)> = b.links.iter().map(|(l, _)| (l.before.clone(), l.after.clone())).collect();
    let (mut tasks, mut links) = (Vec::new(), Vec::new());
    for (zone, zone_loc) in &b.zones {
        let Some((template, keys)) = templates.get(&zone.kind) else { continue };
        let Ok((made, deps)) = template.instantiate(zone.site_id.as_str(), zone.id.as_str(), None) else { continue };
        if tasks.len() + made.len() > MAX_TEMPLATE_TASKS || (links.len() + deps.len()) as u64 > MAX_TEMPLATE_LINKS {
            problems.push((
                *zone_loc,
                0,
                format!(
                    "the templates would create more than {MAX_TEMPLATE_TASKS} tasks or {MAX_TEMPLATE_LINKS} links in \
                     one import: split it"
                ),
            ));
            break;
        }
        let prefix = format!("{}/{}/", zone.site_id, zone.id);
        let row_of = |id: &str| -> Option<usize> {
            let key = id.strip_prefix(&prefix)?;
            keys.get(key.split('.').next()?).copied()
        };
        for t in made {
            let Some(i) = row_of(&t.id) else { continue };
            let (row, loc) = &b.templates[i];
            let id = match TaskId::parse(&t.id) {
                Ok(id) => id,
                Err(e) => {
                    problems.push((*zone_loc, 0, format!("zone {}: task id {}: {e}", zone.id, t.id)));
                    continue;
                }
            };
            if listed.contains(&id) {
                continue;
            }
            let name = match t.id.rsplit_once('.') {
                Some((_, n)) if row.count > 1 => format!("{} n° {n}", row.name),
                _ => row.name.clone(),
            };
            let task = Task {
                id,
                site_id: zone.site_id.clone(),
                zone_id: zone.id.clone(),
                name,
                trade: row.trade,
                owner: row.owner.clone(),
                duration_min: row.duration_min,
                due: zone.deadline,
                plan_id: None,
                attributes: Default::default(),
            };
            tasks.push((task, *loc));
        }
        for d in deps {
            let Some(i) = row_of(&d.after) else { continue };
            let (Ok(before), Ok(after)) = (TaskId::parse(&d.before), TaskId::parse(&d.after)) else { continue };
            if linked.contains(&(before.clone(), after.clone())) {
                continue;
            }
            let (row, loc) = &b.templates[i];
            links.push((TaskLink { before, after, lag_min: row.lag_min, removed: false }, *loc));
        }
    }
    b.tasks.extend(tasks);
    b.links.extend(links);
    for (loc, col, message) in problems {
        batch.problems.push(Problem::at(&batch.files[loc.file as usize], loc.line, loc.cols[col].max(1), message));
    }
}

/// What only the whole batch and the state say: duplicates, a task's zone on the task's site, a computer's zone on
/// its site, links between tasks known to the batch or the state, and no cycle among the tasks once the batch's
/// links are added to the state's (each link of a cycle located).
pub(crate) fn check(c: &mut Checker<'_>, state: &State) {
    let batch: &Batch = c.batch;
    let b = &batch.readiness;
    dups(c, "zone id", &b.zones, |z| z.id.clone());
    dups(c, "task id", &b.tasks, |t| t.id.clone());
    dups(c, "computer id", &b.computers, |k| k.id.clone());
    dups(c, "task link", &b.links, |l| format!("{} → {}", l.before, l.after));
    let zone_site = |id: &ZoneId| -> Option<SiteId> {
        b.zones
            .iter()
            .find(|(z, _)| &z.id == id)
            .map(|(z, _)| z.site_id.clone())
            .or_else(|| state.readiness.zones.get(id).map(|z| z.value.site_id.clone()))
    };
    let mut wrong = Vec::new();
    for (t, loc) in &b.tasks {
        if let Some(s) = zone_site(&t.zone_id).filter(|s| s != &t.site_id) {
            wrong.push((*loc, 1, format!("zone {} is at site {s}, not at {}", t.zone_id, t.site_id)));
        }
    }
    for (k, loc) in &b.computers {
        if let Some(z) = &k.zone_id {
            if let Some(s) = zone_site(z).filter(|s| s != &k.site_id) {
                wrong.push((*loc, 2, format!("zone {z} is at site {s}, not at {}", k.site_id)));
            }
        }
    }
    for (loc, col, msg) in wrong {
        c.at(loc, col, msg);
    }
    // Cycles: the state's tasks and links with the batch's.
    let mut tasks: Vec<vigie_readiness::Task> = Vec::new();
    let mut seen = HashSet::new();
    let names = b.tasks.iter().map(|(t, _)| t.id.as_str()).chain(state.readiness.tasks.keys().map(|k| k.as_str()));
    for id in names {
        if seen.insert(id) {
            tasks.push(vigie_readiness::Task {
                id: id.to_string(),
                site: String::new(),
                zone: String::new(),
                trade: String::new(),
                owner: String::new(),
                duration: 0,
                due: None,
                state: vigie_readiness::TaskState::Todo,
            });
        }
    }
    let mut deps: Vec<vigie_readiness::Dependency> = state
        .readiness
        .links
        .keys()
        .map(|(bf, af)| vigie_readiness::Dependency { before: bf.to_string(), after: af.to_string(), lag: 0 })
        .collect();
    let from_state = deps.len();
    deps.extend(b.links.iter().map(|(l, _)| vigie_readiness::Dependency {
        before: l.before.to_string(),
        after: l.after.to_string(),
        lag: 0,
    }));
    if let Err(vigie_readiness::NetworkError::Cycle { cycle }) = vigie_readiness::Network::new(tasks, &deps) {
        let on: HashSet<&str> = cycle.iter().map(String::as_str).collect();
        let mut located = false;
        let msgs: Vec<(Loc, String)> = deps[from_state..]
            .iter()
            .zip(&b.links)
            .filter(|(d, _)| on.contains(d.before.as_str()) && on.contains(d.after.as_str()))
            .map(|(d, (_, loc))| {
                (*loc, format!("this link closes a cycle of tasks ({}): {} → {}", cycle.join(" → "), d.before, d.after))
            })
            .collect();
        for (loc, msg) in msgs {
            located = true;
            c.at(loc, 0, msg);
        }
        if !located {
            if let Some((_, loc)) = b.links.first() {
                c.at(*loc, 0, format!("the links make a cycle of tasks: {}", cycle.join(" → ")));
            }
        }
    }
}

/// The events that bring the state up to the batch's readiness records.
pub(crate) fn diff(d: &mut Differ<'_>, state: &State) {
    let r = &state.readiness;
    let batch: &Batch = d.batch;
    let b = &batch.readiness;
    d.diff(Table::Zones, &b.zones, |z| r.zones.get(&z.id).map(|x| &x.value), Event::ZoneUpserted);
    d.diff(Table::Tasks, &b.tasks, |t| r.tasks.get(&t.id).map(|x| &x.value), Event::TaskUpserted);
    let known: Vec<(TaskLink, Loc)> = b.links.clone();
    let current: HashMap<(TaskId, TaskId), TaskLink> = r
        .links
        .iter()
        .map(|((bf, af), lag)| {
            (
                (bf.clone(), af.clone()),
                TaskLink { before: bf.clone(), after: af.clone(), lag_min: *lag, removed: false },
            )
        })
        .collect();
    d.diff(Table::TaskLinks, &known, |l| current.get(&(l.before.clone(), l.after.clone())), Event::TaskLinked);
    d.diff(Table::Computers, &b.computers, |k| r.computers.get(&k.id).map(|x| &x.value), Event::ComputerUpserted);
}
