//! Public list prices of data operations: warehouse scans, object-storage requests, queue messages,
//! DynamoDB request units.
//!
//! One row per (system, price class), with the public page it comes from and the date it was read. The
//! prices are the published on-demand list prices of a default region (US East where regions differ),
//! before free tiers, volume tiers and negotiated discounts; they are estimates, stamped with
//! [`DATA_PRICES_SOURCE`]. `confirmed` says whether the figure was checked against a public page when the
//! table was written (see each row's `note`), or is from memory and awaits checking.

use std::sync::Arc;

use super::{Cost, CostParts, Priced, Provenance, UnpricedReason};

/// `botanu.cost.source` of the list prices below: the date the table was last checked.
pub const DATA_PRICES_SOURCE: &str = "list-price 2026-12-02";

const TIB: f64 = 1_099_511_627_776.0;
const TB: f64 = 1_000_000_000_000.0;
const MB: f64 = 1_000_000.0;

/// What a data price is charged on, and how many units the price is quoted for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DataUnit {
    /// Bytes scanned (`botanu.warehouse.bytes_scanned`), price per `per` bytes, at least `min_bytes` per query.
    BytesScanned {
        /// Bytes the price is quoted for (a TiB, a TB).
        per: f64,
        /// Minimum billed per query.
        min_bytes: f64,
    },
    /// Requests, price per `per` requests.
    Requests {
        /// Requests the price is quoted for.
        per: f64,
    },
    /// Requests counted in payload chunks, price per `per` requests: each request is billed as
    /// `ceil(payload / chunk_bytes)` requests, at least one (SQS: "each 64 KB chunk of a payload is
    /// billed as 1 request"); the payload is the bytes transferred, when recorded.
    RequestChunks {
        /// Requests the price is quoted for.
        per: f64,
        /// Bytes of payload one billed request carries.
        chunk_bytes: f64,
    },
    /// Bytes published or delivered (`botanu.bytes_transferred`), price per `per` bytes, at least
    /// `min_bytes_per_request` per request.
    BytesTransferred {
        /// Bytes the price is quoted for.
        per: f64,
        /// Minimum billed per request.
        min_bytes_per_request: f64,
    },
    /// Read request units, price per `per` units.
    ReadUnits {
        /// Units the price is quoted for.
        per: f64,
    },
    /// Write request units, price per `per` units.
    WriteUnits {
        /// Units the price is quoted for.
        per: f64,
    },
}

/// One list price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataPriceRow {
    /// Normalized system (contract §2): `bigquery`, `athena`, `s3`, `gcs`, `azure_blob`, `sqs`, `sns`,
    /// `pubsub`, `dynamodb`.
    pub system: &'static str,
    /// Price class, written as `botanu.cost.model`: e.g. `s3.put_class`.
    pub class: &'static str,
    /// Operations (case-insensitive) this row prices; `*` = every operation.
    pub operations: &'static [&'static str],
    /// What the price is charged on.
    pub unit: DataUnit,
    /// USD per [`DataUnit`]'s `per` units.
    pub usd: f64,
    /// The public pricing page.
    pub source_url: &'static str,
    /// When the figure was read.
    pub as_of: &'static str,
    /// Whether the figure was confirmed against a public page (the `note` says which); `false` = from
    /// memory, to be checked.
    pub confirmed: bool,
    /// Where it was confirmed, or what is simplified.
    pub note: &'static str,
}

const S3_PAGE: &str = "https://aws.amazon.com/s3/pricing/";
const GCS_PAGE: &str = "https://cloud.google.com/storage/pricing";
const AZURE_BLOB_PAGE: &str = "https://azure.microsoft.com/en-us/pricing/details/storage/blobs/";

