//! Import: good files in every accepted form, bad files with every kind of problem located to the cell.

use vigie_domain::*;
use vigie_import::{plan, read, Plan, Problem, SourceFile};

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile { name: name.into(), bytes: text.as_bytes().to_vec() }
}

fn actor() -> Actor {
    Actor::parse("cli:test").unwrap()
}

fn import(state: &State, files: &[SourceFile]) -> Result<Plan, Vec<Problem>> {
    plan(&read(files, &mut |_, _| {}), state, &actor())
}

/// Applies a plan's events to a state, as the journal would.
fn apply(state: &mut State, plan: &Plan) {
    for e in &plan.events {
        let seq = state.last_seq + 1;
        state.apply(&Envelope {
            seq,
            id: uuid_like(seq),
            time: chrono::DateTime::from_timestamp(1_722_000_000, 0).unwrap(),
            actor: e.actor.clone(),
            origin: "test".into(),
            source: e.source.as_str().into(),
            event: e.event.clone(),
        });
    }
}

fn uuid_like(n: u64) -> uuid::Uuid {
    uuid::Uuid::from_u128(n as u128)
}

const ORGS: &str =
    "id,name,level,parent_id\nCPCO,Centre de planification,strategic,\nGSBDD-IDF,GSBdD Île-de-France,tactical,CPCO\n";
const SITES_SEMI: &str = "\u{feff}id;name;kind;lat;lon;organization_id;city;commentaire\nSTA;Stade de France;venue;48,924475;2,360127;GSBDD-IDF;Saint-Denis;tribune nord\nDEP1;Dépôt de Vincennes;depot;48,8425;2,435;GSBDD-IDF;Vincennes;\n";
const ITEMS: &str = "id,name,category,unit,unit_mass_kg,unit_volume_m3\nPLATE,Plaque balistique,protection,each,\"2,9\",0.004\nRATION,Ration de combat,food,each,0.9,0.002\n";
const STOCK: &str = "site_id;item_id;quantity;condition;lot;expires_on;counted_at\nDEP1;PLATE;1 200;serviceable;L1;;2024-07-20 08:00\nDEP1;PLATE;35;unserviceable;L2;;2024-07-20 08:00\nDEP1;RATION;4000,5;serviceable;R9;31/12/2025;20/07/2024 08:00\n";
const ALLOWANCES: &str = "item_id,basis,quantity\nPLATE,person,2\nRATION,person_day,1\n";
const FORCES: &str = "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF1,Sentinelle STA,STA,1200,GSBDD-IDF,2024-07-15,2024-08-15\n";
const VEHICLES: &str =
    "id,site_id,kind,seats,payload_kg,cargo_m3,speed_kmh,condition\nV1,DEP1,Truck,2,8000,30,,serviceable\n";

fn good_files() -> Vec<SourceFile> {
    vec![
        file("organizations.csv", ORGS),
        file("sites.csv", SITES_SEMI),
        file("items.csv", ITEMS),
        file("stock-idf.csv", STOCK),
        file("allowances.csv", ALLOWANCES),
        file("forces.csv", FORCES),
        file("vehicles.csv", VEHICLES),
    ]
}

#[test]
fn good_files_in_both_delimiters_with_decimal_commas_and_bom() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    // 2 orgs + 2 sites + 2 items + 2 allowances + 1 force + 1 vehicle + 1 stock count (one site).
    assert_eq!(p.events.len(), 11);
    assert_eq!(p.report.events, 11);
    apply(&mut st, &p);
    let sta = &st.sites[&SiteId::parse("STA").unwrap()].value;
    assert_eq!((sta.lat, sta.lon), (48.924475, 2.360127));
    assert_eq!(sta.attributes.get("commentaire").map(String::as_str), Some("tribune nord"));
    assert_eq!(st.sites[&SiteId::parse("DEP1").unwrap()].value.name, "Dépôt de Vincennes");
    assert_eq!(st.items[&ItemId::parse("PLATE").unwrap()].value.unit_mass_kg, 2.9);
    let lines = &st.stock_of("DEP1").unwrap().lines;
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].quantity, Quantity::from_units(1200));
    assert_eq!(lines[2].quantity.to_string(), "4000.5");
    assert_eq!(lines[2].expires_on, chrono::NaiveDate::from_ymd_opt(2025, 12, 31));
    // 08:00 in Paris in July is 06:00 UTC.
    assert_eq!(lines[0].counted_at.to_rfc3339(), "2024-07-20T06:00:00+00:00");
    assert_eq!(st.vehicles[&VehicleId::parse("V1").unwrap()].value.kind, "truck");
    assert_eq!(st.stock_of("DEP1").unwrap().stamp.source.as_ref(), "import:stock-idf.csv");
}

