//! One support ticket handled end to end, with every kind of cost botanu attributes.
//!
//! `cargo run --example quickstart` prints the exported spans and a metrics summary to stdout: with no
//! collector configured, botanu uses its console exporter. Point it at a collector with
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318` to send the same data over OTLP. It ends with
//! the cost per workflow (`BotanuGuard::cost_summary`): runs, LLM calls, tokens, estimated cost,
//! unpriced spans and cost per unit of outcome.

#[path = "common/ticket.rs"]
mod ticket;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let guard = botanu::init()?;
    ticket::handle_ticket(4711, "acme-corp")?;
    // The run has closed: its roll-up is in the summary. Read it before the guard goes.
    let costs = guard.cost_summary();
    // Shutting down flushes the spans and prints the metrics summary.
    guard.shutdown()?;
    println!("\ncost per workflow (estimated, runs closed in this process)\n{costs}");
    Ok(())
}
