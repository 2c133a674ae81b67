//! Prometheus Alertmanager webhooks (payload version 4), as Alertmanager's `webhook_config` posts them:
//!
//! ```json
//! {"version": "4", "groupKey": "…", "truncatedAlerts": 0, "status": "firing", "receiver": "vigie",
//!  "groupLabels": {…}, "commonLabels": {…}, "commonAnnotations": {…}, "externalURL": "…",
//!  "alerts": [{"status": "firing", "labels": {…}, "annotations": {…}, "startsAt": "…", "endsAt": "…",
//!              "generatorURL": "…", "fingerprint": "…"}]}
//! ```
//!
//! Each alert maps to the checks whose labels it carries (every `name=value` of the check's `labels` equal in the
//! alert), or to the check named by its `vigie_check` label. A firing alert is CRITICAL, or WARNING when its
//! `severity` label says `warning` (`info` and `none`: OK); a resolved one is OK.

use crate::status::Status;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub version: String,
    #[serde(default)]
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u64,
    pub status: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub status: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    #[serde(default)]
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("unsupported Alertmanager payload version {0:?}: expected \"4\"")]
    Version(String),
    #[error("alert {index}: status must be \"firing\" or \"resolved\", found {found:?}")]
    Status { index: usize, found: String },
}

impl Payload {
    /// Checks what the mapping relies on.
    pub fn validate(&self) -> Result<(), PayloadError> {
        if self.version != "4" {
            return Err(PayloadError::Version(self.version.clone()));
        }
        for (index, a) in self.alerts.iter().enumerate() {
            if a.status != "firing" && a.status != "resolved" {
                return Err(PayloadError::Status { index, found: a.status.clone() });
            }
        }
        Ok(())
    }
}

impl Alert {
    /// The status the alert gives its checks.
    pub fn check_status(&self) -> Status {
        if self.status == "resolved" {
            return Status::Ok;
        }
        match self.labels.get("severity").map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("warning" | "warn") => Status::Warning,
            Some("info" | "none") => Status::Ok,
            _ => Status::Critical,
        }
    }
    /// The output recorded with the result: the summary or description annotation, else the alert name.
    pub fn output(&self) -> String {
        let text = self
            .annotations
            .get("summary")
            .or_else(|| self.annotations.get("description"))
            .or_else(|| self.labels.get("alertname"))
            .cloned()
            .unwrap_or_default();
        format!("[Alertmanager {}] {text}", self.status)
    }
}

/// Label pairs, sorted.
type Labels = Vec<(String, String)>;

/// Finds checks by an alert's labels. Built once per registry: checks are indexed by their first label pair.
#[derive(Debug, Default, Clone)]
pub struct LabelIndex {
    by_first: HashMap<(String, String), Vec<(Labels, u32)>>,
    by_id: HashMap<String, u32>,
}

impl LabelIndex {
    /// `checks`: each check's id, sorted labels and slot.
    pub fn new<'a>(checks: impl IntoIterator<Item = (&'a str, &'a [(String, String)], u32)>) -> LabelIndex {
        let mut ix = LabelIndex::default();
        for (id, labels, slot) in checks {
            ix.by_id.insert(id.to_string(), slot);
            if let Some(first) = labels.first() {
                ix.by_first.entry(first.clone()).or_default().push((labels.to_vec(), slot));
            }
        }
        ix
    }

    /// The checks an alert stands for.
    pub fn find(&self, labels: &BTreeMap<String, String>) -> Vec<u32> {
        if let Some(slot) = labels.get("vigie_check").and_then(|id| self.by_id.get(id)) {
            return vec![*slot];
        }
        let mut out = Vec::new();
        for (k, v) in labels {
            if let Some(cands) = self.by_first.get(&(k.clone(), v.clone())) {
                for (want, slot) in cands {
                    if want.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                        out.push(*slot);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Alertmanager v4 webhook body, as Alertmanager 0.27 sends it.
    const BODY: &str = r#"{
      "receiver": "vigie", "status": "firing", "version": "4",
      "groupKey": "{}:{alertname=\"HostDown\"}", "truncatedAlerts": 0,
      "groupLabels": {"alertname": "HostDown"},
      "commonLabels": {"alertname": "HostDown", "job": "node"},
      "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
      "alerts": [
        {"status": "firing", "labels": {"alertname": "HostDown", "instance": "pc-1", "job": "node", "severity": "critical"},
         "annotations": {"summary": "pc-1 ne répond plus"}, "startsAt": "2024-07-26T17:00:00Z",
         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph", "fingerprint": "a1b2"},
        {"status": "resolved", "labels": {"alertname": "HostDown", "instance": "pc-2", "job": "node"},
         "annotations": {}, "startsAt": "2024-07-26T16:00:00Z", "endsAt": "2024-07-26T16:30:00Z",
         "generatorURL": "", "fingerprint": "c3d4"},
        {"status": "firing", "labels": {"alertname": "Disk", "vigie_check": "SRV-DISK", "severity": "warning"},
         "annotations": {"description": "disque à 85 %"}, "startsAt": "2024-07-26T17:00:00Z",
         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "e5f6"}
      ]}"#;

    #[test]
    fn a_v4_payload_maps_to_checks_and_statuses() {
        let p: Payload = serde_json::from_str(BODY).unwrap();
        p.validate().unwrap();
        let l = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let (pc1, pc2, disk, other) = (
            l(&[("alertname", "HostDown"), ("instance", "pc-1")]),
            l(&[("alertname", "HostDown"), ("instance", "pc-2")]),
            l(&[]),
            l(&[("alertname", "HostDown"), ("instance", "pc-9")]),
        );
        let ix = LabelIndex::new([
            ("PC-1", &pc1[..], 0),
            ("PC-2", &pc2[..], 1),
            ("SRV-DISK", &disk[..], 2),
            ("PC-9", &other[..], 3),
        ]);
        let got: Vec<(Vec<u32>, Status)> = p.alerts.iter().map(|a| (ix.find(&a.labels), a.check_status())).collect();
        assert_eq!(got, [(vec![0], Status::Critical), (vec![1], Status::Ok), (vec![2], Status::Warning)]);
        assert_eq!(p.alerts[0].output(), "[Alertmanager firing] pc-1 ne répond plus");
        assert_eq!(p.alerts[2].output(), "[Alertmanager firing] disque à 85 %");
        // Round trip: what we parse, we write back the same.
        let back: Payload = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn other_versions_and_statuses_are_refused() {
        let mut p: Payload = serde_json::from_str(BODY).unwrap();
        p.alerts[1].status = "pending".into();
        assert_eq!(p.validate(), Err(PayloadError::Status { index: 1, found: "pending".into() }));
        p.version = "3".into();
        assert!(p.validate().unwrap_err().to_string().contains("expected \"4\""));
    }
}