#[test]
fn importing_the_same_files_twice_changes_nothing() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    apply(&mut st, &p);
    let again = import(&st, &good_files()).unwrap();
    assert!(again.events.is_empty(), "{:?}", again.events);
    assert_eq!(again.report.tables.values().map(|t| t.unchanged).sum::<usize>(), 13);
    // A changed figure is one new event; other records stay unchanged.
    let mut files = good_files();
    files[3] = file("stock-idf.csv", &STOCK.replace("1 200", "1 100"));
    let third = import(&st, &files).unwrap();
    assert_eq!(third.events.len(), 1);
    assert_eq!(third.events[0].event.kind(), "stock.counted");
    assert_eq!(third.report.reductions.len(), 1, "1,200 + 35 plates become 1,100 + 35");
}

/// A recount with fewer lines says what it takes away, not just "updated": the rations disappear, the plates fall.
#[test]
fn a_recount_reports_what_it_takes_away() {
    let mut st = State::new();
    let first = import(&st, &good_files()).unwrap();
    apply(&mut st, &first);
    let header = STOCK.lines().next().unwrap();
    let recount = format!("{header}\nDEP1;PLATE;900;serviceable;L1;;2024-07-21 08:00\n");
    let p = import(&st, &[file("stock-recount.csv", &recount)]).unwrap();
    let r: Vec<(&str, &str, String, String)> = p
        .report
        .reductions
        .iter()
        .map(|r| (r.site_id.as_str(), r.item_id.as_str(), r.before.to_string(), r.after.to_string()))
        .collect();
    assert_eq!(
        r,
        [("DEP1", "RATION", "4000.5".into(), "0".into()), ("DEP1", "PLATE", "1235".into(), "900".into())],
        "disappearances first, then the largest cuts"
    );
    assert_eq!(p.report.reductions_more, 0);
    // A count that only adds takes nothing away.
    let more = STOCK.replace("1 200", "1 500");
    assert!(import(&st, &[file("stock-more.csv", &more)]).unwrap().report.reductions.is_empty());
}

