//! binary-v1 (PROTOCOL.md, "Binary framing"): a 4-byte big-endian length,
//! then fields of type (1 byte), name length (1 byte), ASCII name, value.
//! Decoding checks every length against the bytes present, so a hostile
//! peer gets an error naming the problem, never a panic or a large
//! allocation of its choosing.

use std::io::{self, Read};

use serde_json::Value;

use crate::field::Field;

pub const NAME: &str = "binary-v1";
pub const MAX_MESSAGE: usize = 64 << 20;

const BYTES: u8 = 1;
const U64: u8 = 2;
const STRING: u8 = 3;
const INT: u8 = 4;
const BOOL: u8 = 5;
const JSON: u8 = 6;

/// What could be read of a payload: the fields decoded before a fault too,
/// so that an id among them can be echoed.
pub struct Decoded {
    pub fields: Vec<(String, Field)>,
    pub error: Option<String>,
}

fn take<'a>(payload: &'a [u8], at: &mut usize, n: usize, what: &str) -> Result<&'a [u8], String> {
    if payload.len() - *at < n {
        return Err(format!("binary frame ends inside {what}"));
    }
    let chunk = &payload[*at..*at + n];
    *at += n;
    Ok(chunk)
}

fn u32_at(payload: &[u8], at: &mut usize, what: &str) -> Result<usize, String> {
    let b = take(payload, at, 4, what)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

fn field(payload: &[u8], at: &mut usize, seen: &[(String, Field)]) -> Result<(String, Field), String> {
    let head = take(payload, at, 2, "a field header")?;
    let (kind, name_len) = (head[0], head[1] as usize);
    let name = take(payload, at, name_len, "a field name")?;
    if name.is_empty() || !name.is_ascii() {
        return Err("binary field name is empty or not ASCII".into());
    }
    let name = String::from_utf8_lossy(name).into_owned();
    if seen.iter().any(|(n, _)| *n == name) {
        return Err(format!("binary field {name:?} is repeated"));
    }
    let value = match kind {
        BYTES | STRING | JSON => {
            let n = u32_at(payload, at, &name)?;
            let raw = take(payload, at, n, &name)?;
            match kind {
                BYTES => Field::Bytes(raw.to_vec()),
                _ => {
                    let text = std::str::from_utf8(raw).map_err(|_| format!("binary field {name:?} is not UTF-8"))?;
                    if kind == STRING {
                        Field::Str(text.to_owned())
                    } else {
                        Field::Json(serde_json::from_str::<Value>(text).map_err(|_| format!("binary field {name:?} holds invalid JSON"))?)
                    }
                }
            }
        }
        U64 | INT => {
            let b = take(payload, at, 8, &name)?;
            let v = u64::from_be_bytes(b.try_into().expect("8 bytes"));
            if kind == U64 { Field::U64(v) } else { Field::Int(v as i64) }
        }
        BOOL => match take(payload, at, 1, &name)?[0] {
            0 => Field::Bool(false),
            1 => Field::Bool(true),
            other => return Err(format!("binary field {name:?}: bool byte {other}")),
        },
        other => return Err(format!("binary field {name:?} has unknown type {other}")),
    };
    Ok((name, value))
}

pub fn decode(payload: &[u8]) -> Decoded {
    let (mut fields, mut at) = (Vec::new(), 0);
    while at < payload.len() {
        match field(payload, &mut at, &fields) {
            Ok(f) => fields.push(f),
            Err(e) => return Decoded { fields, error: Some(e) },
        }
    }
    Decoded { fields, error: None }
}

fn head(out: &mut Vec<u8>, kind: u8, name: &str) {
    out.push(kind);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
}

fn sized(out: &mut Vec<u8>, kind: u8, name: &str, data: &[u8]) {
    head(out, kind, name);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends one framed message (length prefix included) to `out`.
pub fn encode(out: &mut Vec<u8>, fields: &[(&str, &Field)]) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    for (name, value) in fields {
        match value {
            Field::Bytes(b) => sized(out, BYTES, name, b),
            Field::U64(v) => {
                head(out, U64, name);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Field::Int(i) => {
                head(out, INT, name);
                out.extend_from_slice(&i.to_be_bytes());
            }
            Field::Str(s) => sized(out, STRING, name, s.as_bytes()),
            Field::Bool(b) => {
                head(out, BOOL, name);
                out.push(u8::from(*b));
            }
            Field::Json(v) => sized(out, JSON, name, v.to_string().as_bytes()),
        }
    }
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Reads one frame's payload; Ok(None) at a clean EOF. A length outside
/// 1..MAX_MESSAGE is an InvalidData error: the stream cannot be resynchronised.
pub fn read_frame(input: &mut impl Read, payload: &mut Vec<u8>) -> io::Result<Option<()>> {
    let mut prefix = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut prefix[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF inside a binary frame length")),
            n => got += n,
        }
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if !(1..=MAX_MESSAGE).contains(&len) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("binary frame length {len} outside 1..{MAX_MESSAGE}")));
    }
    payload.resize(len, 0);
    input.read_exact(payload)?;
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_encode_then_decode() {
        let fields = [
            ("id", Field::Int(-3)),
            ("ciphertext", Field::Bytes(vec![0, 1, 255])),
            ("kid", Field::U64(u64::MAX)),
            ("op", Field::Str("decrypt".into())),
            ("ok", Field::Bool(true)),
            ("suites", Field::Json(serde_json::json!([4, 5]))),
        ];
        let mut out = Vec::new();
        encode(&mut out, &fields.iter().map(|(n, v)| (*n, v)).collect::<Vec<_>>());
        let mut payload = Vec::new();
        assert!(read_frame(&mut out.as_slice(), &mut payload).unwrap().is_some());
        let decoded = decode(&payload);
        assert!(decoded.error.is_none());
        let want: Vec<(String, Field)> = fields.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        assert_eq!(decoded.fields, want);
    }

    #[test]
    fn hostile_frames_are_errors_not_panics() {
        // A bytes field announcing more than the frame holds; a repeated name; an unknown type;
        // a bool that is not 0/1. The id decoded before the fault is kept for the answer.
        for payload in [
            &[4, 2, b'i', b'd', 0, 0, 0, 0, 0, 0, 0, 7, 1, 1, b'x', 0xff, 0xff, 0xff, 0xff][..],
            &[4, 2, b'i', b'd', 0, 0, 0, 0, 0, 0, 0, 7, 5, 1, b'o', 0, 5, 1, b'o', 1][..],
            &[4, 2, b'i', b'd', 0, 0, 0, 0, 0, 0, 0, 7, 9, 1, b'x'][..],
            &[4, 2, b'i', b'd', 0, 0, 0, 0, 0, 0, 0, 7, 5, 1, b'o', 2][..],
        ] {
            let decoded = decode(payload);
            assert!(decoded.error.is_some());
            assert_eq!(decoded.fields[0], ("id".to_string(), Field::Int(7)));
        }
        for prefix in [[0u8, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]] {
            let err = read_frame(&mut &prefix[..], &mut Vec::new()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
    }
}
