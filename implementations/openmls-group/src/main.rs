//! An OpenMLS (RFC 9420) group driver for the two-stack MLS test.
//!
//! One process holds any number of members, each with its own crypto provider
//! and storage, and speaks JSON lines on stdin/stdout in the harness's wire
//! protocol transport (harness/PROTOCOL.md: `id`, `op`, `ok`, `error`). Every
//! MLS object crosses the pipe in the MLS wire format (an `MLSMessage`, hex):
//! the Python orchestrator carries KeyPackages, Welcomes, Commits and Proposals
//! between this driver and the ts-mls one (implementations/mls-group/driver.mjs),
//! which speaks the same ops:
//!
//! | op | request | response |
//! |---|---|---|
//! | `hello` | | `capabilities`: `["mls-group"]` (`suites`, SFrame's, is empty) |
//! | `mls_suites` | | `mls_suites` (the MLS cipher suites this build offers) |
//! | `key_package` | `name`, `mls_suite` | `key_package` (MLSMessage) |
//! | `create` | `name`, `group_id` (hex) | `state` |
//! | `add` | `name`, `key_packages` (list) | `commit`, `welcome`, `state` |
//! | `join` | `name`, `welcome` | `state` |
//! | `remove` | `name`, `leaf_index` | `commit`, `state` |
//! | `update` | `name` | `commit`, `state` (a full commit with a path) |
//! | `propose_update` / `propose_remove` (`leaf_index`) / `propose_add` (`key_package`) | `name` | `proposal` |
//! | `commit_pending` | `name` | `commit`, `welcome` (or ""), `state` |
//! | `process` | `name`, `mls_message` | `content` ("commit", "proposal"), `removed`, `state` |
//! | `export` | `name`, `label`, `context` (hex), `length` | `secret`, `state` |
//!
//! `state` is `{epoch (decimal string), leaf_index, members: [leaf indexes], active}`.
//! A committer merges its own commit at once (the orchestrator delivers it to
//! the others in the same step). Errors are `invalid_argument` (a bad request),
//! `unsupported` (a suite this build lacks) or `internal` with OpenMLS's own
//! error text, which is the finding when the two stacks disagree.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use serde_json::{json, Map, Value};

const MAX_LINE: usize = 64 << 20;

struct Failure {
    class: &'static str,
    message: String,
}

type Answer = Result<Map<String, Value>, Failure>;

fn fail<'a, E: std::fmt::Debug>(class: &'static str, what: &'a str) -> impl FnOnce(E) -> Failure + 'a {
    move |e| Failure { class, message: format!("{what}: {e:?}") }
}

fn bad(message: impl Into<String>) -> Failure {
    Failure { class: "invalid_argument", message: message.into() }
}

struct Member {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    suite: Ciphersuite,
    group: Option<MlsGroup>,
}

impl Member {
    fn state(&self) -> Value {
        match &self.group {
            None => json!({"epoch": "0", "leaf_index": -1, "members": [], "active": false}),
            Some(g) => json!({
                "epoch": g.epoch().as_u64().to_string(),
                "leaf_index": g.own_leaf_index().u32(),
                "members": g.members().map(|m| m.index.u32()).collect::<Vec<_>>(),
                "active": g.is_active(),
            }),
        }
    }
}

fn text<'a>(req: &'a Value, name: &str) -> Result<&'a str, Failure> {
    req.get(name).and_then(Value::as_str).ok_or_else(|| bad(format!("missing string field {name:?}")))
}

fn hex_field(req: &Value, name: &str) -> Result<Vec<u8>, Failure> {
    hex::decode(text(req, name)?).map_err(|e| bad(format!("{name}: {e}")))
}

fn integer(req: &Value, name: &str) -> Result<u64, Failure> {
    req.get(name).and_then(Value::as_u64).ok_or_else(|| bad(format!("missing integer field {name:?}")))
}

fn encode(message: &MlsMessageOut) -> Result<Value, Failure> {
    let bytes = message.tls_serialize_detached().map_err(fail("internal", "serialize"))?;
    Ok(Value::String(hex::encode(bytes)))
}