#[test]
fn windows_1252_exports_are_read() {
    let mut bytes = b"id;name;level;parent_id\nGSBDD-MRS;GSBdD Marseille ".to_vec();
    bytes.extend_from_slice(b"\xe9t\xe9;tactical;\n");
    let st = State::new();
    let p =
        plan(&read(&[SourceFile { name: "organizations.csv".into(), bytes }], &mut |_, _| {}), &st, &actor()).unwrap();
    match &p.events[0].event {
        Event::OrganizationUpserted(o) => assert_eq!(o.name, "GSBdD Marseille été"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn an_xlsx_workbook_imports_like_the_csv_files() {
    use rust_xlsxwriter::{ExcelDateTime, Workbook};
    let mut wb = Workbook::new();
    let write = |wb: &mut Workbook, name: &str, csv: &str| {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        let text = csv.trim_start_matches('\u{feff}');
        let mut scanner = vigie_import::text::CsvScanner::new(text, vigie_import::text::detect_delimiter(text));
        let mut r = 0;
        while let Some(row) = scanner.next_row("x").unwrap() {
            for (c, cell) in row.cells.iter().map(|c| c.text.as_ref()).enumerate() {
                match cell.replace(' ', "").replace(',', ".").parse::<f64>() {
                    Ok(v) if r > 0 => ws.write_number(r as u32, c as u16, v).map(|_| ()),
                    _ => ws.write_string(r as u32, c as u16, cell).map(|_| ()),
                }
                .unwrap();
            }
            r += 1;
        }
    };
    write(&mut wb, "organizations", ORGS);
    write(&mut wb, "sites", SITES_SEMI);
    write(&mut wb, "items", ITEMS);
    write(&mut wb, "allowances", ALLOWANCES);
    write(&mut wb, "vehicles", VEHICLES);
    // Forces with real spreadsheet dates, as Excel stores them.
    let ws = wb.add_worksheet();
    ws.set_name("forces").unwrap();
    for (c, h) in ["id", "name", "site_id", "headcount", "organization_id", "starts_on", "ends_on"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "F1").unwrap();
    ws.write_string(1, 1, "Sentinelle STA").unwrap();
    ws.write_string(1, 2, "STA").unwrap();
    ws.write_number(1, 3, 1200).unwrap();
    ws.write_string(1, 4, "GSBDD-IDF").unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    ws.write_datetime_with_format(1, 5, ExcelDateTime::from_ymd(2024, 7, 15).unwrap(), &fmt).unwrap();
    ws.write_datetime_with_format(1, 6, ExcelDateTime::from_ymd(2024, 8, 15).unwrap(), &fmt).unwrap();
    write(&mut wb, "stock", STOCK);
    let bytes = wb.save_to_buffer().unwrap();

    let from_xlsx = import(&State::new(), &[SourceFile { name: "registre.xlsx".into(), bytes }]).unwrap();
    let from_csv = import(&State::new(), &good_files()).unwrap();
    let events = |p: &Plan| p.events.iter().map(|e| e.event.clone()).collect::<Vec<_>>();
    let mut a = events(&from_xlsx);
    let mut b = events(&from_csv);
    let key = |e: &Event| format!("{}{}", e.kind(), e.payload_json());
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a, b);
    assert!(from_xlsx.events.iter().any(|e| e.source == "import:registre.xlsx[stock]"));
}

/// Runs an import that must fail and compares its problems, one `file:line:column: message` per line.
fn check(files: &[SourceFile], expect: &[&str]) {
    let base = {
        let mut st = State::new();
        let p = import(&st, &good_files()).unwrap();
        apply(&mut st, &p);
        st
    };
    let got = import(&base, files).expect_err("the import must fail");
    let got: Vec<String> = got.iter().map(|p| p.to_string()).collect();
    assert_eq!(got, expect);
}

/// A problem carries, beside its English message, a stable code and parameters a user interface translates.
#[test]
fn problems_carry_a_code_and_parameters() {
    let st = State::new();
    let bad = [
        file("items.csv", "id,name,category,unit,unit_mass_kg,unit_volume_m3\nX,Article,divers,pièce,lourd,0.001\n"),
        file("stock.csv", "site_id,item_id,quantity,condition,counted_at\nNOWHERE,X,douze,serviceable,2024-07-20\n"),
    ];
    let got = import(&st, &bad).expect_err("the import must fail");
    let coded: Vec<(&str, Vec<(&str, &str)>)> =
        got.iter().map(|p| (p.code, p.params.iter().map(|(k, v)| (*k, v.as_str())).collect())).collect();
    assert!(coded.contains(&("import.number", vec![("column", "unit_mass_kg"), ("found", "lourd")])), "{coded:?}");
    assert!(coded.contains(&("import.number", vec![("column", "quantity"), ("found", "douze")])), "{coded:?}");
    let unknown =
        [file("stock.csv", "site_id,item_id,quantity,condition,counted_at\nNOWHERE,X,12,serviceable,2024-07-20\n")];
    let got = import(&st, &unknown).expect_err("the import must fail");
    let p = got.iter().find(|p| p.params.get("id").map(String::as_str) == Some("NOWHERE")).expect("the unknown site");
    assert_eq!((p.code, p.params.get("what").map(String::as_str)), ("import.unknown_ref", Some("site")), "{p:?}");
}

#[test]
fn every_problem_is_located_to_the_cell() {
    // Wrong type, unknown enum value, negative quantity, bad date, missing value.
    check(
        &[file(
            "stock.csv",
            "site_id;item_id;quantity;condition;lot;expires_on;counted_at\n\
             DEP1;PLATE;douze;serviceable;;;2024-07-20 08:00\n\
             DEP1;PLATE;-5;usable;;2024-13-01;2024-07-20 08:00\n\
             DEP1;PLATE;5;serviceable;;;\n",
        )],
        &[
            "stock.csv:2:12: `quantity`: expected a number (decimal point or decimal comma), found \"douze\"",
            "stock.csv:3:12: `quantity` cannot be negative, found -5",
            "stock.csv:3:15: `condition`: expected one of serviceable, unserviceable, found \"usable\"",
            "stock.csv:3:23: `expires_on`: expected a date YYYY-MM-DD or DD/MM/YYYY, found \"2024-13-01\"",
            "stock.csv:4:28: `counted_at` is required",
        ],
    );
    // Unknown references, checked against the batch and the state, even on a row with other problems;
    // columns count characters, not bytes.
    check(
        &[
            file("forces.csv", "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF9,Éclair,NANTES,100,GS-OUEST,2024-08-01,2024-07-01\n"),
            file("stock.csv", "site_id,item_id,quantity,condition,counted_at\nDEP1,CASQUE,3,serviceable,2024-07-20\n"),
        ],
        &[
            "forces.csv:2:11: unknown site NANTES in `site_id`",
            "forces.csv:2:22: unknown organization GS-OUEST in `organization_id`",
            "forces.csv:2:42: `ends_on` (2024-07-01) is before `starts_on` (2024-08-01)",
            "stock.csv:2:6: unknown item CASQUE in `item_id`",
        ],
    );
    check(
        &[file("forces.csv", "id,name,site_id,headcount,organization_id,starts_on,ends_on\nF9,Éclair,NANTES,100,GS-OUEST,2024-08-01,2024-08-02\n")],
        &[
            "forces.csv:2:11: unknown site NANTES in `site_id`",
            "forces.csv:2:22: unknown organization GS-OUEST in `organization_id`",
        ],
    );
    // Duplicate ids, across files of one import.
    check(
        &[
            file("sites.csv", "id,name,kind,lat,lon,organization_id\nX1,A,depot,48,2,CPCO\n"),
            file("sites-2.csv", "id,name,kind,lat,lon,organization_id\n\nX1,B,depot,48,2,CPCO\n"),
        ],
        &["sites-2.csv:3:1: duplicate site id X1 (first at sites.csv:2)"],
    );
    // Missing column, unknown table, out-of-range coordinates, bad id, short row.
    check(
        &[file("sites.csv", "id,name,kind,lat,organization_id\n")],
        &["sites.csv:1:1: missing required column `lon` for table sites (found: id, name, kind, lat, organization_id)"],
    );
    check(&[file("stocks_old.csv", "a\n")], &[
        "stocks_old.csv:1:1: \"stocks_old.csv\" names no table; expected one of organizations, sites, items, allowances, forces, vehicles, stock, partners, applications, assets, \
             checks, dependencies, zones, tasks, task_links, computers, zone_templates, people, teams, rotations, overrides",
    ]);
    check(
        &[file("sites.csv", "id,name,kind,lat,lon,organization_id\nX 1,A,depot,98.5,2,CPCO\nX2,B,depot,48\n")],
        &[
            "sites.csv:2:1: `id`: character 2 is U+0020 SPACE, not allowed in an identifier (letters A-Z a-z, digits 0-9 and - _ . : / @ +)",
            "sites.csv:2:13: latitude must be between -90 and 90, found 98.5",
            "sites.csv:3:15: `lon` is required",
            "sites.csv:3:15: `organization_id` is required",
        ],
    );
    check(
        &[file("organizations.csv", "id,name,level,parent_id\nA,A,tactical,A\nB,B,regional,\n")],
        &[
            "organizations.csv:2:14: organization A cannot be its own parent",
            "organizations.csv:3:5: `level`: expected one of strategic, tactical, found \"regional\"",
        ],
    );
    check(
        &[file("vehicles.csv", "id,site_id,kind,seats,payload_kg,cargo_m3,condition\nV2,DEP1,bus,4.5,1000,10,ok\n")],
        &[
            "vehicles.csv:2:13: `seats`: expected a whole number ≥ 0, found \"4.5\"",
            "vehicles.csv:2:25: `condition`: expected one of serviceable, unserviceable, found \"ok\"",
        ],
    );
    check(
        &[file("items.csv", "id,name\n\"unterminated,x\n")],
        &[
            "items.csv:1:1: missing required column `category` for table items (found: id, name)",
            "items.csv:1:1: missing required column `unit` for table items (found: id, name)",
            "items.csv:1:1: missing required column `unit_mass_kg` for table items (found: id, name)",
            "items.csv:1:1: missing required column `unit_volume_m3` for table items (found: id, name)",
        ],
    );
    check(
        &[file("allowances.csv", "item_id,basis,quantity\n\"PLATE,person,2\n")],
        &["allowances.csv:2:1: quoted field is never closed"],
    );
    check(&[file("allowances.csv", "")], &["allowances.csv:1:1: the file is empty: expected a header row"]);
}

#[test]
fn an_import_with_one_bad_file_changes_nothing() {
    let mut files = good_files();
    files.push(file(
        "vehicles-2.csv",
        "id,site_id,kind,seats,payload_kg,cargo_m3,condition\nV9,NOWHERE,bus,40,1000,10,serviceable\n",
    ));
    let err = import(&State::new(), &files).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].to_string(), "vehicles-2.csv:2:4: unknown site NOWHERE in `site_id`");
}

