//! What `doctor` found: one finding per problem (with its fix), what was checked per workload,
//! notes about what could not be checked, and the summary. Serialized as `-o json`.

use serde::Serialize;

/// How bad a finding is: errors make `doctor` exit 1, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something is wrong now.
    Error,
    /// Something went wrong recently but looks fine now.
    Warning,
}

impl Severity {
    /// `error`, `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Which check a finding comes from (stable names for `-o json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// A pod lacks a helper its workload's record (or an injector) says it should have.
    HelperMissing,
    /// A helper is waiting (CrashLoopBackOff, ImagePullBackOff…).
    HelperWaiting,
    /// A long-running helper has terminated.
    HelperTerminated,
    /// A helper runs but its startup probe has not passed.
    HelperNotStarted,
    /// A helper runs but is not ready.
    HelperNotReady,
    /// A classic init helper failed.
    HelperInitFailed,
    /// A helper restarted recently; it runs now.
    HelperRestarted,
    /// Warning events about a helper (probe failures, image pulls…).
    HelperEvents,
    /// A native sidecar on a node whose kubelet predates them (1.29).
    NativeSidecarOldKubelet,
    /// The workload's rollout has not caught up with its template.
    RolloutBehind,
    /// The workload's rollout failed (progress deadline).
    RolloutFailed,
    /// Pods still run an older template.
    OldTemplate,
    /// An injector policy without a binding (it injects nothing).
    PolicyUnbound,
    /// An injector policy denied creating pods.
    PolicyDenies,
    /// The workload's tracking record cannot be read.
    RecordUnreadable,
}

/// One problem and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The check.
    pub check: Check,
    /// The object's namespace (`None` for cluster-scoped objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object, as kubectl names it (`deployment.apps/web`).
    pub object: String,
    /// The pod, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The helper container, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// What was checked for one workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadReport {
    /// The namespace.
    pub namespace: String,
    /// `deployment.apps/web`.
    pub object: String,
    /// The pattern instances its record lists.
    pub instances: Vec<String>,
    /// Injector policies whose binding selects its pods.
    pub injectors: Vec<String>,
    /// The helpers every pod should run.
    pub helpers: Vec<String>,
    /// The pods checked (terminating pods are left out).
    pub pods: usize,
    /// Errors about this workload.
    pub errors: usize,
    /// Warnings about this workload.
    pub warnings: usize,
}

/// A selected workload with nothing to check: no pattern instance, and no injector selects
/// its pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The namespace.
    pub namespace: String,
    /// `deployment.apps/web`.
    pub object: String,
}

/// Counts over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Workloads with helpers to check.
    pub workloads: usize,
    /// Workloads selected that carry no pattern instance and no injector selects.
    pub skipped: usize,
    /// Pods checked.
    pub pods: usize,
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// No errors.
    pub healthy: bool,
}

/// Everything `doctor` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The workloads with helpers, in the order they were selected.
    pub workloads: Vec<WorkloadReport>,
    /// Workloads with nothing to check.
    pub skipped: Vec<Skipped>,
    /// The findings: per workload, then the injector's.
    pub findings: Vec<Finding>,
    /// What could not be checked, and why.
    pub notes: Vec<String>,
}

impl Report {
    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The counts.
    pub fn summary(&self) -> Summary {
        let errors = self.count(Severity::Error);
        Summary {
            workloads: self.workloads.len(),
            skipped: self.skipped.len(),
            pods: self.workloads.iter().map(|w| w.pods).sum(),
            errors,
            warnings: self.count(Severity::Warning),
            healthy: errors == 0,
        }
    }

    /// The report with its summary, as `-o json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["summary"] = serde_json::to_value(self.summary()).unwrap_or_default();
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity) -> Finding {
        Finding {
            severity,
            check: Check::HelperWaiting,
            namespace: Some("shop".into()),
            object: "deployment.apps/web".into(),
            pod: None,
            container: Some("log-shipper".into()),
            message: "m".into(),
            fix: "f".into(),
        }
    }

    #[test]
    fn only_errors_make_a_report_unhealthy() {
        let mut report = Report::default();
        report.findings.push(finding(Severity::Warning));
        assert!(report.summary().healthy);
        report.findings.push(finding(Severity::Error));
        let s = report.summary();
        assert_eq!((s.errors, s.warnings, s.healthy), (1, 1, false));
        let json = report.to_json();
        assert_eq!(json["summary"]["healthy"], false);
        assert_eq!(json["findings"][0]["check"], "helper-waiting");
        assert_eq!(json["findings"][0]["severity"], "warning");
        assert!(json["findings"][0].get("pod").is_none());
    }
}
