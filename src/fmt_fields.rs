//! The field formatter of the `fmt` layer [`init`](crate::init) installs on stderr.
//!
//! The stock formatter prints every field as the application wrote it, so a stderr log would show in
//! clear what botanu redacts in the exported copy (`authorization=…`, `api_key=…`, `token=…`), and a
//! field whose `Debug` panics would unwind through the subscriber into the application — and, in a span's
//! fields, leave the span half-made, never closed and never exported. [`RedactingFields`] prints like
//! the stock formatter but masks values of secret-looking keys with the scrubber's replacement (the same
//! [`SecretKeys`] the layer uses) and catches a panicking `Debug`/`Display`, printing a marker instead.
//! An event's message (`info!("calling with Bearer {key}")`) is scrubbed with the layer's content
//! scrubber, the same detectors that scrub the exported copy of the message.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use tracing_core::field::{Field, Visit};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::FormatFields;

use crate::content::Scrubber;
use crate::semconv as k;
use crate::text::{DEBUG_PANICKED, DISPLAY_PANICKED};

/// What the formatter redacts with: the layer's secret keys and content scrubber (the layer implements
/// it, so this module needs nothing of the layer's).
pub(crate) trait Redaction: Send + Sync {
    /// Whether a field of this name holds a secret.
    fn is_secret(&self, name: &str) -> bool;
    /// The content scrubber (its replacement masks secret fields).
    fn scrubber(&self) -> &Scrubber;
}

/// Formats span and event fields for the stderr `fmt` layer: secrets masked, messages scrubbed, panics
/// caught.
pub(crate) struct RedactingFields {
    redaction: Arc<dyn Redaction>,
}

impl fmt::Debug for RedactingFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactingFields").finish_non_exhaustive()
    }
}

impl RedactingFields {
    pub(crate) fn new(redaction: Arc<dyn Redaction>) -> Self {
        RedactingFields { redaction }
    }

    fn scrubber(&self) -> &Scrubber {
        self.redaction.scrubber()
    }
}

impl<'writer> FormatFields<'writer> for RedactingFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Redacting { inner: DefaultVisitor::new(writer, true), fields: self };
        fields.record(&mut visitor);
        visitor.inner.finish()
    }
}

/// The stock [`DefaultVisitor`] behind a filter: secret values replaced, user formatting run first
/// under `catch_unwind`, so only plain strings reach the stock visitor.
struct Redacting<'w, 'f> {
    inner: DefaultVisitor<'w>,
    fields: &'f RedactingFields,
}

impl Redacting<'_, '_> {
    /// Writes the replacement instead of `field`'s value when its name looks like a secret.
    fn redacted(&mut self, field: &Field) -> bool {
        let secret = self.fields.redaction.is_secret(field.name());
        if secret {
            self.inner.record_str(field, self.fields.scrubber().replacement());
        }
        secret
    }
}

impl Visit for Redacting<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == k::MESSAGE {
            let scrubbed = self.fields.scrubber().scrub(value);
            self.inner.record_str(field, &scrubbed);
        } else if !self.redacted(field) {
            self.inner.record_str(field, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.redacted(field) {
            self.inner.record_i64(field, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.redacted(field) {
            self.inner.record_u64(field, value);
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if !self.redacted(field) {
            self.inner.record_i128(field, value);
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if !self.redacted(field) {
            self.inner.record_u128(field, value);
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.redacted(field) {
            self.inner.record_f64(field, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.redacted(field) {
            self.inner.record_bool(field, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.redacted(field) {
            return;
        }
        // A trial run of the error's and its sources' `Display` into a sink: the stock visitor prints
        // them only if none panics.
        let trial = catch_unwind(AssertUnwindSafe(|| {
            let mut error = Some(value);
            while let Some(e) = error {
                let _ = fmt::write(&mut Sink, format_args!("{e}"));
                error = e.source();
            }
        }));
        match trial {
            Ok(()) => self.inner.record_error(field, value),
            Err(_) => self.inner.record_debug(field, &format_args!("{DISPLAY_PANICKED}")),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.redacted(field) {
            return;
        }
        match catch_unwind(AssertUnwindSafe(|| format!("{value:?}"))) {
            // A message may quote a key (`info!("calling with Bearer {key}")`): scrubbed like the export's.
            Ok(text) if field.name() == k::MESSAGE => {
                let scrubbed = self.fields.scrubber().scrub(&text);
                self.inner.record_debug(field, &format_args!("{scrubbed}"))
            }
            Ok(text) => self.inner.record_debug(field, &format_args!("{text}")),
            Err(_) => self.inner.record_debug(field, &format_args!("{DEBUG_PANICKED}")),
        }
    }
}

/// A `fmt::Write` that discards what it is given.
struct Sink;

impl fmt::Write for Sink {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Ok(())
    }
}