const PARTNERS: &str = "id;name;email\nATOS;Atos (intégrateur);toc@example.org\nORANGE;Orange Business;\n";
const APPLICATIONS: &str = "id;name;suite;criticality;partner_id;rollup\nODS-RES;Diffusion des résultats;ODS;critical;ATOS;percent 25 50\nOMS-ACC;Accréditation;OMS;high;;\n";
const ASSETS: &str =
    "id;name;kind;site_id;application_id\nSTA-UPL-A;Lien A;network;STA;\nSTA-PC-1;Poste 1;computer;STA;ODS-RES\n";
const CHECKS: &str =
    "id;target;site_id;kind;interval_s;timeout_s;asset_id;application_id;max_attempts;ttl_s;expect;labels;tags\n\
    UPL-A;10.0.0.1:443;STA;tcp;30;5;STA-UPL-A;;1;;;;réseau\n\
    PC-1;poste-1;STA;push;60;10;STA-PC-1;ODS-RES;;;;\"alertname=HostDown, instance=pc-1\";poste|sta\n\
    ODS-WEB;https://ods.example.org/health;;http;60;10;;ODS-RES;3;;200 ~OK;;\n";
const DEPENDENCIES: &str = "child_id;parent_id;group\nPC-1;UPL-A;uplinks\nPC-1;STA-UPL-A;uplinks\n";

fn toc_files() -> Vec<SourceFile> {
    vec![
        file("partners.csv", PARTNERS),
        file("applications.csv", APPLICATIONS),
        file("assets.csv", ASSETS),
        file("checks.csv", CHECKS),
        file("dependencies.csv", DEPENDENCIES),
    ]
}

