//! The YAML reader: the file's known keys, each value with its line, walked from yaml-rust2's event
//! stream.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::error::{ConfigError, FileLocation};
use super::file::{interpolate, read_text, MAX_EXPANDED_TOTAL_BYTES};
use super::keys;
use super::raw::Raw;
use super::ConfigSource;

/// Deeper nesting than this is never a botanu config, and the tree is dropped recursively.
const MAX_YAML_DEPTH: usize = 32;
/// Upper bound on nodes after alias expansion, so `&a [*b, *b, ...]` chains cannot exhaust memory.
const MAX_YAML_NODES: usize = 100_000;

/// Unknown keys a warning names; the rest are counted.
const MAX_NAMED_UNKNOWN: usize = 20;

/// How a known YAML key's value is shaped.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    Scalar,
    /// A sequence of scalars, or one scalar holding a comma list.
    List,
    /// A mapping of names to scalars.
    Map,
}

/// Every YAML key botanu reads. Parents (`service`, `eval.pii`, …) are implied.
pub(super) const SCHEMA: [(&str, Shape); 44] = [
    (keys::Y_SERVICE_NAME, Shape::Scalar),
    (keys::Y_SERVICE_VERSION, Shape::Scalar),
    (keys::Y_SERVICE_NAMESPACE, Shape::Scalar),
    (keys::Y_SERVICE_ENVIRONMENT, Shape::Scalar),
    (keys::Y_OTLP_ENDPOINT, Shape::Scalar),
    (keys::Y_OTLP_HEADERS, Shape::Map),
    (keys::Y_OTLP_PROTOCOL, Shape::Scalar),
    (keys::Y_OTLP_COMPRESSION, Shape::Scalar),
    (keys::Y_OTLP_TIMEOUT_MS, Shape::Scalar),
    (keys::Y_OTLP_INSECURE, Shape::Scalar),
    (keys::Y_OTLP_TLS_ROOTS, Shape::Scalar),
    (keys::Y_OTLP_TLS_CA_FILE, Shape::Scalar),
    (keys::Y_OTLP_TLS_CLIENT_CERT, Shape::Scalar),
    (keys::Y_OTLP_TLS_CLIENT_KEY, Shape::Scalar),
    (keys::Y_EXPORT_BATCH_SIZE, Shape::Scalar),
    (keys::Y_EXPORT_QUEUE_SIZE, Shape::Scalar),
    (keys::Y_EXPORT_DELAY_MS, Shape::Scalar),
    (keys::Y_EXPORT_TIMEOUT_MS, Shape::Scalar),
    (keys::Y_EXPORT_METRIC_INTERVAL_MS, Shape::Scalar),
    (keys::Y_EXPORT_ALL_SPANS, Shape::Scalar),
    (keys::Y_MAX_EVENTS_PER_SPAN, Shape::Scalar),
    (keys::Y_EVAL_CAPTURE_RATE, Shape::Scalar),
    (keys::Y_EVAL_MAX_CHARS, Shape::Scalar),
    (keys::Y_PII_ENABLED, Shape::Scalar),
    (keys::Y_PII_DISABLE_PATTERNS, Shape::List),
    (keys::Y_PII_CUSTOM_PATTERNS, Shape::Map),
    (keys::Y_PII_REPLACEMENT, Shape::Scalar),
    (keys::Y_PROPAGATION_MODE, Shape::Scalar),
    (keys::Y_PROPAGATION_TRUST_INBOUND, Shape::Scalar),
    (keys::Y_SEMCONV_STABILITY_OPT_IN, Shape::Scalar),
    (keys::Y_PRICING_ENABLED, Shape::Scalar),
    (keys::Y_PRICING_OVERRIDES, Shape::Map),
    (keys::Y_PRICING_CATALOG_FILE, Shape::Scalar),
    (keys::Y_BUDGETS_CAPS, Shape::List),
    (keys::Y_BUDGETS_UNPRICED, Shape::Scalar),
    (keys::Y_BUDGETS_STORE, Shape::Scalar),
    (keys::Y_BUDGETS_STORE_TIMEOUT_MS, Shape::Scalar),
    (keys::Y_BUDGETS_STORE_FAILURE, Shape::Scalar),
    (keys::Y_PRICING_TOOL_PRICES, Shape::Map),
    (keys::Y_PRICING_METRIC_CUSTOMERS, Shape::List),
    (keys::Y_PRICING_METRIC_CUSTOMER_LIMIT, Shape::Scalar),
    (keys::Y_PRICING_LEDGER_FILE, Shape::Scalar),
    (keys::Y_PRICING_LEDGER_MAX_BYTES, Shape::Scalar),
    (keys::Y_PRICING_LEDGER_MAX_FILES, Shape::Scalar),
];

