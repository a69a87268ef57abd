//! How a run ended, as the contract names it: the six outcome statuses and their wire values. Pure: the
//! setters (`emit_outcome`) and the layer's run-close rules (deadline, dropped future) both use it.

use std::fmt;

/// Outcome status of a run (`emit_outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeStatus {
    /// The business event succeeded.
    Success,
    /// Partly succeeded.
    Partial,
    /// Failed.
    Failed,
    /// Timed out.
    Timeout,
    /// Canceled.
    Canceled,
    /// Abandoned.
    Abandoned,
}

impl OutcomeStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Success => "success",
            OutcomeStatus::Partial => "partial",
            OutcomeStatus::Failed => "failed",
            OutcomeStatus::Timeout => "timeout",
            OutcomeStatus::Canceled => "canceled",
            OutcomeStatus::Abandoned => "abandoned",
        }
    }
}

/// An outcome status that is not one of the six the contract knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOutcomeStatus(pub String);

impl fmt::Display for InvalidOutcomeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid outcome status {:?}: expected one of success, partial, failed, timeout, canceled, abandoned",
            self.0
        )
    }
}

impl std::error::Error for InvalidOutcomeStatus {}

impl std::str::FromStr for OutcomeStatus {
    type Err = InvalidOutcomeStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            OutcomeStatus::Success,
            OutcomeStatus::Partial,
            OutcomeStatus::Failed,
            OutcomeStatus::Timeout,
            OutcomeStatus::Canceled,
            OutcomeStatus::Abandoned,
        ];
        all.into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| InvalidOutcomeStatus(s.to_owned()))
    }
}