#[test]
fn the_toc_tables_import_with_their_references_and_redundancy_groups() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    apply(&mut st, &p);
    let p = import(&st, &toc_files()).unwrap();
    apply(&mut st, &p);
    let toc = &st.toc;
    assert_eq!((toc.partners.len(), toc.applications.len(), toc.assets.len(), toc.checks.len()), (2, 2, 2, 3));
    let pc = &toc.checks[&CheckId::parse("PC-1").unwrap()].value;
    assert_eq!(pc.kind, toc::CheckKind::Push);
    assert_eq!(pc.ttl(), Some(180), "push: three intervals");
    assert_eq!(pc.max_attempts, 3, "default");
    assert_eq!(pc.labels, [("alertname".to_string(), "HostDown".to_string()), ("instance".into(), "pc-1".into())]);
    assert_eq!(pc.tags, ["poste", "sta"]);
    let web = &toc.checks[&CheckId::parse("ODS-WEB").unwrap()].value;
    assert_eq!((web.site_id.as_ref(), web.expect.as_str(), web.ttl()), (None, "200 ~OK", None));
    // Two rows of one group: one redundancy group of two parents (a check and an asset).
    let d = &toc.dependencies[&("PC-1".to_string(), "uplinks".to_string())];
    assert_eq!(d.parents, ["STA-UPL-A", "UPL-A"]);
    let app = &toc.applications[&ApplicationId::parse("ODS-RES").unwrap()].value;
    assert_eq!((app.rollup.as_str(), app.criticality), ("percent 25 50", toc::Criticality::Critical));
    assert_eq!(toc.partners[&PartnerId::parse("ATOS").unwrap()].value.attributes["email"], "toc@example.org");
    // Again: nothing changes.
    assert!(import(&st, &toc_files()).unwrap().events.is_empty());
}

#[test]
fn toc_problems_are_located_to_the_cell() {
    check(
        &[
            file("applications.csv", "id;name;suite;criticality;partner_id;rollup\nA1;App;OMS;vital;NOPE;best\n"),
            file(
                "checks.csv",
                "id;target;site_id;kind;interval_s;timeout_s;max_attempts;labels\n\
                 C1;x;STA;ping;0;5;11;a\n\
                 C2;x;NOWHERE;push;60;5;;\n",
            ),
            file("dependencies.csv", "child_id;parent_id\nC2;C2\nC2;GHOST\n"),
        ],
        &[
            "applications.csv:2:12: `criticality`: expected one of critical, high, medium, low, found \"vital\"",
            "applications.csv:2:18: unknown partner NOPE in `partner_id`",
            "applications.csv:2:23: `rollup`: expected a roll-up rule: `worst`, `min_ok N` (N ≥ 1) or `percent W C` (0 ≤ W ≤ C ≤ 100), found \"best\"",
            "checks.csv:2:10: `kind`: expected one of push, http, tcp, command, found \"ping\"",
            "checks.csv:2:15: `interval_s` must be at least 1",
            "checks.csv:2:19: `max_attempts` must be between 1 and 10, found 11",
            "checks.csv:2:22: `labels`: expected name=value pairs separated by commas, found \"a\"",
            "checks.csv:3:6: unknown site NOWHERE in `site_id`",
            "dependencies.csv:2:4: C2 cannot depend on itself",
            "dependencies.csv:3:4: unknown check or asset GHOST in `parent_id`",
        ],
    );
}

#[test]
fn a_capped_report_still_counts_every_problem() {
    use vigie_import::{problem_count, Problem};
    let kept = vec![Problem::at("a.csv", 2, 1, "x"), Problem::at("a.csv", 3, 1, "y")];
    assert_eq!(problem_count(&kept), 2);
    let mut capped = kept.clone();
    capped.push(Problem::at("", 0, 0, "… and 1234 more problems"));
    assert_eq!(problem_count(&capped), 1236);
}

#[test]
fn a_command_check_whose_target_a_shell_would_act_on_is_refused_where_it_is_written() {
    let checks = "id;target;site_id;kind;interval_s;timeout_s\n\
        OK;/usr/lib/nagios/plugins/check_dummy 0 'tout va bien';;command;60;5\n\
        PWN;id > /tmp/pwned;;command;60;5\n\
        PUSH;id > /tmp/ceci-n-est-qu-un-nom;;push;60;5\n";
    let batch = vigie_import::read(
        &[vigie_import::SourceFile { name: "checks.csv".into(), bytes: checks.into() }],
        &mut |_, _| {},
    );
    let problems: Vec<String> = batch.problems.kept().iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("checks.csv:3:"), "located: {problems:?}");
    assert!(problems[0].contains("`>` at character 4 outside quotes"), "{problems:?}");
}

#[test]
fn an_import_holds_a_bounded_number_of_rows_whatever_the_file() {
    use vigie_import::{read, SourceFile, MAX_ROWS};
    // Rows that keep nothing (each lacks its values), one more than an import holds: the reading stops there and
    // says so, even after a thousand other problems.
    let mut text = String::from("site_id,item_id,quantity,condition,counted_at\n");
    text.reserve((MAX_ROWS + 1) * 5);
    for _ in 0..=MAX_ROWS {
        text.push_str(",,,,\n");
    }
    let batch = read(&[SourceFile { name: "stock.csv".into(), bytes: text.into_bytes() }], &mut |_, _| {});
    let last = batch.problems.kept().last().unwrap().to_string();
    assert_eq!(
        last,
        format!(
            "stock.csv:{}:1: an import holds at most {MAX_ROWS} rows in all: split it (nothing is read past this line)",
            MAX_ROWS + 2
        )
    );
}

