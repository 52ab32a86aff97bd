//! The harness wire protocol v1 (harness/PROTOCOL.md), shared by the shims.
//!
//! This crate knows JSON lines, field encodings and error classes; it knows
//! nothing about SFrame. Each shim implements [`Shim`] by calling the `sframe`
//! crate, so every byte of SFrame output comes from the crate under test.

use std::cell::RefCell;
use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};

use serde_json::{Map, Value};

pub use serde_json::json;

pub const PROTOCOL_VERSION: u64 = 1;

/// Result fields of a successful response (binary fields already hex strings).
pub type Fields = Map<String, Value>;

/// An `ok: false` answer: one of the protocol's error classes and a human message.
#[derive(Debug)]
pub struct Failure {
    pub class: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(class: &'static str, message: impl Into<String>) -> Self {
        Self { class, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid_argument", message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new("unsupported", message)
    }
}

pub type Outcome = Result<Fields, Failure>;

/// What `hello` announces.
pub struct Hello {
    pub name: &'static str,
    pub version: String,
    pub suites: Vec<u16>,
    pub capabilities: Vec<&'static str>,
}

/// An implementation behind the protocol. `hello` and `shutdown` are answered
/// by [`serve`]; every other op, core or not, goes to `handle`.
pub trait Shim {
    fn hello(&self) -> Hello;
    fn handle(&mut self, op: &str, request: &Request) -> Outcome;
}

/// The fields of one request, with typed accessors that turn a missing or
/// badly encoded field into `invalid_argument`, as the protocol asks.
pub struct Request<'a> {
    fields: &'a Map<String, Value>,
}

impl Request<'_> {
    fn get(&self, name: &str) -> Result<&Value, Failure> {
        self.fields.get(name).ok_or_else(|| Failure::invalid(format!("missing field {name:?}")))
    }

    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, Failure> {
        let text = self
            .get(name)?
            .as_str()
            .ok_or_else(|| Failure::invalid(format!("field {name:?} must be a hex string")))?;
        hex::decode(text).map_err(|e| Failure::invalid(format!("field {name:?}: {e}")))
    }

    /// A u64 field: a decimal string, because JSON numbers lose precision above 2^53.
    pub fn u64(&self, name: &str) -> Result<u64, Failure> {
        let text = self
            .get(name)?
            .as_str()
            .ok_or_else(|| Failure::invalid(format!("field {name:?} must be a decimal string")))?;
        // u64::from_str alone would also take a leading '+'.
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::invalid(format!("field {name:?} is not a decimal string: {text:.40}")));
        }
        text.parse().map_err(|_| Failure::invalid(format!("field {name:?} is outside 0..2^64-1")))
    }

    /// A cipher suite code point (a JSON integer).
    pub fn suite(&self) -> Result<u64, Failure> {
        self.get("suite")?.as_u64().ok_or_else(|| Failure::invalid("field \"suite\" must be a non-negative integer"))
    }

    /// A small non-negative integer field such as `steps`.
    pub fn count(&self, name: &str) -> Result<u64, Failure> {
        self.get(name)?.as_u64().ok_or_else(|| Failure::invalid(format!("field {name:?} must be a non-negative integer")))
    }
}

/// Hex for a binary result field.
pub fn hex(bytes: impl AsRef<[u8]>) -> Value {
    Value::String(hex::encode(bytes))
}

/// Decimal string for a u64 result field.
pub fn dec(value: u64) -> Value {
    Value::String(value.to_string())
}

thread_local! {
    // Filled by the panic hook: the payload alone lacks the location, and the
    // location is what makes a panic inside the crate reportable upstream.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string());
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let text = format!("panic: {payload}{location}");
        // stderr is free-form and the harness shows its last lines on faults.
        eprintln!("{text}");
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(text));
    }));
}

fn error_response(id: Value, failure: Failure) -> Value {
    json!({"id": id, "ok": false, "error": failure.class, "message": failure.message})
}

