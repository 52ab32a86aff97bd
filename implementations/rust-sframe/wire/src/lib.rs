//! The harness wire protocol v1 (harness/PROTOCOL.md), shared by the shims.
//!
//! This crate knows the framings (JSON lines, and binary-v1 when `hello`
//! negotiates it), field encodings, error classes, the `bench`/`timing`
//! loops, and how the ops map onto an `sframe` release ([`SframeRelease`]);
//! it computes no SFrame byte. Each shim implements that trait by calling
//! its release of the `sframe` crate, so every byte of SFrame output comes
//! from the crate under test.

use std::cell::RefCell;
use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};

use serde_json::Value;

pub use serde_json::json;

pub mod bench;
mod field;
pub mod framing;
mod release;

pub use bench::{FrameBench, FrameSpec, Opener, RawAead, RingGcm, Sealer, Tag};
pub use field::{dec, hex, Field, Fields, Request};
pub use release::{serve_release, within, Header, Ratchet, SframeRelease};

pub const PROTOCOL_VERSION: u64 = 1;

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

/// What `hello` announces. `bench` and `timing` are added to the
/// capabilities when the shim has a [`FrameBench`].
pub struct Hello {
    pub name: &'static str,
    pub version: String,
    pub suites: Vec<u16>,
    pub capabilities: Vec<&'static str>,
}

/// An implementation behind the protocol. `hello`, `shutdown`, `bench` and
/// `timing` are answered by [`serve`]; every other op goes to `handle`.
pub trait Shim {
    fn hello(&self) -> Hello;
    fn handle(&mut self, op: &str, request: &Request) -> Outcome;
    /// The crate's frame operations for `bench` and `timing`; None: unsupported.
    fn frames(&self) -> Option<&dyn FrameBench> {
        None
    }
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

fn error_fields(failure: Failure) -> Vec<(String, Field)> {
    vec![
        ("ok".into(), Field::Bool(false)),
        ("error".into(), Field::Str(failure.class.into())),
        ("message".into(), Field::Str(failure.message)),
    ]
}

/// A response: the id (as it came), then `ok` and the result or error fields.
struct Response {
    id: Field,
    fields: Vec<(String, Field)>,
}

impl Response {
    fn error(id: Field, failure: Failure) -> Self {
        Self { id, fields: error_fields(failure) }
    }

    fn to_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("id".into(), self.id.to_json());
        for (name, value) in &self.fields {
            map.insert(name.clone(), value.to_json());
        }
        Value::Object(map)
    }

    fn write(&self, binary: bool, out: &mut Vec<u8>) {
        if binary {
            let mut fields: Vec<(&str, &Field)> = vec![("id", &self.id)];
            fields.extend(self.fields.iter().map(|(n, v)| (n.as_str(), v)));
            framing::encode(out, &fields);
        } else {
            serde_json::to_writer(&mut *out, &self.to_json()).expect("writing to a Vec");
            out.push(b'\n');
        }
    }
}

/// Parses one JSON line into a request, or the error answer for it.
fn parse_line(line: &[u8]) -> Result<Request, Response> {
    let message: Value = match serde_json::from_slice(line) {
        Ok(message) => message,
        // No id can be echoed from a line that is not JSON.
        Err(e) => return Err(Response::error(Field::Json(Value::Null), Failure::invalid(format!("not JSON: {e}")))),
    };
    let Value::Object(fields) = message else {
        return Err(Response::error(Field::Json(Value::Null), Failure::invalid("not a JSON object")));
    };
    Ok(Request::from_json(fields))
}

fn parse_frame(payload: &[u8]) -> Result<Request, Response> {
    let decoded = framing::decode(payload);
    match decoded.error {
        None => Ok(Request::from_fields(decoded.fields)),
        Some(e) => {
            let id = Request::from_fields(decoded.fields).field("id").cloned().unwrap_or(Field::Json(Value::Null));
            Err(Response::error(id, Failure::invalid(e)))
        }
    }
}

/// What answering a request changes in the loop.
#[derive(Default)]
struct Effects {
    stop: bool,
    binary: bool,
}