/// A known key's value, interpolated, with its position.
pub(super) enum YamlValue {
    Scalar(Raw),
    List(Vec<Raw>),
    /// `(name, value)` in file order; each value's key is `path.name`.
    Map(Vec<(String, Raw)>),
}

/// The known keys found in the config file.
pub(super) struct YamlSettings {
    pub(super) values: HashMap<&'static str, YamlValue>,
}

impl YamlSettings {
    pub(super) fn load(path: &Path, source: &ConfigSource, warnings: &mut Vec<String>) -> Result<Self, ConfigError> {
        let text = read_text(path)?;
        let file = FileContext { path, source, budget: Cell::new(MAX_EXPANDED_TOTAL_BYTES) };
        let mut settings = YamlSettings { values: HashMap::new() };
        let mut unknown = Vec::new();
        match parse_yaml(&text, path)? {
            None => {}
            Some(Node { kind: NodeKind::Null, .. }) => {}
            Some(Node { kind: NodeKind::Map(entries), .. }) => {
                walk(&entries, "", &file, &mut settings.values, &mut unknown)?
            }
            Some(root) => {
                return Err(ConfigError::Yaml {
                    location: file.at(root.line),
                    message: "the file must be a mapping of settings (service:, otlp:, export:, \
                              eval:, propagation:, pricing:)"
                        .to_owned(),
                })
            }
        }
        if !unknown.is_empty() {
            // Named up to a few: a file of thousands of stray keys makes a warning, not a megabyte.
            let named = unknown.iter().take(MAX_NAMED_UNKNOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
            let more = match unknown.len().saturating_sub(MAX_NAMED_UNKNOWN) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            warnings.push(format!("{}: unknown keys ignored: {named}{more}", path.display()));
        }
        Ok(settings)
    }

    pub(super) fn scalar(&self, path: &str) -> Option<Raw> {
        match self.values.get(path)? {
            YamlValue::Scalar(raw) => Some(raw.clone()),
            _ => None,
        }
    }

    pub(super) fn list(&self, path: &str) -> Option<&[Raw]> {
        match self.values.get(path)? {
            YamlValue::List(items) => Some(items),
            _ => None,
        }
    }

    pub(super) fn map(&self, path: &str) -> Option<&[(String, Raw)]> {
        match self.values.get(path)? {
            YamlValue::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// What reading a value needs besides the value: where it is and how to interpolate.
pub(super) struct FileContext<'a> {
    pub(super) path: &'a Path,
    pub(super) source: &'a ConfigSource,
    /// What is left of the file's expansion budget (`MAX_EXPANDED_TOTAL_BYTES`).
    pub(super) budget: Cell<usize>,
}

impl FileContext<'_> {
    pub(super) fn at(&self, line: usize) -> FileLocation {
        FileLocation { path: self.path.to_owned(), line }
    }

    /// A scalar as a [`Raw`], `${VAR}` replaced.
    pub(super) fn raw(&self, key: String, text: &str, line: usize) -> Result<Raw, ConfigError> {
        let location = self.at(line);
        let raw = Raw { key, value: text.to_owned(), location: Some(location.clone()) };
        let mut budget = self.budget.get();
        let value = interpolate(&raw, &location, self.source, &mut budget)?;
        self.budget.set(budget);
        Ok(Raw { value, ..raw })
    }

    pub(super) fn invalid(&self, key: &str, node: &Node, expected: &str) -> ConfigError {
        let shown = match &node.kind {
            NodeKind::Null => String::new(),
            NodeKind::Scalar(text) => text.clone(),
            NodeKind::Seq(_) => "<list>".to_owned(),
            NodeKind::Map(_) => "<mapping>".to_owned(),
        };
        Raw { key: key.to_owned(), value: shown, location: Some(self.at(node.line)) }.invalid(expected)
    }
}

/// Collects known keys under `prefix` into `out` and unknown ones into `unknown`.
pub(super) fn walk(
    entries: &[Entry],
    prefix: &str,
    file: &FileContext<'_>,
    out: &mut HashMap<&'static str, YamlValue>,
    unknown: &mut Vec<String>,
) -> Result<(), ConfigError> {
    for entry in entries {
        let full = if prefix.is_empty() { entry.key.clone() } else { format!("{prefix}.{}", entry.key) };
        // A dotted key (`"service.name": x`) would alias a nested one; it is not part of the format.
        let dotted = entry.key.contains('.');
        if let Some(&(key, shape)) = SCHEMA.iter().find(|(k, _)| !dotted && *k == full) {
            if let Some(value) = read_value(key, shape, &entry.value, file)? {
                out.insert(key, value);
            }
        } else if !dotted && is_section(&full) {
            match &entry.value.kind {
                NodeKind::Map(children) => walk(children, &full, file, out, unknown)?,
                NodeKind::Null => {}
                _ => return Err(file.invalid(&full, &entry.value, "a mapping of settings")),
            }
        } else {
            unknown.push(full);
        }
    }
    Ok(())
}

pub(super) fn is_section(path: &str) -> bool {
    SCHEMA.iter().any(|(key, _)| key.strip_prefix(path).is_some_and(|rest| rest.starts_with('.')))
}

pub(super) fn read_value(
    key: &str,
    shape: Shape,
    node: &Node,
    file: &FileContext<'_>,
) -> Result<Option<YamlValue>, ConfigError> {
    Ok(Some(match (shape, &node.kind) {
        (_, NodeKind::Null) => return Ok(None),
        (Shape::Scalar, NodeKind::Scalar(text)) => YamlValue::Scalar(file.raw(key.to_owned(), text, node.line)?),
        (Shape::List, NodeKind::Scalar(text)) => YamlValue::List(vec![file.raw(key.to_owned(), text, node.line)?]),
        (Shape::List, NodeKind::Seq(items)) => {
            let mut raws = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let item_key = format!("{key}[{index}]");
                match &item.kind {
                    NodeKind::Null => {}
                    NodeKind::Scalar(text) => raws.push(file.raw(item_key, text, item.line)?),
                    _ => return Err(file.invalid(&item_key, item, "a name")),
                }
            }
            YamlValue::List(raws)
        }
        (Shape::Map, NodeKind::Map(entries)) => {
            let mut pairs = Vec::with_capacity(entries.len());
            for entry in entries {
                let entry_key = format!("{key}.{}", entry.key);
                match &entry.value.kind {
                    NodeKind::Scalar(text) => {
                        pairs.push((entry.key.clone(), file.raw(entry_key, text, entry.value.line)?))
                    }
                    _ => return Err(file.invalid(&entry_key, &entry.value, "a string value")),
                }
            }
            YamlValue::Map(pairs)
        }
        (Shape::Scalar, _) => return Err(file.invalid(key, node, "a single value, not a list or mapping")),
        (Shape::List, _) => return Err(file.invalid(key, node, "a list of names or a comma-separated string")),
        (Shape::Map, _) => return Err(file.invalid(key, node, "a mapping of name: value")),
    }))
}

/// A parsed YAML node with the line it starts on. Scalars stay text: each field parses its own.
#[derive(Clone, Debug)]
pub(super) struct Node {
    pub(super) line: usize,
    pub(super) kind: NodeKind,
}

#[derive(Clone, Debug)]
pub(super) enum NodeKind {
    /// `~`, `null`, or nothing.
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) value: Node,
}

