//! ServiceNow encoded queries, as `sysparm_query` carries them:
//!
//! ```text
//! active=true^priorityIN1,2^ORurgency=1^NQcaller_idISEMPTY^ORDERBYDESCopened_at
//! ```
//!
//! `^` joins conditions (and), `^OR` joins a condition to the one before it (or, binding tighter than and), `^NQ`
//! starts a new query whose matches are added (or of and-groups). `ORDERBYfield` and `ORDERBYDESCfield` may stand
//! anywhere. A condition is `field` `operator` `value` with the operators `=`, `!=`, `IN`, `NOT IN`, `LIKE`
//! (contains), `NOT LIKE`, `STARTSWITH`, `ENDSWITH`, `ISEMPTY`, `ISNOTEMPTY`, `<`, `<=`, `>`, `>=`, `BETWEEN`
//! (`a@b`, both included). Text compares without regard to case; `<`, `>` and `BETWEEN` compare numbers when both
//! sides are numbers, else text (ServiceNow's `YYYY-MM-DD HH:MM:SS` times order as text).

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    Like,
    NotLike,
    StartsWith,
    EndsWith,
    IsEmpty,
    IsNotEmpty,
    Lt,
    Le,
    Gt,
    Ge,
    Between,
}

/// Operators by their text, longest first where one is a prefix of another.
const OPS: &[(&str, Op)] = &[
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("NOT LIKE", Op::NotLike),
    ("NOT IN", Op::NotIn),
    ("STARTSWITH", Op::StartsWith),
    ("ENDSWITH", Op::EndsWith),
    ("BETWEEN", Op::Between),
    ("LIKE", Op::Like),
    ("IN", Op::In),
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=", Op::Eq),
    ("<", Op::Lt),
    (">", Op::Gt),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    pub value: String,
}

/// A parsed query: or of and-groups of or-chains, and the order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// `groups[g][a][o]`: group g (joined by `^NQ`), and-term a (joined by `^`), or-alternative o (joined by `^OR`).
    pub groups: Vec<Vec<Vec<Condition>>>,
    /// (field, descending)
    pub order: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sysparm_query: cannot read {term:?} (at character {at}): {why}")]
pub struct QueryError {
    pub term: String,
    /// Position of the term in the query, from 1.
    pub at: usize,
    pub why: String,
}

fn is_field_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
}

fn condition(term: &str, at: usize) -> Result<Condition, QueryError> {
    let err = |why: &str| QueryError { term: term.to_string(), at: at + 1, why: why.to_string() };
    let end = term.find(|c: char| !is_field_char(c)).unwrap_or(term.len());
    let field = &term[..end];
    if field.is_empty() {
        return Err(err("expected a field name (lower case letters, digits, `_`, `.`)"));
    }
    let rest = &term[end..];
    let (text, op) = OPS.iter().find(|(t, _)| rest.starts_with(t)).ok_or_else(|| {
        err("expected an operator: =, !=, IN, NOT IN, LIKE, NOT LIKE, STARTSWITH, ENDSWITH, ISEMPTY, ISNOTEMPTY, <, <=, >, >=, BETWEEN")
    })?;
    let value = rest[text.len()..].to_string();
    match op {
        Op::IsEmpty | Op::IsNotEmpty if !value.is_empty() => return Err(err("ISEMPTY and ISNOTEMPTY take no value")),
        Op::Between if value.split('@').count() != 2 => return Err(err("BETWEEN takes two values: low@high")),
        _ => {}
    }
    Ok(Condition { field: field.to_string(), op: *op, value })
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let mut q = Query::default();
        let mut offset = 0;
        for group_text in text.split("^NQ") {
            let mut group: Vec<Vec<Condition>> = Vec::new();
            let mut pos = offset;
            for (k, piece) in group_text.split('^').enumerate() {
                let at = pos;
                pos += piece.len() + 1;
                if piece.is_empty() {
                    if k == 0 && group_text.is_empty() {
                        continue;
                    }
                    continue; // tolerated: `a=1^` or `^^`
                }
                if let Some(f) = piece.strip_prefix("ORDERBYDESC") {
                    q.order.push((f.to_string(), true));
                } else if let Some(f) = piece.strip_prefix("ORDERBY") {
                    q.order.push((f.to_string(), false));
                } else if let Some(alt) = piece.strip_prefix("OR") {
                    let c = condition(alt, at + 2)?;
                    match group.last_mut() {
                        Some(last) => last.push(c),
                        None => group.push(vec![c]),
                    }
                } else {
                    group.push(vec![condition(piece, at)?]);
                }
            }
            if !group.is_empty() {
                q.groups.push(group);
            }
            offset += group_text.len() + 3;
        }
        Ok(q)
    }

    /// Whether a record matches: `get` gives a field's value (`None`: no such field, which matches nothing but
    /// `ISEMPTY` and `!=`/`NOT …`).
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        self.groups.is_empty()
            || self.groups.iter().any(|g| g.iter().all(|alts| alts.iter().any(|c| c.matches(get(&c.field)))))
    }

    /// Orders records by the query's ORDERBY terms (stable: records equal on them keep their order).
    pub fn compare(&self, a: &dyn Fn(&str) -> Option<String>, b: &dyn Fn(&str) -> Option<String>) -> Ordering {
        for (field, desc) in &self.order {
            let o = compare_values(&a(field).unwrap_or_default(), &b(field).unwrap_or_default());
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

fn compare_values(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

impl Condition {
    fn matches(&self, value: Option<String>) -> bool {
        let v = value.unwrap_or_default();
        let lv = v.to_lowercase();
        let want = self.value.to_lowercase();
        let list = || want.split(',').map(str::trim).any(|x| x == lv);
        match self.op {
            Op::Eq => lv == want,
            Op::Ne => lv != want,
            Op::In => list(),
            Op::NotIn => !list(),
            Op::Like => lv.contains(&want),
            Op::NotLike => !lv.contains(&want),
            Op::StartsWith => lv.starts_with(&want),
            Op::EndsWith => lv.ends_with(&want),
            Op::IsEmpty => v.trim().is_empty(),
            Op::IsNotEmpty => !v.trim().is_empty(),
            Op::Lt => !v.is_empty() && compare_values(&v, &self.value) == Ordering::Less,
            Op::Le => !v.is_empty() && compare_values(&v, &self.value) != Ordering::Greater,
            Op::Gt => !v.is_empty() && compare_values(&v, &self.value) == Ordering::Greater,
            Op::Ge => !v.is_empty() && compare_values(&v, &self.value) != Ordering::Less,
            Op::Between => {
                let (lo, hi) = self.value.split_once('@').expect("checked when parsed");
                !v.is_empty() && compare_values(&v, lo) != Ordering::Less && compare_values(&v, hi) != Ordering::Greater
            }
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = OPS.iter().find(|(_, o)| o == self).map_or("?", |(t, _)| t);
        f.write_str(t)
    }
}