fn decode(bytes: &[u8]) -> Result<MlsMessageBodyIn, Failure> {
    let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(fail("invalid_argument", "MLSMessage"))?;
    Ok(message.extract())
}

fn key_package_in(req: &Value, name: &str, member: &Member) -> Result<KeyPackage, Failure> {
    match decode(&hex_field(req, name)?)? {
        MlsMessageBodyIn::KeyPackage(kp) => kp
            .validate(member.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(fail("internal", "KeyPackage validation")),
        _ => Err(bad(format!("{name} is not a KeyPackage MLSMessage"))),
    }
}

fn join_config() -> MlsGroupJoinConfig {
    // Handshakes go out as PublicMessage and either form is accepted: ts-mls sends either.
    MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build()
}

struct Driver {
    members: HashMap<String, Member>,
}

impl Driver {
    fn member(&mut self, req: &Value) -> Result<&mut Member, Failure> {
        let name = text(req, "name")?;
        self.members.get_mut(name).ok_or_else(|| bad(format!("no member {name:?}: ask key_package first")))
    }

    fn key_package(&mut self, req: &Value) -> Answer {
        let name = text(req, "name")?.to_owned();
        let code = u16::try_from(integer(req, "mls_suite")?).map_err(|_| bad("mls_suite out of range"))?;
        let suite = Ciphersuite::try_from(code).map_err(|_| Failure {
            class: "unsupported", message: format!("MLS cipher suite {code} is unknown to OpenMLS") })?;
        let provider = OpenMlsRustCrypto::default();
        provider.crypto().supports(suite).map_err(|_| Failure {
            class: "unsupported", message: format!("MLS cipher suite {code} is not in openmls_rust_crypto") })?;
        let signer = SignatureKeyPair::new(suite.signature_algorithm()).map_err(fail("internal", "signature key"))?;
        signer.store(provider.storage()).map_err(fail("internal", "store signature key"))?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(name.clone().into_bytes()).into(),
            signature_key: signer.public().into(),
        };
        let bundle = KeyPackage::builder()
            .build(suite, &provider, &signer, credential.clone())
            .map_err(fail("internal", "KeyPackage"))?;
        let out = encode(&MlsMessageOut::from(bundle.key_package().clone()))?;
        self.members.insert(name, Member { provider, signer, credential, suite, group: None });
        Ok(Map::from_iter([("key_package".to_owned(), out)]))
    }

    fn create(&mut self, req: &Value) -> Answer {
        let group_id = GroupId::from_slice(&hex_field(req, "group_id")?);
        let m = self.member(req)?;
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(m.suite)
            .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build();
        let group = MlsGroup::new_with_group_id(&m.provider, &m.signer, &config, group_id, m.credential.clone())
            .map_err(fail("internal", "create group"))?;
        m.group = Some(group);
        Ok(Map::from_iter([("state".to_owned(), m.state())]))
    }

    fn add(&mut self, req: &Value) -> Answer {
        let m = self.member(req)?;
        let list = req.get("key_packages").and_then(Value::as_array).ok_or_else(|| bad("key_packages: a list"))?;
        let mut packages = Vec::new();
        for (i, _) in list.iter().enumerate() {
            let one = json!({"kp": list[i]});
            packages.push(key_package_in(&one, "kp", m)?);
        }
        let (provider, signer) = (&m.provider, &m.signer);
        let group = m.group.as_mut().ok_or_else(|| bad("member is in no group"))?;
        let (commit, welcome, _) =
            group.add_members(provider, signer, &packages).map_err(fail("internal", "add_members"))?;
        group.merge_pending_commit(provider).map_err(fail("internal", "merge own commit"))?;
        Ok(Map::from_iter([
            ("commit".to_owned(), encode(&commit)?),
            ("welcome".to_owned(), encode(&welcome)?),
            ("state".to_owned(), m.state()),
        ]))
    }

    fn join(&mut self, req: &Value) -> Answer {
        let bytes = hex_field(req, "welcome")?;
        let m = self.member(req)?;
        let welcome = match decode(&bytes)? {
            MlsMessageBodyIn::Welcome(w) => w,
            _ => return Err(bad("welcome is not a Welcome MLSMessage")),
        };
        let group = StagedWelcome::new_from_welcome(&m.provider, &join_config(), welcome, None)
            .map_err(fail("internal", "Welcome"))?
            .into_group(&m.provider)
            .map_err(fail("internal", "join from Welcome"))?;
        m.group = Some(group);
        Ok(Map::from_iter([("state".to_owned(), m.state())]))
    }

    fn remove(&mut self, req: &Value) -> Answer {
        let leaf = LeafNodeIndex::new(u32::try_from(integer(req, "leaf_index")?).map_err(|_| bad("leaf_index"))?);
        let m = self.member(req)?;
        let (provider, signer) = (&m.provider, &m.signer);
        let group = m.group.as_mut().ok_or_else(|| bad("member is in no group"))?;
        let (commit, _, _) = group.remove_members(provider, signer, &[leaf]).map_err(fail("internal", "remove"))?;
        group.merge_pending_commit(provider).map_err(fail("internal", "merge own commit"))?;
        Ok(Map::from_iter([("commit".to_owned(), encode(&commit)?), ("state".to_owned(), m.state())]))
    }

    fn update(&mut self, req: &Value) -> Answer {
        let m = self.member(req)?;
        let (provider, signer) = (&m.provider, &m.signer);
        let group = m.group.as_mut().ok_or_else(|| bad("member is in no group"))?;
        let bundle = group
            .self_update(provider, signer, LeafNodeParameters::default())
            .map_err(fail("internal", "self_update"))?;
        let commit = encode(bundle.commit())?;
        group.merge_pending_commit(provider).map_err(fail("internal", "merge own commit"))?;
        Ok(Map::from_iter([("commit".to_owned(), commit), ("state".to_owned(), m.state())]))
    }

    fn propose(&mut self, req: &Value, op: &str) -> Answer {
        let m = self.member(req)?;
        let package = if op == "propose_add" { Some(key_package_in(req, "key_package", m)?) } else { None };
        let (provider, signer) = (&m.provider, &m.signer);
        let group = m.group.as_mut().ok_or_else(|| bad("member is in no group"))?;
        let proposal = match op {
            "propose_update" => group
                .propose_self_update(provider, signer, LeafNodeParameters::default())
                .map_err(fail("internal", "propose_self_update"))?
                .0,
            "propose_remove" => {
                let leaf = u32::try_from(integer(req, "leaf_index")?).map_err(|_| bad("leaf_index"))?;
                group
                    .propose_remove_member(provider, signer, LeafNodeIndex::new(leaf))
                    .map_err(fail("internal", "propose_remove_member"))?
                    .0
            }
            _ => group
                .propose_add_member(provider, signer, package.as_ref().expect("decoded above"))
                .map_err(fail("internal", "propose_add_member"))?
                .0,
        };
        Ok(Map::from_iter([("proposal".to_owned(), encode(&proposal)?)]))
    }

    fn commit_pending(&mut self, req: &Value) -> Answer {
        let m = self.member(req)?;
        let (provider, signer) = (&m.provider, &m.signer);
        let group = m.group.as_mut().ok_or_else(|| bad("member is in no group"))?;
        let (commit, welcome, _) =
            group.commit_to_pending_proposals(provider, signer).map_err(fail("internal", "commit"))?;
        group.merge_pending_commit(provider).map_err(fail("internal", "merge own commit"))?;
        let welcome = match welcome {
            Some(w) => encode(&w)?,
            None => Value::String(String::new()),
        };
        Ok(Map::from_iter([
            ("commit".to_owned(), encode(&commit)?),
            ("welcome".to_owned(), welcome),
            ("state".to_owned(), m.state()),
        ]))
    }

    fn process(&mut self, req: &Value) -> Answer {
        let bytes = hex_field(req, "mls_message")?;
        let m = self.member(req)?;
        let message: ProtocolMessage = match decode(&bytes)? {
            MlsMessageBodyIn::PublicMessage(p) => p.into(),
            MlsMessageBodyIn::PrivateMessage(p) => p.into(),
            _ => return Err(bad("mls_message is not a handshake message")),
        };
        let provider = &m.provider;
        let group = m.group.as_mut().ok_or_else(|| bad("member is in no group"))?;
        let processed = group.process_message(provider, message).map_err(fail("internal", "process_message"))?;
        let (content, removed) = match processed.into_content() {
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let removed = staged.self_removed();
                group.merge_staged_commit(provider, *staged).map_err(fail("internal", "merge commit"))?;
                ("commit", removed)
            }
            ProcessedMessageContent::ProposalMessage(proposal) => {
                group.store_pending_proposal(provider.storage(), *proposal).map_err(fail("internal", "store"))?;
                ("proposal", false)
            }
            _ => return Err(bad("not a commit or a proposal")),
        };
        Ok(Map::from_iter([
            ("content".to_owned(), json!(content)),
            ("removed".to_owned(), json!(removed)),
            ("state".to_owned(), m.state()),
        ]))
    }

    fn export(&mut self, req: &Value) -> Answer {
        let label = text(req, "label")?.to_owned();
        let context = hex_field(req, "context")?;
        let length = usize::try_from(integer(req, "length")?).map_err(|_| bad("length"))?;
        let m = self.member(req)?;
        let provider = &m.provider;
        let group = m.group.as_ref().ok_or_else(|| bad("member is in no group"))?;
        let secret =
            group.export_secret(provider.crypto(), &label, &context, length).map_err(fail("internal", "export"))?;
        Ok(Map::from_iter([("secret".to_owned(), json!(hex::encode(secret))), ("state".to_owned(), m.state())]))
    }

    fn handle(&mut self, op: &str, req: &Value) -> Answer {
        match op {
            "hello" => {
                Ok(Map::from_iter([
                    ("name".to_owned(), json!("openmls")),
                    ("version".to_owned(), json!("0.9.2 (openmls_rust_crypto 0.6.0)")),
                    ("protocol".to_owned(), json!(1)),
                    ("suites".to_owned(), json!([])),
                    ("capabilities".to_owned(), json!(["mls-group"])),
                ]))
            }
            "mls_suites" => {
                let provider = OpenMlsRustCrypto::default();
                let suites: Vec<u16> = provider.crypto().supported_ciphersuites().into_iter().map(u16::from).collect();
                Ok(Map::from_iter([("mls_suites".to_owned(), json!(suites))]))
            }
            "key_package" => self.key_package(req),
            "create" => self.create(req),
            "add" => self.add(req),
            "join" => self.join(req),
            "remove" => self.remove(req),
            "update" => self.update(req),
            "propose_update" | "propose_remove" | "propose_add" => self.propose(req, op),
            "commit_pending" => self.commit_pending(req),
            "process" => self.process(req),
            "export" => self.export(req),
            "shutdown" => Ok(Map::new()),
            _ => Err(Failure { class: "unsupported", message: format!("op {op:?}") }),
        }
    }
}

