//! Throughput of the PII scrubber on 4 KiB of clean prose and of PII-dense text, and its worst
//! cases: each hostile family of `tests/scrub_adversarial.rs` at 4 KiB, 64 KiB and 1 MiB, whose
//! time per byte must stay flat (linear time).
//!
//! `cargo bench --bench scrub -- --quick` (the worst cases alone: `-- --quick worst_case`)

use std::hint::black_box;

use botanu::content::{ScrubOptions, Scrubber};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const KIB4: usize = 4096;

/// English prose with the punctuation and small numbers real prompts have.
fn clean_prose() -> String {
    let sentences = [
        "The assistant reviewed 3 items in the order, then summarised the remaining questions. ",
        "Note: the meeting moved to 12:30, so the team will meet in room 4 on the second floor. ",
        "Revenue grew by 12% in 2024, driven by enterprise plans, while costs stayed flat. ",
        "Please compare version 2.1 with the previous release; the changes are listed below. ",
        "Customers asked about refunds, shipping times, and whether the bundle includes 2 cables. ",
        "In short: latency dropped, accuracy improved, and the budget held at about $1,200. ",
    ];
    let mut text = String::new();
    let mut i = 0;
    while text.len() < KIB4 {
        text.push_str(sentences[i % sentences.len()]);
        i += 1;
    }
    text.truncate(KIB4);
    text
}

/// An e-mail, phone number, IP address or card number about every 60 characters.
fn pii_dense() -> String {
    let lines = [
        "Please email alice.smith@example.com about the invoice today. ",
        "Call the customer back at (415) 555-1234 before noon, thanks. ",
        "The request came from 192.168.10.42 and failed on retry now. ",
        "Card on file 4111 1111 1111 1111 was declined by the bank ok. ",
        "Escalate to bob+billing@sub.example.co.uk if nobody answers. ",
        "Her mobile is +14155550199 and the office is 415-555-0100 ok. ",
    ];
    let mut text = String::new();
    let mut i = 0;
    while text.len() < KIB4 {
        text.push_str(lines[i % lines.len()]);
        i += 1;
    }
    text.truncate(KIB4);
    text
}

fn bench(c: &mut Criterion) {
    let scrubber = match Scrubber::new(&ScrubOptions::default()) {
        Ok(s) => s,
        Err(err) => panic!("default options are valid: {err}"),
    };
    let mut group = c.benchmark_group("scrub");
    for (name, text) in [("clean_prose_4k", clean_prose()), ("pii_dense_4k", pii_dense())] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| b.iter(|| scrubber.scrub(black_box(&text)).len()));
    }
    let mut huge = clean_prose().repeat(10 * 1024 * 1024 / KIB4);
    huge.push_str(&pii_dense());
    group.throughput(Throughput::Elements(1));
    group.bench_function("bounded_10mb_to_4096", |b| b.iter(|| scrubber.scrub_bounded(black_box(&huge), 4096).len()));
    group.finish();
}

/// The hostile families of `tests/scrub_adversarial.rs`: each used to take time quadratic in its length.
#[path = "../tests/support/scrub_families.rs"]
mod families;
use families::FAMILIES;

/// Criterion reports time per iteration and bytes per second; ns per byte is 1e9 / that rate.
fn worst_case(c: &mut Criterion) {
    let scrubber = Scrubber::default();
    let mut group = c.benchmark_group("worst_case");
    group.sample_size(10);
    for (name, unit) in FAMILIES {
        for len in [4 * 1024, 64 * 1024, 1024 * 1024] {
            let mut text = unit.repeat(len / unit.len() + 1);
            text.truncate(len);
            group.throughput(Throughput::Bytes(len as u64));
            group.bench_with_input(BenchmarkId::new(name, len), &text, |b, text| {
                b.iter(|| scrubber.scrub(black_box(text)).len())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench, worst_case);
criterion_main!(benches);