const READINESS_PARTNERS: &str = "id;name\nATOS;Atos\nLOGI;Logistique\n";
const ZONES: &str =
    "id;site_id;name;kind;image;deadline\nDF-RES;DEP1;Salle des résultats;results_room;ODS-RES 4.2;2024-07-20 08:00\n";
const TASKS: &str = "id;site_id;zone_id;name;trade;owner;duration_min;due\n\
    T-TABLES;DEP1;DF-RES;Tables;delivery;LOGI;240;\n\
    T-PC;DEP1;DF-RES;PC;installation;ATOS;180;2024-07-19 18:00\n\
    T-IMG;DEP1;DF-RES;Imagerie;imaging;ATOS;120;\n";

fn readiness_files(links: &str) -> Vec<SourceFile> {
    vec![
        file("partners.csv", READINESS_PARTNERS),
        file("zones.csv", ZONES),
        file("tasks.csv", TASKS),
        file("task_links.csv", links),
    ]
}

/// Readiness tables import like every table, idempotently; "no table, no PC" is a link in the data.
#[test]
fn readiness_tables_import_and_a_second_import_changes_nothing() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    apply(&mut st, &p);
    let mut files = readiness_files("before_id;after_id;lag_min\nT-TABLES;T-PC;30\nT-PC;T-IMG;\n");
    files.push(file(
        "computers.csv",
        "id;model;site_id;zone_id;role;image;image_version;state\nSN-1;HP;DEP1;DF-RES;critical;ODS-RES;4.1;imaged\n",
    ));
    let p = import(&st, &files).unwrap();
    assert_eq!(p.report.tables[&vigie_import::Table::Tasks].created, 3);
    assert_eq!(p.report.tables[&vigie_import::Table::TaskLinks].created, 2);
    apply(&mut st, &p);
    let key = (vigie_domain::TaskId::parse("T-TABLES").unwrap(), vigie_domain::TaskId::parse("T-PC").unwrap());
    assert_eq!(st.readiness.links.get(&key), Some(&30));
    assert_eq!(st.readiness.tasks["T-PC"].value.due.map(|d| d.to_rfc3339()), Some("2024-07-19T16:00:00+00:00".into()));
    assert!(import(&st, &files).unwrap().events.is_empty(), "the same files again change nothing");
}

/// A cycle is refused at import, at the links that close it; so are a zone on another site and unknown tasks.
#[test]
fn readiness_cycles_foreign_zones_and_unknown_tasks_are_refused_where_they_are() {
    let base = {
        let mut st = State::new();
        let p = import(&st, &good_files()).unwrap();
        apply(&mut st, &p);
        st
    };
    let refused = |files: &[SourceFile]| -> Vec<String> {
        import(&base, files).expect_err("refused").iter().map(|p| p.to_string()).collect()
    };
    let cycle = refused(&readiness_files("before_id;after_id\nT-TABLES;T-PC\nT-PC;T-IMG\nT-IMG;T-TABLES\n"));
    assert_eq!(cycle.len(), 3, "{cycle:?}");
    assert!(cycle[0].starts_with("task_links.csv:2:1: this link closes a cycle of tasks ("), "{cycle:?}");
    assert!(cycle[2].starts_with("task_links.csv:4:1:") && cycle[2].ends_with("T-IMG → T-TABLES"), "{cycle:?}");

    let mut files = readiness_files("before_id;after_id\nT-PC;T-NOPE\n");
    files[2] = file("tasks.csv", &TASKS.replace("T-IMG;DEP1;", "T-IMG;STA;"));
    let got = refused(&files);
    assert!(
        got.iter().any(|p| p.starts_with("tasks.csv:4:") && p.contains("zone DF-RES is at site DEP1, not at STA")),
        "{got:?}"
    );
    assert!(got.iter().any(|p| p == "task_links.csv:2:6: unknown task T-NOPE in `after_id`"), "{got:?}");
}

const TEMPLATES: &str = "kind;key;name;trade;owner;duration_min;after;lag_min;count\n\
    results_room;tables;Livraison des tables;delivery;LOGI;240;;;\n\
    results_room;power;Électricité;power;LOGI;120;;;\n\
    results_room;network;Réseau;network;LOGI;60;power;15;\n\
    results_room;pc;Installation d'un poste;installation;ATOS;45;tables,network;;3\n\
    results_room;test;Test de la salle;tests;ATOS;60;pc;;\n";