/// The list-price table.
pub const DATA_PRICES: &[DataPriceRow] = &[
    DataPriceRow {
        system: "bigquery",
        class: "bigquery.on_demand_scan",
        operations: &["*"],
        unit: DataUnit::BytesScanned { per: TIB, min_bytes: 10.0 * MB },
        usd: 6.25,
        source_url: "https://cloud.google.com/bigquery/pricing#on_demand_pricing",
        as_of: "2026-12-02",
        confirmed: true,
        note: "$6.25 per TiB on-demand, 10 MB minimum per query (and per table: not seen here); confirmed via \
               adriennevermorel.com/notes/bigquery-on-demand-billing-mechanics and cloudwebschool.com",
    },
    DataPriceRow {
        system: "athena",
        class: "athena.scan",
        operations: &["*"],
        unit: DataUnit::BytesScanned { per: TB, min_bytes: 10.0 * MB },
        usd: 5.0,
        source_url: "https://aws.amazon.com/athena/pricing/",
        as_of: "2026-12-02",
        confirmed: true,
        note: "$5 per TB scanned, 10 MB minimum per query; confirmed via athena.guide and rcpedia.stanford.edu",
    },
    DataPriceRow {
        system: "s3",
        class: "s3.put_class",
        operations: &["PUT", "COPY", "POST", "LIST", "MULTIPART_UPLOAD"],
        unit: DataUnit::Requests { per: 1_000.0 },
        usd: 0.005,
        source_url: S3_PAGE,
        as_of: "2026-12-02",
        confirmed: true,
        note: "S3 Standard PUT/COPY/POST/LIST $0.005 per 1,000; confirmed via c3x.dev/blog/s3-request-fees-explained \
               and athena.guide",
    },
    DataPriceRow {
        system: "s3",
        class: "s3.get_class",
        operations: &["GET", "HEAD", "SELECT"],
        unit: DataUnit::Requests { per: 1_000.0 },
        usd: 0.0004,
        source_url: S3_PAGE,
        as_of: "2026-12-02",
        confirmed: true,
        note: "S3 Standard GET/HEAD/SELECT $0.0004 per 1,000; confirmed via c3x.dev and athena.guide",
    },
    DataPriceRow {
        system: "s3",
        class: "s3.delete",
        operations: &["DELETE"],
        unit: DataUnit::Requests { per: 1_000.0 },
        usd: 0.0,
        source_url: S3_PAGE,
        as_of: "2026-12-02",
        confirmed: true,
        note: "DELETE is free; confirmed via aws.amazon.com/s3/faqs (\"doesn't charge you for removing objects\")",
    },
    DataPriceRow {
        system: "gcs",
        class: "gcs.class_a",
        operations: &["PUT", "COPY", "POST", "LIST", "MULTIPART_UPLOAD"],
        unit: DataUnit::Requests { per: 1_000.0 },
        usd: 0.005,
        source_url: GCS_PAGE,
        as_of: "2026-12-02",
        confirmed: true,
        note: "Standard storage Class A $0.005 per 1,000; confirmed on cloud.google.com/storage/pricing-examples",
    },
    DataPriceRow {
        system: "gcs",
        class: "gcs.class_b",
        operations: &["GET", "HEAD"],
        unit: DataUnit::Requests { per: 1_000.0 },
        usd: 0.0004,
        source_url: GCS_PAGE,
        as_of: "2026-12-02",
        confirmed: true,
        note: "Standard storage Class B $0.0004 per 1,000; confirmed on cloud.google.com/storage/pricing-examples",
    },
    DataPriceRow {
        system: "gcs",
        class: "gcs.free",
        operations: &["DELETE"],
        unit: DataUnit::Requests { per: 1_000.0 },
        usd: 0.0,
        source_url: GCS_PAGE,
        as_of: "2026-12-02",
        confirmed: true,
        note:
            "DELETE is a free operation; confirmed via the operations-by-class table (cloud.google.com/storage/pricing)",
    },
    DataPriceRow {
        system: "azure_blob",
        class: "azure_blob.hot_write",
        operations: &["PUT", "COPY", "POST", "LIST", "MULTIPART_UPLOAD"],
        unit: DataUnit::Requests { per: 10_000.0 },
        usd: 0.05,
        source_url: AZURE_BLOB_PAGE,
        as_of: "2026-12-02",
        confirmed: false,
        note: "FROM MEMORY, unconfirmed: Hot LRS write (and list) operations $0.05 per 10,000",
    },
    DataPriceRow {
        system: "azure_blob",
        class: "azure_blob.hot_read",
        operations: &["GET", "HEAD"],
        unit: DataUnit::Requests { per: 10_000.0 },
        usd: 0.004,
        source_url: AZURE_BLOB_PAGE,
        as_of: "2026-12-02",
        confirmed: false,
        note: "FROM MEMORY, unconfirmed: Hot LRS read operations $0.004 per 10,000",
    },
    DataPriceRow {
        system: "azure_blob",
        class: "azure_blob.delete",
        operations: &["DELETE"],
        unit: DataUnit::Requests { per: 10_000.0 },
        usd: 0.0,
        source_url: AZURE_BLOB_PAGE,
        as_of: "2026-12-02",
        confirmed: false,
        note: "FROM MEMORY, unconfirmed: delete operations are free",
    },
    DataPriceRow {
        system: "sqs",
        class: "sqs.standard_requests",
        operations: &["*"],
        unit: DataUnit::RequestChunks { per: 1_000_000.0, chunk_bytes: 65_536.0 },
        usd: 0.40,
        source_url: "https://aws.amazon.com/sqs/pricing/",
        as_of: "2026-12-02",
        confirmed: true,
        note: "Standard queue $0.40 per million requests (each 64 KB chunk is a request; FIFO is $0.50); confirmed \
               via cloudburn.io/blog/amazon-sqs-pricing and factualminds.com",
    },
    DataPriceRow {
        system: "sns",
        class: "sns.standard_publish",
        operations: &["publish", "send"],
        unit: DataUnit::Requests { per: 1_000_000.0 },
        usd: 0.50,
        source_url: "https://aws.amazon.com/sns/pricing/",
        as_of: "2026-12-02",
        confirmed: true,
        note: "Standard topic publish $0.50 per million (deliveries billed separately, not here); confirmed via \
               factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols",
    },
    DataPriceRow {
        system: "pubsub",
        class: "pubsub.throughput",
        operations: &["*"],
        unit: DataUnit::BytesTransferred { per: TIB, min_bytes_per_request: 1_000.0 },
        usd: 40.0,
        source_url: "https://cloud.google.com/pubsub/pricing",
        as_of: "2026-12-02",
        confirmed: true,
        note: "Throughput $40 per TiB, at least 1000 bytes per publish/pull/push request; confirmed on \
               cloud.google.com/pubsub/pricing",
    },
    DataPriceRow {
        system: "dynamodb",
        class: "dynamodb.on_demand_read",
        operations: &["*"],
        unit: DataUnit::ReadUnits { per: 1_000_000.0 },
        usd: 0.125,
        source_url: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        as_of: "2026-12-02",
        confirmed: true,
        note: "On-demand $0.125 per million read request units (since the November 2024 cut); confirmed via \
               airbyte.com/data-engineering-resources/dynamodb-pricing",
    },
    DataPriceRow {
        system: "dynamodb",
        class: "dynamodb.on_demand_write",
        operations: &["*"],
        unit: DataUnit::WriteUnits { per: 1_000_000.0 },
        usd: 0.625,
        source_url: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        as_of: "2026-12-02",
        confirmed: true,
        note: "On-demand $0.625 per million write request units (since the November 2024 cut); confirmed via \
               airbyte.com/data-engineering-resources/dynamodb-pricing",
    },
];

