//! Field values, the same for both framings: what a request holds and what a
//! response carries. JSON lines encode a binary field as hex and a u64 as a
//! decimal string; binary-v1 carries them raw (PROTOCOL.md).

use serde_json::{Map, Value};

use crate::Failure;

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A binary field (key, frame, ...): hex in JSON lines, raw in binary-v1.
    Bytes(Vec<u8>),
    /// A u64 field (kid, ctr, ...): a decimal string in JSON lines.
    U64(u64),
    Str(String),
    Int(i64),
    Bool(bool),
    /// Anything else: lists, objects, null, numbers that are not an i64.
    Json(Value),
}

impl From<usize> for Field {
    fn from(value: usize) -> Self {
        Field::Int(value as i64)
    }
}

impl From<Value> for Field {
    fn from(value: Value) -> Self {
        match value {
            Value::String(s) => Field::Str(s),
            Value::Bool(b) => Field::Bool(b),
            Value::Number(n) if n.is_i64() => Field::Int(n.as_i64().unwrap_or_default()),
            other => Field::Json(other),
        }
    }
}

impl Field {
    /// The JSON-lines form of the value.
    pub fn to_json(&self) -> Value {
        match self {
            Field::Bytes(b) => Value::String(hex::encode(b)),
            Field::U64(v) => Value::String(v.to_string()),
            Field::Str(s) => Value::String(s.clone()),
            Field::Int(i) => Value::from(*i),
            Field::Bool(b) => Value::Bool(*b),
            Field::Json(v) => v.clone(),
        }
    }

    /// A non-negative integer (JSON integers above i64 arrive as `Json`).
    fn as_count(&self) -> Option<u64> {
        match self {
            Field::Int(i) => u64::try_from(*i).ok(),
            Field::Json(v) => v.as_u64(),
            _ => None,
        }
    }
}

/// Result fields of a successful response, in order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Fields(pub Vec<(String, Field)>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: Field) {
        self.0.push((name.into(), value));
    }

    pub fn get(&self, name: &str) -> Option<&Field> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl FromIterator<(String, Field)> for Fields {
    fn from_iter<T: IntoIterator<Item = (String, Field)>>(iter: T) -> Self {
        Fields(iter.into_iter().collect())
    }
}

/// Bytes for a binary result field.
pub fn hex(bytes: impl AsRef<[u8]>) -> Field {
    Field::Bytes(bytes.as_ref().to_vec())
}

/// A u64 result field.
pub fn dec(value: u64) -> Field {
    Field::U64(value)
}

/// The fields of one request, with typed accessors that turn a missing or
/// badly encoded field into `invalid_argument`, as the protocol asks. Both
/// framings decode to this; a binary field may be bytes or hex text, a u64 a
/// U64 or a decimal string, so the two framings grade alike.
pub struct Request {
    fields: Vec<(String, Field)>,
}

impl Request {
    pub fn from_fields(fields: Vec<(String, Field)>) -> Self {
        Self { fields }
    }

    pub fn from_json(map: Map<String, Value>) -> Self {
        Self { fields: map.into_iter().map(|(k, v)| (k, Field::from(v))).collect() }
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn get(&self, name: &str) -> Result<&Field, Failure> {
        self.field(name).ok_or_else(|| Failure::invalid(format!("missing field {name:?}")))
    }

    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, Failure> {
        match self.get(name)? {
            Field::Bytes(b) => Ok(b.clone()),
            Field::Str(text) => hex::decode(text).map_err(|e| Failure::invalid(format!("field {name:?}: {e}"))),
            _ => Err(Failure::invalid(format!("field {name:?} must be a hex string"))),
        }
    }

    /// A u64 field: a decimal string in JSON lines, because JSON numbers lose precision above 2^53.
    pub fn u64(&self, name: &str) -> Result<u64, Failure> {
        let text = match self.get(name)? {
            Field::U64(v) => return Ok(*v),
            Field::Str(text) => text,
            _ => return Err(Failure::invalid(format!("field {name:?} must be a decimal string"))),
        };
        // u64::from_str alone would also take a leading '+'.
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::invalid(format!("field {name:?} is not a decimal string: {text:.40}")));
        }
        text.parse().map_err(|_| Failure::invalid(format!("field {name:?} is outside 0..2^64-1")))
    }

    /// A cipher suite code point (an integer).
    pub fn suite(&self) -> Result<u64, Failure> {
        self.get("suite")?.as_count().ok_or_else(|| Failure::invalid("field \"suite\" must be a non-negative integer"))
    }

    /// A small non-negative integer field such as `steps`.
    pub fn count(&self, name: &str) -> Result<u64, Failure> {
        self.get(name)?.as_count().ok_or_else(|| Failure::invalid(format!("field {name:?} must be a non-negative integer")))
    }

    pub fn string(&self, name: &str) -> Result<&str, Failure> {
        match self.get(name)? {
            Field::Str(s) => Ok(s),
            _ => Err(Failure::invalid(format!("field {name:?} must be a string"))),
        }
    }
}
