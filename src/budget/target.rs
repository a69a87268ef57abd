//! [`BudgetTarget`]: what a reservation or a settled span is for.

use std::sync::Arc;

use super::cap::Scope;

/// What a reservation or a settled span is for: the run and the run's workflow, customer and tenant.
/// Caps apply by these; [`Scope::Process`] caps apply to everything.
///
/// ```
/// use botanu::budget::BudgetTarget;
/// let target = BudgetTarget::default().with_run("r-1").with_customer("acme").with_workflow("support");
/// assert_eq!(target.customer.as_deref(), Some("acme"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetTarget {
    /// The run id.
    pub run_id: Option<Arc<str>>,
    /// The workflow.
    pub workflow: Option<Arc<str>>,
    /// The customer id.
    pub customer: Option<Arc<str>>,
    /// The tenant id.
    pub tenant: Option<Arc<str>>,
}

impl BudgetTarget {
    /// With the run id.
    ///
    /// ```
    /// assert!(botanu::budget::BudgetTarget::default().with_run("r").run_id.is_some());
    /// ```
    #[must_use]
    pub fn with_run(mut self, run_id: impl Into<Arc<str>>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// With the workflow.
    ///
    /// ```
    /// assert!(botanu::budget::BudgetTarget::default().with_workflow("w").workflow.is_some());
    /// ```
    #[must_use]
    pub fn with_workflow(mut self, workflow: impl Into<Arc<str>>) -> Self {
        self.workflow = Some(workflow.into());
        self
    }

    /// With the customer id.
    ///
    /// ```
    /// assert!(botanu::budget::BudgetTarget::default().with_customer("c").customer.is_some());
    /// ```
    #[must_use]
    pub fn with_customer(mut self, customer: impl Into<Arc<str>>) -> Self {
        self.customer = Some(customer.into());
        self
    }

    /// With the tenant id.
    ///
    /// ```
    /// assert!(botanu::budget::BudgetTarget::default().with_tenant("t").tenant.is_some());
    /// ```
    #[must_use]
    pub fn with_tenant(mut self, tenant: impl Into<Arc<str>>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The value a cap of `scope` is keyed by, for this target (`Some("")` for process: always applies).
    pub(super) fn value(&self, scope: Scope) -> Option<&str> {
        match scope {
            Scope::Run => self.run_id.as_deref(),
            Scope::Customer => self.customer.as_deref(),
            Scope::Tenant => self.tenant.as_deref(),
            Scope::Workflow => self.workflow.as_deref(),
            Scope::Process => Some(""),
        }
    }
}