/// The figures of one data operation that a list price can be charged on. Zero = not recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DataUsage<'a> {
    /// Normalized system (contract §2): `bigquery`, `s3`, `sqs`, …
    pub system: &'a str,
    /// Operation as the span records it: `SELECT`, `PUT`, `publish`, … (case-insensitive).
    pub operation: &'a str,
    /// Bytes a warehouse query scanned (`botanu.warehouse.bytes_scanned`).
    pub bytes_scanned: u64,
    /// Bytes published or delivered (`botanu.messaging.bytes_transferred`, `botanu.bytes_transferred`).
    pub bytes_transferred: u64,
    /// API requests the operation made (a storage or messaging span is usually one).
    pub requests: u64,
    /// Read request units consumed (DynamoDB `ConsumedCapacity`).
    pub read_units: f64,
    /// Write request units consumed.
    pub write_units: f64,
}

/// Prices one data operation from [`DATA_PRICES`].
///
/// Unpriced when the system has no row (`unknown_provider`), the operation has none (`unknown_model`),
/// or the span has none of the figures the matching rows charge on (`no_usage`). A documented free
/// operation (an S3 `DELETE`) is priced, at `0.0`, with its source.
///
/// ```
/// use botanu::cost::{price_data_operation, Cost, DataUsage};
///
/// // 1 TiB scanned by a BigQuery on-demand query.
/// let usage = DataUsage { system: "bigquery", operation: "SELECT", bytes_scanned: 1 << 40, ..Default::default() };
/// assert_eq!(price_data_operation(&usage).usd(), Some(6.25));
/// ```
pub fn price_data_operation(usage: &DataUsage<'_>) -> Cost {
    let mut rows = DATA_PRICES.iter().filter(|row| row.system.eq_ignore_ascii_case(usage.system)).peekable();
    if rows.peek().is_none() {
        return Cost::unpriced(UnpricedReason::UnknownProvider);
    }
    let mut matched = false;
    let mut total = 0.0;
    let mut priced_class = None;
    for row in rows.filter(|row| {
        row.operations.iter().any(|operation| *operation == "*" || operation.eq_ignore_ascii_case(usage.operation))
    }) {
        matched = true;
        if let Some(usd) = row_price(row, usage) {
            total += usd;
            priced_class.get_or_insert(row.class);
        }
    }
    match (matched, priced_class) {
        (false, _) => Cost::unpriced(UnpricedReason::UnknownModel),
        (true, None) => Cost::unpriced(UnpricedReason::NoUsage),
        (true, Some(class)) => Cost::Priced(Priced {
            total_usd: total,
            parts: CostParts { data_usd: total, ..CostParts::default() },
            provenance: Provenance {
                source: Arc::from(DATA_PRICES_SOURCE),
                provider: Arc::from(usage.system.to_ascii_lowercase()),
                model: Some(Arc::from(class)),
                estimated: true,
            },
            estimate_usd: None,
        }),
    }
}