impl Node {
    pub(super) fn size(&self) -> usize {
        1 + match &self.kind {
            NodeKind::Null | NodeKind::Scalar(_) => 0,
            NodeKind::Seq(items) => items.iter().map(Node::size).sum(),
            NodeKind::Map(entries) => entries.iter().map(|e| 1 + e.value.size()).sum(),
        }
    }
}

pub(super) fn parse_yaml(text: &str, path: &Path) -> Result<Option<Node>, ConfigError> {
    let syntax_error = |line: usize, message: String| ConfigError::Yaml {
        location: FileLocation { path: path.to_owned(), line },
        message,
    };
    // Driving the parser event by event (rather than `Parser::load`, which recurses per nesting level)
    // keeps a deeply nested file from overflowing the stack: `TreeBuilder` stops at MAX_YAML_DEPTH.
    let mut parser = Parser::new_from_str(text);
    let mut tree = TreeBuilder::default();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let mark = e.marker();
            syntax_error(mark.line(), format!("{} (column {})", e.info(), mark.col() + 1))
        })?;
        if event == Event::StreamEnd {
            break;
        }
        tree.push(event, mark).map_err(|(line, message)| syntax_error(line, message))?;
    }
    let mut documents = tree.documents;
    if let Some(second) = documents.get(1) {
        return Err(syntax_error(
            second.line,
            "a second YAML document (`---`); the botanu config file holds exactly one".to_owned(),
        ));
    }
    Ok(documents.pop())
}

/// A container being filled.
pub(super) enum Frame {
    Seq {
        anchor: usize,
        line: usize,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        line: usize,
        entries: Vec<Entry>,
        pending_key: Option<(String, usize)>,
        /// The keys so far, for the duplicate check: one lookup per key, so a mapping of n keys loads in
        /// O(n) (a scan of `entries` made 49k keys take seconds, issue 28).
        keys: HashSet<String>,
    },
}