fn answer(driver: &mut Driver, line: &str) -> (Value, bool) {
    let req: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return (json!({"id": null, "ok": false, "error": "invalid_argument", "message": e.to_string()}), false),
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let op = req.get("op").and_then(Value::as_str).unwrap_or("").to_owned();
    // A panic inside OpenMLS is answered as `internal`; the driver keeps serving.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| driver.handle(&op, &req)))
        .unwrap_or_else(|p| {
            let text = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            Err(Failure { class: "internal", message: format!("panic: {}", text.unwrap_or_default()) })
        });
    let mut out = match result {
        Ok(fields) => {
            let mut m = fields;
            m.insert("ok".to_owned(), json!(true));
            m
        }
        Err(f) => Map::from_iter([
            ("ok".to_owned(), json!(false)),
            ("error".to_owned(), json!(f.class)),
            ("message".to_owned(), json!(f.message)),
        ]),
    };
    out.insert("id".to_owned(), id);
    (Value::Object(out), op == "shutdown")
}

fn main() {
    std::panic::set_hook(Box::new(|_| {})); // panics are answered, not printed
    let mut driver = Driver { members: HashMap::new() };
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let (reply, stop) = if line.len() > MAX_LINE {
            (json!({"id": null, "ok": false, "error": "invalid_argument", "message": "line too long"}), false)
        } else {
            answer(&mut driver, &line)
        };
        if writeln!(stdout, "{reply}").and_then(|_| stdout.flush()).is_err() || stop {
            break;
        }
    }
}