/// The row's price for the usage, or `None` when the usage lacks the row's figure.
#[allow(clippy::cast_precision_loss)] // byte and request counts; f64 keeps 15 significant digits
fn row_price(row: &DataPriceRow, usage: &DataUsage<'_>) -> Option<f64> {
    let positive = |value: f64| (value.is_finite() && value > 0.0).then_some(value);
    match row.unit {
        DataUnit::BytesScanned { per, min_bytes } => {
            let bytes = positive(usage.bytes_scanned as f64)?;
            Some(row.usd * bytes.max(min_bytes) / per)
        }
        DataUnit::Requests { per } => Some(row.usd * positive(usage.requests as f64)? / per),
        DataUnit::RequestChunks { per, chunk_bytes } => {
            let requests = positive(usage.requests as f64)?;
            // The payload of one request (each billed attempt carries it whole).
            let chunks = (usage.bytes_transferred as f64 / chunk_bytes).ceil().max(1.0);
            Some(row.usd * requests * chunks / per)
        }
        DataUnit::BytesTransferred { per, min_bytes_per_request } => {
            let bytes = usage.bytes_transferred as f64;
            let requests = usage.requests as f64;
            let billed = positive(bytes.max(min_bytes_per_request * requests))?;
            Some(row.usd * billed / per)
        }
        DataUnit::ReadUnits { per } => Some(row.usd * positive(usage.read_units)? / per),
        DataUnit::WriteUnits { per } => Some(row.usd * positive(usage.write_units)? / per),
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    /// SQS bills each 64 KiB chunk of a request's payload as a request (issue 29).
    #[test]
    fn sqs_requests_are_counted_in_64_kib_chunks() {
        let per_request = 0.40 / 1_000_000.0;
        for (bytes, requests, billed) in
            [(0, 1, 1.0), (5, 1, 1.0), (65_536, 1, 1.0), (65_537, 1, 2.0), (262_144, 1, 4.0), (70_000, 2, 4.0)]
        {
            let usage = DataUsage {
                system: "sqs",
                operation: "publish",
                bytes_transferred: bytes,
                requests,
                ..Default::default()
            };
            let usd = price_data_operation(&usage).usd().expect("priced");
            assert!((usd - billed * per_request).abs() < 1e-18, "{bytes} bytes x {requests}: {usd}");
        }
        let none = DataUsage { system: "sqs", operation: "publish", bytes_transferred: 10, ..Default::default() };
        assert_eq!(price_data_operation(&none).usd(), None, "no request: no usage");
    }
}
