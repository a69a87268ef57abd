//! The quickstart's workload: one support ticket with every kind of cost botanu attributes. Shared by
//! `examples/quickstart.rs` and the end-to-end tests, so what the tests send to a real collector is
//! exactly what the quickstart shows.

use botanu::prelude::*;
use botanu::{emit_outcome, Outcome};

/// A provider outage, as an LLM client library would report it.
#[derive(Debug)]
pub struct RateLimited;

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("429 Too Many Requests")
    }
}

impl std::error::Error for RateLimited {}

/// Handles ticket `ticket_id` for `customer`: a run with a step, two LLM calls (the first fails over
/// to a second provider), a tool call, a DB query, an S3 PUT and an SQS publish.
pub fn handle_ticket(ticket_id: u64, customer: &str) -> Result<(), Box<dyn std::error::Error>> {
    let run = run_span!(workflow = "support-ticket", event_id = %ticket_id, customer_id = %customer);
    run.in_scope(|| {
        let step = step_span!("draft-reply");
        let _step = step.enter();

        // The first provider is rate limited; the call fails over to a second one.
        let first = llm_span!(provider = "openai", model = "gpt-4o");
        first.set_attempt(1).set_error(&RateLimited);
        drop(first);

        let second = llm_span!(provider = "Claude", model = "claude-3-5-sonnet");
        second.in_scope(|| { /* the HTTP call to the model */ });
        second
            .set_attempt(2)
            .set_tokens(Tokens {
                input: 1250,
                output: 310,
                cache_read: 800,
                input_counting: InputCounting::ExcludesCache,
                ..Default::default()
            })
            .set_request_id("msg_01XFDUDYJgAACzvnptvVoYEL", None)
            .set_response_model("claude-3-5-sonnet-20241022")
            .set_finish_reason("end_turn");
        drop(second);

        let tool = tool_span!(name = "search_kb", call_id = "call_abc123");
        tool.set_result(ToolResult { success: true, items_returned: 3, ..Default::default() });
        drop(tool);

        let query = db_span!(system = "postgres", operation = "select", database = "tickets");
        query
            .set_result(DbResult { rows_returned: 12, bytes_read: 4096, ..Default::default() })
            .set_table("ticket_history", Some("public"));
        drop(query);

        let upload = storage_span!(system = "s3", operation = "PUT", bucket = "support-transcripts");
        upload.set_result(StorageResult { objects_count: 1, bytes_written: 18_432, ..Default::default() });
        drop(upload);

        let publish = messaging_span!(system = "aws_sqs", operation = "publish", destination = "ticket-events");
        publish.set_result(MessagingResult { message_count: 1, bytes_transferred: 512 });
        drop(publish);

        emit_outcome(
            "success",
            Outcome { value_type: Some("tickets_resolved".into()), value_amount: Some(1.0), ..Default::default() },
        )?;
        Ok(())
    })
}
