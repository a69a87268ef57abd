//! A producer and a consumer thread joined by a channel that carries message headers, as Kafka, SQS
//! or NATS would: the consumer's spans land in the producer's trace and carry its run id.
//!
//! `cargo run --example queue` prints the spans of both sides (console exporter).

use std::sync::mpsc;

use botanu::prelude::*;
use botanu::propagation::{self, RunRelation};

/// A message on the queue: headers (trace context, baggage) and a payload.
struct Message {
    headers: Vec<(String, String)>,
    body: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let guard = botanu::init()?;
    let (tx, rx) = mpsc::channel::<Message>();

    let producer = std::thread::spawn(move || {
        for doc in ["invoice-17", "invoice-18"] {
            run_span!(workflow = "document-intake", event_id = %doc, customer_id = "acme").in_scope(|| {
                let publish = messaging_span!(system = "kafka", operation = "publish", destination = "documents");
                let mut headers = Vec::new();
                publish.in_scope(|| propagation::inject(&mut headers));
                publish.set_result(MessagingResult { message_count: 1, bytes_transferred: doc.len() as u64 });
                // The receiver outlives the producer; a send error would only mean it stopped early.
                let _ = tx.send(Message { headers, body: doc.to_owned() });
            });
        }
    });

    let consumer = std::thread::spawn(move || {
        for message in rx {
            let consume = messaging_span!(system = "kafka", operation = "consume", destination = "documents");
            // Continue the producer's run: same run id, same trace.
            consume.set_remote_parent(&propagation::extract(&message.headers), RunRelation::Continue);
            consume.in_scope(|| {
                let llm = llm_span!(provider = "anthropic", model = "claude-3-5-haiku");
                llm.set_tokens(Tokens { input: 40 * message.body.len() as u64, output: 120, ..Default::default() });
            });
        }
    });

    producer.join().map_err(|_| "producer panicked")?;
    consumer.join().map_err(|_| "consumer panicked")?;
    guard.shutdown()?;
    Ok(())
}