/// A few template lines give every zone of their kind its tasks and links: ids `SITE/ZONE/key(.n)`, due by the
/// zone's deadline; a task the batch lists itself wins over the template's; a zone of another kind gets nothing.
#[test]
fn zone_templates_give_every_zone_of_their_kind_its_tasks() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    apply(&mut st, &p);
    let zones = format!("{ZONES}DF-BUR;DEP1;Bureaux;offices;;\n");
    let files = vec![
        file("partners.csv", READINESS_PARTNERS),
        file("zones.csv", &zones),
        file("zone_templates.csv", TEMPLATES),
        // The tables of this room come by a particular road: listed, they replace the template's.
        file("tasks.csv", "id;site_id;zone_id;name;trade;owner;duration_min\nDEP1/DF-RES/tables;DEP1;DF-RES;Tables de Vincennes;delivery;LOGI;300\n"),
    ];
    let p = import(&st, &files).unwrap();
    assert_eq!(p.report.tables[&vigie_import::Table::Tasks].created, 7, "tables, power, network, 3 computers, test");
    // network ← power, each computer ← tables and network, the test ← each computer.
    assert_eq!(p.report.tables[&vigie_import::Table::TaskLinks].created, 1 + 3 * 2 + 3);
    apply(&mut st, &p);
    let r = &st.readiness;
    let ids: Vec<&str> = r.tasks.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        ids,
        [
            "DEP1/DF-RES/network",
            "DEP1/DF-RES/pc.1",
            "DEP1/DF-RES/pc.2",
            "DEP1/DF-RES/pc.3",
            "DEP1/DF-RES/power",
            "DEP1/DF-RES/tables",
            "DEP1/DF-RES/test"
        ]
    );
    let tables = &r.tasks["DEP1/DF-RES/tables"].value;
    assert_eq!((tables.name.as_str(), tables.duration_min), ("Tables de Vincennes", 300), "the listed task wins");
    let pc2 = &r.tasks["DEP1/DF-RES/pc.2"].value;
    assert_eq!(pc2.name, "Installation d'un poste n° 2");
    assert_eq!(pc2.owner.as_str(), "ATOS");
    assert_eq!(pc2.due, r.zones["DF-RES"].value.deadline, "due by the zone's deadline");
    let link = |b: &str, a: &str| {
        r.links.get(&(vigie_domain::TaskId::parse(b).unwrap(), vigie_domain::TaskId::parse(a).unwrap())).copied()
    };
    assert_eq!(link("DEP1/DF-RES/power", "DEP1/DF-RES/network"), Some(15), "with its lag");
    assert_eq!(link("DEP1/DF-RES/tables", "DEP1/DF-RES/pc.3"), Some(0), "no table, no PC");
    assert_eq!(link("DEP1/DF-RES/pc.1", "DEP1/DF-RES/test"), Some(0));
    assert!(import(&st, &files).unwrap().events.is_empty(), "the same files again change nothing");
}

/// A template that names a predecessor it does not have, gives a key twice, loops, or asks for no copies is
/// refused where it is written, and nothing is imported.
#[test]
fn a_bad_template_is_refused_where_it_is_written() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    apply(&mut st, &p);
    let refused = |templates: &str| -> Vec<String> {
        let files = vec![
            file("partners.csv", READINESS_PARTNERS),
            file("zones.csv", ZONES),
            file("zone_templates.csv", templates),
        ];
        import(&st, &files).expect_err("refused").iter().map(|p| p.to_string()).collect()
    };
    let head = "kind;key;name;trade;owner;duration_min;after;lag_min;count\n";
    let got = refused(&format!("{head}results_room;pc;PC;installation;ATOS;45;tables;;\n"));
    assert_eq!(
        got,
        ["zone_templates.csv:2:41: template results_room: task pc comes after tables, which it does not have"]
    );
    let got = refused(&format!(
        "{head}results_room;pc;PC;installation;ATOS;45;;;\nresults_room;pc;PC bis;installation;ATOS;45;;;\n"
    ));
    assert_eq!(
        got,
        ["zone_templates.csv:3:14: template results_room: task pc is given twice (first at zone_templates.csv:2)"]
    );
    let got = refused(&format!(
        "{head}results_room;a;A;power;LOGI;5;b;;\nresults_room;b;B;power;LOGI;5;a;;\nresults_room;c;C;power;LOGI;5;;;\n"
    ));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].starts_with("zone_templates.csv:2:") && got[0].contains("its tasks make a cycle"), "{got:?}");
    assert!(got[1].starts_with("zone_templates.csv:3:"), "{got:?}");
    let got = refused(&format!("{head}results_room;pc;PC;installation;ATOS;45;;;0\n"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("zone_templates.csv:2:") && got[0].contains("from 1 to 1000 copies"), "{got:?}");
    // A template that would make millions of links is refused, counted before anything is made of it.
    let got = refused(&format!(
        "{head}results_room;a;A;power;LOGI;5;;;1000\nresults_room;b;B;power;LOGI;5;a;;1000\n\
         results_room;c;C;power;LOGI;5;b;;1000\nresults_room;d;D;power;LOGI;5;c;;1000\n"
    ));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("zone_templates.csv:2:") && got[0].contains("3000000 links per zone"), "{got:?}");
    let got = refused(&format!("{head}results_room;p/c;PC;installation;NOBODY;45;;;\n"));
    assert!(got.iter().any(|p| p.contains("a template key is")), "{got:?}");
    assert!(got.iter().any(|p| p.contains("unknown partner NOBODY")), "{got:?}");
}