/// Answers one line. The second value says whether to exit afterwards (shutdown).
fn answer(shim: &mut dyn Shim, line: &[u8]) -> (Value, bool) {
    let message: Value = match serde_json::from_slice(line) {
        Ok(message) => message,
        // No id can be echoed from a line that is not JSON.
        Err(e) => return (error_response(Value::Null, Failure::invalid(format!("not JSON: {e}"))), false),
    };
    let Value::Object(fields) = message else {
        return (error_response(Value::Null, Failure::invalid("not a JSON object")), false);
    };
    let id = fields.get("id").cloned().unwrap_or(Value::Null);
    let Some(op) = fields.get("op").and_then(Value::as_str) else {
        return (error_response(id, Failure::invalid("missing field \"op\"")), false);
    };
    let request = Request { fields: &fields };
    let outcome = match op {
        "hello" => {
            let hello = shim.hello();
            Ok(Map::from_iter([
                ("name".into(), json!(hello.name)),
                ("version".into(), json!(hello.version)),
                ("protocol".into(), json!(PROTOCOL_VERSION)),
                ("suites".into(), json!(hello.suites)),
                ("capabilities".into(), json!(hello.capabilities)),
            ]))
        }
        "shutdown" => Ok(Map::new()),
        _ => match panic::catch_unwind(AssertUnwindSafe(|| shim.handle(op, &request))) {
            Ok(outcome) => outcome,
            Err(_) => {
                let text = LAST_PANIC.with(|last| last.borrow_mut().take()).unwrap_or_else(|| "panic".into());
                Err(Failure::new("internal", text))
            }
        },
    };
    let response = match outcome {
        Ok(mut result) => {
            result.insert("id".into(), id);
            result.insert("ok".into(), Value::Bool(true));
            Value::Object(result)
        }
        Err(failure) => error_response(id, failure),
    };
    (response, op == "shutdown")
}

/// Serves requests from stdin until EOF or `shutdown`, one response line per
/// request line, in order.
pub fn serve(shim: &mut dyn Shim) -> io::Result<()> {
    install_panic_hook();
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut output = io::BufWriter::new(io::stdout().lock());
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return output.flush();
        }
        // A blank line carries no request, so it gets no response (which would
        // shift every later answer onto the wrong request).
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (response, stop) = answer(shim, &line);
        serde_json::to_writer(&mut output, &response)?;
        output.write_all(b"\n")?;
        output.flush()?;
        if stop {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Panics inside `handle`, as a crate bug would.
    struct Panicking;

    impl Shim for Panicking {
        fn hello(&self) -> Hello {
            Hello { name: "test", version: "0".into(), suites: vec![], capabilities: vec![] }
        }

        fn handle(&mut self, op: &str, _request: &Request) -> Outcome {
            panic!("crate bug on {op}")
        }
    }

    fn reply(shim: &mut dyn Shim, line: &str) -> Value {
        answer(shim, line.as_bytes()).0
    }

    #[test]
    fn a_panic_is_answered_as_internal_with_its_message_and_location() {
        install_panic_hook();
        let mut shim = Panicking;
        let response = reply(&mut shim, r#"{"id":7,"op":"decrypt"}"#);
        assert_eq!(response["id"], 7);
        assert_eq!(response["error"], "internal");
        let message = response["message"].as_str().unwrap();
        assert!(message.contains("crate bug on decrypt") && message.contains("lib.rs:"), "{message}");
        // The shim is still usable afterwards.
        assert_eq!(reply(&mut shim, r#"{"id":8,"op":"hello"}"#)["ok"], true);
    }

    #[test]
    fn lines_that_are_not_requests_get_an_error_with_id_null() {
        let mut shim = Panicking;
        for line in ["{not json", "[1,2]", "\"hello\""] {
            let response = reply(&mut shim, line);
            assert_eq!(response["id"], Value::Null, "{line}");
            assert_eq!(response["error"], "invalid_argument", "{line}");
        }
        assert_eq!(reply(&mut shim, r#"{"id":"x"}"#)["error"], "invalid_argument");
    }

    #[test]
    fn u64_fields_take_only_plain_decimal_strings() {
        let fields: Map<String, Value> = serde_json::from_str(
            r#"{"a":"18446744073709551615","b":"18446744073709551616","c":"+1","d":7,"e":"","f":"0x10"}"#,
        )
        .unwrap();
        let request = Request { fields: &fields };
        assert_eq!(request.u64("a").unwrap(), u64::MAX);
        for name in ["b", "c", "d", "e", "f", "missing"] {
            assert_eq!(request.u64(name).unwrap_err().class, "invalid_argument", "{name}");
        }
    }
}
