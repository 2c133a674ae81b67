//! Nagios plugin output, as the Monitoring Plugins Development Guidelines define it:
//!
//! ```text
//! DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968
//! / 15272 MB (77%);
//! /boot 68 MB (69%); | /boot=68MB;88;93;0;98
//! /home=69357MB;253404;253409;0;253414
//! ```
//!
//! The first line is the summary, then an optional `|` and performance data; the following lines are the long
//! text, until a line with a `|`: from there on everything is performance data. Each datum is
//! `'label'=value[UOM];[warn];[crit];[min];[max]`, separated by spaces; a label with spaces or `=` is quoted with
//! single quotes (a quote inside doubled). A malformed datum is reported, never guessed.

use serde::Serialize;

/// Parsed plugin output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginOutput {
    /// The first line, without performance data.
    pub summary: String,
    /// The lines after the first, without performance data.
    pub long_text: String,
    pub perfdata: Vec<PerfDatum>,
    /// Performance data items that do not follow the format, as found.
    pub invalid_perfdata: Vec<String>,
}

/// One performance datum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerfDatum {
    pub label: String,
    /// `None` when the plugin reports `U` (the value could not be determined).
    pub value: Option<f64>,
    /// Unit of measure: empty, `s`, `ms`, `us`, `%`, `B`, `KB`, `MB`, `TB`, `c`…
    pub uom: String,
    /// Threshold ranges as written (`10`, `10:`, `~:10`, `@10:20`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// Splits plugin output into summary, long text and performance data.
pub fn parse_output(text: &str) -> PluginOutput {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let (summary, mut perf) = match first.split_once('|') {
        Some((s, p)) => (s.trim_end().to_string(), p.to_string()),
        None => (first.trim_end().to_string(), String::new()),
    };
    let mut long = Vec::new();
    let mut in_perf = false;
    for line in lines {
        if in_perf {
            perf.push(' ');
            perf.push_str(line);
        } else if let Some((t, p)) = line.split_once('|') {
            if !t.trim().is_empty() {
                long.push(t.trim_end());
            }
            perf.push(' ');
            perf.push_str(p);
            in_perf = true;
        } else {
            long.push(line);
        }
    }
    let (perfdata, invalid_perfdata) = parse_perfdata(&perf);
    PluginOutput { summary, long_text: long.join("\n"), perfdata, invalid_perfdata }
}

/// Parses space-separated performance data: the good items, and the malformed ones as written.
pub fn parse_perfdata(text: &str) -> (Vec<PerfDatum>, Vec<String>) {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        // The label: quoted (quotes doubled inside) or up to '='.
        let mut label = String::new();
        let mut ok = true;
        if b[i] == b'\'' {
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        ok = false;
                        break;
                    }
                    Some(b'\'') if b.get(i + 1) == Some(&b'\'') => {
                        label.push('\'');
                        i += 2;
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let ch = text[i..].chars().next().expect("inside the text");
                        label.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
        } else {
            while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            label.push_str(&text[start..i]);
        }
        // The rest of the item, up to white space.
        let rest_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let item = &text[start..i];
        let rest = &text[rest_start..i];
        match (ok && !label.is_empty()).then(|| datum(label, rest)).flatten() {
            Some(d) => good.push(d),
            None => bad.push(item.to_string()),
        }
    }
    (good, bad)
}

fn datum(label: String, rest: &str) -> Option<PerfDatum> {
    let rest = rest.strip_prefix('=')?;
    let mut fields = rest.split(';');
    let v = fields.next()?;
    let (value, uom) = if v == "U" {
        (None, String::new())
    } else {
        let end =
            v.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))).unwrap_or(v.len());
        // An exponent letter followed by nothing numeric belongs to the unit, not the number.
        let (mut num, mut unit) = v.split_at(end);
        while !num.is_empty() && num.parse::<f64>().is_err() {
            let cut = num.len() - 1;
            (num, unit) = v.split_at(cut);
        }
        let value: f64 = num.parse().ok()?;
        if !unit.chars().all(|c| c.is_ascii_alphabetic() || c == '%') {
            return None;
        }
        (Some(value), unit.to_string())
    };
    let opt = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let num = |s: Option<String>| -> Result<Option<f64>, ()> { s.map(|s| s.parse().map_err(|_| ())).transpose() };
    let warn = opt(fields.next());
    let crit = opt(fields.next());
    let min = num(opt(fields.next())).ok()?;
    let max = num(opt(fields.next())).ok()?;
    Some(PerfDatum { label, value, uom, warn, crit, min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guidelines_example() {
        let out = parse_output(
            "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n/ 15272 MB (77%);\n\
             /boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n\
             /home=69357MB;253404;253409;0;253414 \n/var/log=818MB;970;975;0;980",
        );
        assert_eq!(out.summary, "DISK OK - free space: / 3326 MB (56%);");
        assert_eq!(
            out.long_text,
            "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%);"
        );
        let labels: Vec<&str> = out.perfdata.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["/", "/boot", "/home", "/var/log"]);
        assert_eq!(
            out.perfdata[0],
            PerfDatum {
                label: "/".into(),
                value: Some(2643.0),
                uom: "MB".into(),
                warn: Some("5948".into()),
                crit: Some("5958".into()),
                min: Some(0.0),
                max: Some(5968.0),
            }
        );
        assert!(out.invalid_perfdata.is_empty());
    }

    #[test]
    fn quoted_labels_units_and_unknown_values() {
        let (d, bad) =
            parse_perfdata("'time to connect'=0.012s;;;0 'it''s'=5% rta=U;100:200;@300 pl=0%;20;60;0;100 c=12c");
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(d[0].label, "time to connect");
        assert_eq!((d[0].value, d[0].uom.as_str(), d[0].min), (Some(0.012), "s", Some(0.0)));
        assert_eq!(d[1].label, "it's");
        assert_eq!(d[2].value, None);
        assert_eq!(d[2].warn.as_deref(), Some("100:200"));
        assert_eq!(d[2].crit.as_deref(), Some("@300"));
        assert_eq!((d[3].value, d[3].max), (Some(0.0), Some(100.0)));
        assert_eq!((d[4].value, d[4].uom.as_str()), (Some(12.0), "c"));
        let (_, d2) = parse_perfdata("time=1.5e3ms");
        assert!(d2.is_empty());
    }

    #[test]
    fn malformed_items_are_reported_not_guessed() {
        let (good, bad) = parse_perfdata("ok=1 novalue= noequals 'unterminated=3 x=abc y=1;2;3;z");
        assert_eq!(good.len(), 1);
        assert_eq!(bad, ["novalue=", "noequals", "'unterminated=3 x=abc y=1;2;3;z"]);
        let out = parse_output("HTTP OK: 200");
        assert_eq!((out.summary.as_str(), out.long_text.as_str(), out.perfdata.len()), ("HTTP OK: 200", "", 0));
    }
}