fn hello_fields(shim: &dyn Shim, request: &Request, effects: &mut Effects) -> Fields {
    let hello = shim.hello();
    let mut capabilities = hello.capabilities;
    if shim.frames().is_some() {
        capabilities.extend(["bench", "timing"]);
    }
    let mut fields = Fields::from_iter([
        ("name".into(), Field::Str(hello.name.into())),
        ("version".into(), Field::Str(hello.version)),
        ("protocol".into(), Field::Int(PROTOCOL_VERSION as i64)),
        ("suites".into(), Field::Json(json!(hello.suites))),
        ("capabilities".into(), Field::Json(json!(capabilities))),
    ]);
    let offered = matches!(request.field("framings"), Some(Field::Json(Value::Array(list)))
        if list.iter().any(|f| f.as_str() == Some(framing::NAME)));
    if offered {
        fields.insert("framing", Field::Str(framing::NAME.into()));
        effects.binary = true;
    }
    fields
}

/// Answers one request.
fn answer(shim: &mut dyn Shim, request: &Request, effects: &mut Effects) -> Response {
    let id = request.field("id").cloned().unwrap_or(Field::Json(Value::Null));
    let Some(Field::Str(op)) = request.field("op") else {
        return Response::error(id, Failure::invalid("missing field \"op\""));
    };
    let outcome = match op.as_str() {
        "hello" => Ok(hello_fields(shim, request, effects)),
        "shutdown" => {
            effects.stop = true;
            Ok(Fields::new())
        }
        _ => match panic::catch_unwind(AssertUnwindSafe(|| match (op.as_str(), shim.frames()) {
            ("bench", Some(frames)) => bench::bench(frames, request),
            ("timing", Some(frames)) => bench::timing(frames, request),
            _ => shim.handle(op, request),
        })) {
            Ok(outcome) => outcome,
            Err(_) => {
                let text = LAST_PANIC.with(|last| last.borrow_mut().take()).unwrap_or_else(|| "panic".into());
                Err(Failure::new("internal", text))
            }
        },
    };
    match outcome {
        Ok(result) => {
            let mut fields = vec![("ok".to_string(), Field::Bool(true))];
            fields.extend(result.0);
            Response { id, fields }
        }
        Err(failure) => Response::error(id, failure),
    }
}

/// Serves requests from stdin until EOF or `shutdown`, one response per
/// request, in order: JSON lines, then binary-v1 frames once `hello` has
/// negotiated them. Answers are flushed when no further input is buffered.
pub fn serve(shim: &mut dyn Shim) -> io::Result<()> {
    install_panic_hook();
    let stdin = io::stdin();
    let mut input = io::BufReader::with_capacity(1 << 16, stdin.lock());
    let mut output = io::stdout().lock();
    let (mut binary, mut message, mut out) = (false, Vec::new(), Vec::new());
    loop {
        message.clear();
        let parsed = if binary {
            match framing::read_frame(&mut input, &mut message) {
                Ok(Some(())) => parse_frame(&message),
                Ok(None) => break,
                Err(e) => {
                    output.write_all(&out)?;
                    output.flush()?;
                    eprintln!("sframe-wire: {e}");
                    return Err(e);
                }
            }
        } else {
            if input.read_until(b'\n', &mut message)? == 0 {
                break;
            }
            // A blank line carries no request, so it gets no response (which would
            // shift every later answer onto the wrong request).
            if message.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            parse_line(&message)
        };
        let mut effects = Effects::default();
        let response = match parsed {
            Ok(request) => answer(shim, &request, &mut effects),
            Err(response) => response,
        };
        response.write(binary, &mut out);
        binary |= effects.binary;
        if effects.stop || input.buffer().is_empty() {
            output.write_all(&out)?;
            output.flush()?;
            out.clear();
        }
        if effects.stop {
            return Ok(());
        }
    }
    output.write_all(&out)?;
    output.flush()
}

/// One JSON line answered as `serve` would, for the tests of every module.
#[cfg(test)]
pub(crate) fn reply(shim: &mut dyn Shim, line: &str) -> Value {
    let response = match parse_line(line.as_bytes()) {
        Ok(request) => answer(shim, &request, &mut Effects::default()),
        Err(response) => response,
    };
    response.to_json()
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
        let fields: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"a":"18446744073709551615","b":"18446744073709551616","c":"+1","d":7,"e":"","f":"0x10"}"#,
        )
        .unwrap();
        let request = Request::from_json(fields);
        assert_eq!(request.u64("a").unwrap(), u64::MAX);
        for name in ["b", "c", "d", "e", "f", "missing"] {
            assert_eq!(request.u64(name).unwrap_err().class, "invalid_argument", "{name}");
        }
    }
}