const ROSTER_PEOPLE: &str = "id;name;email;mobile;partner_id\n\
    ana;Ana Martin;ana@atos.example;+33612345678;ATOS\n\
    bob;Bob Durand;bob@atos.example;+33612345679;ATOS\n\
    cyr;Cyr Petit;;;\n";
const ROSTER_TEAMS: &str =
    "id;name;partner_id;site_id\nATOS-N1;Atos, premier niveau;ATOS;\nDF-IT;Informatique du site;;DEP1\n";
const ROSTER_ROTATIONS: &str = "team_id;level;period;starts_at;people\nATOS-N1;1;shift;2024-07-01 06:00;ana|bob\nATOS-N1;2;weekly;2024-07-01 08:00;cyr\n";
const ROSTER_OVERRIDES: &str =
    "team_id;level;from;until;person_id;reason\nATOS-N1;1;2024-07-02 06:00;2024-07-02 14:00;cyr;échange avec ana\n";

fn roster_files() -> Vec<SourceFile> {
    vec![
        file("partners.csv", READINESS_PARTNERS),
        file("people.csv", ROSTER_PEOPLE),
        file("teams.csv", ROSTER_TEAMS),
        file("rotations.csv", ROSTER_ROTATIONS),
        file("overrides.csv", ROSTER_OVERRIDES),
    ]
}

/// People, teams, rotations and overrides import like every table, idempotently; an override is taken back by
/// importing it again with `removed`.
#[test]
fn rosters_import_and_an_override_is_taken_back() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    apply(&mut st, &p);
    let p = import(&st, &roster_files()).unwrap();
    assert_eq!(p.report.tables[&vigie_import::Table::People].created, 3);
    assert_eq!(p.report.tables[&vigie_import::Table::Rotations].created, 2);
    apply(&mut st, &p);
    let key = (vigie_domain::TeamId::parse("ATOS-N1").unwrap(), 1u8);
    let rotation = &st.oncall.rotations[&key].value;
    assert_eq!(rotation.people.iter().map(|p| p.as_str()).collect::<Vec<_>>(), ["ana", "bob"]);
    assert_eq!(rotation.starts_at.to_rfc3339(), "2024-07-01T04:00:00+00:00", "06:00 Paris, summer time");
    assert_eq!(st.oncall.overrides.len(), 1);
    assert!(import(&st, &roster_files()).unwrap().events.is_empty(), "the same files again change nothing");
    let mut files = roster_files();
    files[4] = file(
        "overrides.csv",
        &ROSTER_OVERRIDES.replace(";reason\n", ";reason;removed\n").replace("ana\n", "ana;oui\n"),
    );
    let p = import(&st, &files).unwrap();
    assert_eq!(p.events.len(), 1, "the override taken back");
    apply(&mut st, &p);
    assert!(st.oncall.overrides.is_empty());
    assert!(import(&st, &files).unwrap().events.is_empty(), "taken back twice changes nothing");
}

/// Bad roster rows are refused where they are written.
#[test]
fn bad_roster_rows_are_refused_where_they_are() {
    let mut st = State::new();
    let p = import(&st, &good_files()).unwrap();
    apply(&mut st, &p);
    let refused = |name: &str, text: &str| -> Vec<String> {
        let mut files = roster_files();
        let at = files.iter().position(|f| f.name == name).unwrap();
        files[at] = file(name, text);
        import(&st, &files).expect_err("refused").iter().map(|p| p.to_string()).collect()
    };
    let got = refused("people.csv", "id;name;email;mobile\nana;Ana;ana at atos;06 12 AB\nbob;Bob;;\ncyr;Cyr;;\n");
    assert!(got.iter().any(|p| p.starts_with("people.csv:2:") && p.contains("`email`")), "{got:?}");
    assert!(got.iter().any(|p| p.starts_with("people.csv:2:") && p.contains("`mobile`")), "{got:?}");
    let got = refused("rotations.csv", "team_id;level;period;starts_at;people\nATOS-N1;0;monthly;;ana|zoe\n");
    for (col, what) in [("level", "from 1"), ("period", "monthly"), ("starts_at", "is required"), ("people", "zoe")] {
        assert!(got.iter().any(|p| p.starts_with("rotations.csv:2:") && p.contains(what)), "{col}: {got:?}");
    }
    let got =
        refused("overrides.csv", "team_id;level;from;until;person_id\nNOPE;1;2024-07-02 14:00;2024-07-02 06:00;ana\n");
    assert!(got.iter().any(|p| p.contains("an override ends after it starts")), "{got:?}");
    assert!(got.iter().any(|p| p.contains("unknown team NOPE")), "{got:?}");
}