/// Builds [`Node`]s from parser events; errors are `(line, message)`.
#[derive(Default)]
pub(super) struct TreeBuilder {
    pub(super) stack: Vec<Frame>,
    pub(super) documents: Vec<Node>,
    pub(super) anchors: HashMap<usize, Node>,
    pub(super) nodes: usize,
    /// Key comparisons made by the duplicate check, so a test can see that it stays linear.
    #[cfg(test)]
    pub(super) key_probes: usize,
}

impl TreeBuilder {
    pub(super) fn push(&mut self, event: Event, mark: Marker) -> Result<(), (usize, String)> {
        let line = mark.line();
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let is_null =
                    style == TScalarStyle::Plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                let kind = if is_null { NodeKind::Null } else { NodeKind::Scalar(text) };
                self.complete(anchor, Node { line, kind })
            }
            Event::SequenceStart(anchor, _tag) => self.open(Frame::Seq { anchor, line, items: Vec::new() }, line),
            Event::MappingStart(anchor, _tag) => {
                let frame = Frame::Map { anchor, line, entries: Vec::new(), pending_key: None, keys: HashSet::new() };
                self.open(frame, line)
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq { anchor, line, items }) => {
                    self.complete(anchor, Node { line, kind: NodeKind::Seq(items) })
                }
                Some(Frame::Map { anchor, line, entries, .. }) => {
                    self.complete(anchor, Node { line, kind: NodeKind::Map(entries) })
                }
                // The parser balances start and end events.
                None => Ok(()),
            },
            Event::Alias(id) => {
                let node =
                    self.anchors.get(&id).cloned().ok_or_else(|| (line, "an alias to an unknown anchor".to_owned()))?;
                self.count(node.size(), line)?;
                self.attach(node)
            }
            _ => Ok(()),
        }
    }

    pub(super) fn open(&mut self, frame: Frame, line: usize) -> Result<(), (usize, String)> {
        if self.stack.len() >= MAX_YAML_DEPTH {
            return Err((line, format!("nested deeper than {MAX_YAML_DEPTH} levels")));
        }
        self.stack.push(frame);
        Ok(())
    }

    pub(super) fn complete(&mut self, anchor: usize, node: Node) -> Result<(), (usize, String)> {
        self.count(1, node.line)?;
        // Anchor ids start at 1; 0 means none.
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.attach(node)
    }

    pub(super) fn count(&mut self, nodes: usize, line: usize) -> Result<(), (usize, String)> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_YAML_NODES {
            return Err((line, format!("more than {MAX_YAML_NODES} values once aliases are expanded")));
        }
        Ok(())
    }

    pub(super) fn attach(&mut self, node: Node) -> Result<(), (usize, String)> {
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, pending_key, keys, .. }) => match pending_key.take() {
                None => match node.kind {
                    NodeKind::Scalar(key) => *pending_key = Some((key, node.line)),
                    _ => return Err((node.line, "a mapping key must be a string".to_owned())),
                },
                Some((key, key_line)) => {
                    #[cfg(test)]
                    {
                        self.key_probes += 1;
                    }
                    if !keys.insert(key.clone()) {
                        return Err((key_line, format!("duplicate key `{key}`")));
                    }
                    entries.push(Entry { key, value: node });
                }
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mapping of `keys` keys, block or flow style.
    fn mapping(keys: usize, flow: bool) -> String {
        let items: Vec<String> = (0..keys).map(|i| format!("k{i}: v")).collect();
        if flow {
            format!("{{{}}}\n", items.join(", "))
        } else {
            items.join("\n") + "\n"
        }
    }

    #[test]
    fn the_duplicate_key_check_is_linear_in_the_number_of_keys() {
        for flow in [false, true] {
            let keys = 49_000;
            let text = mapping(keys, flow);
            let mut parser = Parser::new_from_str(&text);
            let mut tree = TreeBuilder::default();
            loop {
                let (event, mark) = parser.next_token().expect("valid YAML");
                if event == Event::StreamEnd {
                    break;
                }
                tree.push(event, mark).expect("within the limits");
            }
            match &tree.documents[0].kind {
                NodeKind::Map(entries) => assert_eq!(entries.len(), keys),
                other => panic!("{other:?}"),
            }
            // One probe per key (a hash lookup), not one comparison per earlier key.
            assert!(tree.key_probes <= keys, "flow {flow}: {} probes for {keys} keys", tree.key_probes);
        }
    }
}
