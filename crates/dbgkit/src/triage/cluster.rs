//! Clusters: the records of one bug (same stack hash), ranked by severity,
//! then by how many inputs hit it.

use super::class::{CrashClass, Severity};
use super::run::{Outcome, Record};
use std::collections::HashMap;

/// The inputs that crash (or hang) the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    pub hash: String,
    /// The class and severity of the most severe record.
    pub class: CrashClass,
    pub severity: Severity,
    /// Indexes of the cluster's records, in input order.
    pub members: Vec<usize>,
    /// The index of the smallest input.
    pub smallest: usize,
    /// The index of the record that represents the cluster (the first of the most severe).
    pub representative: usize,
}

/// Groups crashing and hanging records by stack hash (a hang never joins a
/// crash), most severe first, then largest, then by hash.
pub fn cluster(records: &[Record]) -> Vec<Cluster> {
    let mut groups: HashMap<(bool, String), Vec<usize>> = HashMap::new();
    let mut order: Vec<(bool, String)> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let Some(analysis) = &record.analysis else { continue };
        if !matches!(record.outcome, Outcome::Crash | Outcome::Hang) {
            continue;
        }
        let key = (record.outcome == Outcome::Hang, analysis.hash.clone());
        let members = groups.entry(key.clone()).or_default();
        if members.is_empty() {
            order.push(key);
        }
        members.push(index);
    }
    let mut clusters: Vec<Cluster> = order
        .into_iter()
        .map(|key| {
            let members = groups.remove(&key).unwrap_or_default();
            let severity_of =
                |i: usize| records[i].analysis.as_ref().map(|a| a.severity()).unwrap_or(Severity::Unknown);
            let representative = members.iter().copied().min_by_key(|&i| (severity_of(i), i)).unwrap_or(members[0]);
            let smallest = members.iter().copied().min_by_key(|&i| (records[i].size, i)).unwrap_or(members[0]);
            let class = records[representative].analysis.as_ref().map(|a| a.class.clone()).unwrap_or(CrashClass::Abort);
            Cluster { hash: key.1, severity: severity_of(representative), class, members, smallest, representative }
        })
        .collect();
    clusters.sort_by(|a, b| {
        a.severity.cmp(&b.severity).then(b.members.len().cmp(&a.members.len())).then(a.hash.cmp(&b.hash))
    });
    clusters
}
