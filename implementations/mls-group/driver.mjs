#!/usr/bin/env node
// A ts-mls (RFC 9420) group driver for the two-stack MLS test.
//
// The same JSON-lines ops as implementations/openmls-group (its src/main.rs
// has the table): one process holds any number of members; every MLS object
// crosses the pipe in the MLS wire format (an MLSMessage, hex), so a Python
// orchestrator can carry KeyPackages, Welcomes, Commits and Proposals between
// this stack and OpenMLS. Handshake messages go out as ts-mls's default
// (PrivateMessage) unless the request says `"public": true`.
//
// Rules: one request at a time, in order; a failure is one JSON answer with
// ts-mls's own error text (`internal`), never a crash; ts-mls offers the MLS
// cipher suites whose optional crypto packages are installed (package.json).

import { createInterface } from 'node:readline';
import {
  acceptAll, ciphersuites, createCommit, createGroup, createProposal, decodeMlsMessage, defaultCapabilities,
  defaultLifetime, emptyPskIndex, encodeMlsMessage, generateKeyPackage, getCiphersuiteFromName, getCiphersuiteImpl,
  joinGroup, mlsExporter, processMessage,
} from 'ts-mls';

const hex = (u8) => Buffer.from(u8).toString('hex');
const unhex = (s, name) => {
  if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/.test(s)) throw new Failure('invalid_argument', `${name}: hex expected`);
  return new Uint8Array(Buffer.from(s, 'hex'));
};

class Failure extends Error {
  constructor(error, message) { super(message); this.error = error; }
}

const members = new Map(); // name -> {impl, kp, state}
const impls = new Map(); // MLS suite id -> CiphersuiteImpl, or a Failure

async function suiteImpl(id) {
  if (!impls.has(id)) {
    try {
      const name = Object.keys(ciphersuites).find((n) => ciphersuites[n] === id);
      if (name === undefined) throw new Error('unknown to ts-mls');
      impls.set(id, await getCiphersuiteImpl(getCiphersuiteFromName(name)));
    } catch (e) {
      impls.set(id, new Failure('unsupported', `MLS cipher suite ${id}: ${e.message || e}`));
    }
  }
  const impl = impls.get(id);
  if (impl instanceof Failure) throw impl;
  return impl;
}

async function offered() {
  const out = [];
  for (const id of Object.values(ciphersuites)) {
    try {
      const impl = await suiteImpl(id);
      // Some suites load lazily: a key package proves the whole suite is there.
      await generateKeyPackage({ credentialType: 'basic', identity: new Uint8Array([0]) }, defaultCapabilities(),
        defaultLifetime, [], impl);
      out.push(id);
    } catch { /* not installed here */ }
  }
  return out;
}

function member(req) {
  const m = members.get(req.name);
  if (!m) throw new Failure('invalid_argument', `no member ${JSON.stringify(req.name)}: ask key_package first`);
  return m;
}

function inGroup(req) {
  const m = member(req);
  if (!m.state) throw new Failure('invalid_argument', 'member is in no group');
  return m;
}

function decoded(text, name, wireformat) {
  const bytes = unhex(text, name);
  const [message] = decodeMlsMessage(bytes, 0) ?? [];
  if (!message || (wireformat && message.wireformat !== wireformat)) {
    throw new Failure('invalid_argument', `${name} is not an ${wireformat || 'MLSMessage'}`);
  }
  return message;
}

const wire = (message) => hex(encodeMlsMessage(message));
const welcomeMessage = (welcome) => wire({ welcome, wireformat: 'mls_welcome', version: 'mls10' });

function state(m) {
  const s = m.state;
  if (!s) return { epoch: '0', leaf_index: -1, members: [], active: false };
  const leaves = [];
  s.ratchetTree.forEach((node, i) => { if (i % 2 === 0 && node) leaves.push(i / 2); });
  return { epoch: String(s.groupContext.epoch), leaf_index: s.privatePath.leafIndex, members: leaves,
    active: s.groupActiveState.kind === 'active' };
}

async function commit(m, proposals, req) {
  const res = await createCommit({ state: m.state, cipherSuite: m.impl },
    { extraProposals: proposals, ratchetTreeExtension: true, wireAsPublicMessage: req.public === true });
  m.state = res.newState;
  return { commit: wire(res.commit), welcome: res.welcome ? welcomeMessage(res.welcome) : '', state: state(m) };
}

const addProposal = (text) => ({ proposalType: 'add', add: { keyPackage: decoded(text, 'key_package', 'mls_key_package').keyPackage } });

const OPS = {
  async hello() {
    return { name: 'ts-mls', version: '1.6.4', protocol: 1, suites: [], capabilities: ['mls-group'] };
  },
  async mls_suites() {
    return { mls_suites: await offered() };
  },
  async key_package(req) {
    const impl = await suiteImpl(Number(req.mls_suite));
    const kp = await generateKeyPackage({ credentialType: 'basic', identity: new TextEncoder().encode(req.name) },
      defaultCapabilities(), defaultLifetime, [], impl);
    members.set(req.name, { impl, kp, state: null });
    return { key_package: wire({ keyPackage: kp.publicPackage, wireformat: 'mls_key_package', version: 'mls10' }) };
  },
  async create(req) {
    const m = member(req);
    m.state = await createGroup(unhex(req.group_id, 'group_id'), m.kp.publicPackage, m.kp.privatePackage, [], m.impl);
    return { state: state(m) };
  },
  async add(req) {
    const m = inGroup(req);
    if (!Array.isArray(req.key_packages)) throw new Failure('invalid_argument', 'key_packages: a list');
    return commit(m, req.key_packages.map(addProposal), req);
  },
  async join(req) {
    const m = member(req);
    const welcome = decoded(req.welcome, 'welcome', 'mls_welcome').welcome;
    m.state = await joinGroup(welcome, m.kp.publicPackage, m.kp.privatePackage, emptyPskIndex, m.impl);
    return { state: state(m) };
  },
  async remove(req) {
    return commit(inGroup(req), [{ proposalType: 'remove', remove: { removed: Number(req.leaf_index) } }], req);
  },
  async update(req) {
    return commit(inGroup(req), [], req); // no proposals: the commit carries a path, a fresh leaf key
  },
  async propose_remove(req) {
    return propose(req, { proposalType: 'remove', remove: { removed: Number(req.leaf_index) } });
  },
  async propose_add(req) {
    return propose(req, addProposal(req.key_package));
  },
  async commit_pending(req) {
    return commit(inGroup(req), [], req); // createCommit covers every received proposal by reference
  },
  async process(req) {
    const m = inGroup(req);
    const message = decoded(req.mls_message, 'mls_message');
    if (message.wireformat !== 'mls_public_message' && message.wireformat !== 'mls_private_message') {
      throw new Failure('invalid_argument', 'mls_message is not a handshake message');
    }
    const before = Object.keys(m.state.unappliedProposals).length;
    const epoch = m.state.groupContext.epoch;
    const r = await processMessage(message, m.state, emptyPskIndex, acceptAll, m.impl);
    m.state = r.newState;
    const removed = m.state.groupActiveState.kind === 'removedFromGroup';
    const content = m.state.groupContext.epoch !== epoch || removed ? 'commit'
      : Object.keys(m.state.unappliedProposals).length > before ? 'proposal' : 'other';
    return { content, removed, state: state(m) };
  },
  async export(req) {
    const m = inGroup(req);
    if (m.state.groupActiveState.kind !== 'active') throw new Failure('invalid_argument', 'member is not active');
    const secret = await mlsExporter(m.state.keySchedule.exporterSecret, String(req.label),
      unhex(req.context, 'context'), Number(req.length), m.impl);
    // The raw exporter_secret too, so the harness can run RFC 9420's exporter itself as a third opinion.
    return { secret: hex(secret), exporter_secret: hex(m.state.keySchedule.exporterSecret), state: state(m) };
  },
  async shutdown() { return {}; },
};

async function propose(req, proposal) {
  const m = inGroup(req);
  const res = await createProposal(m.state, req.public === true, proposal, m.impl);
  m.state = res.newState;
  return { proposal: wire(res.message) };
}

async function answer(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return [{ id: null, ok: false, error: 'invalid_argument', message: String(e.message) }, false];
  }
  const op = OPS[req.op];
  try {
    if (!op) throw new Failure('unsupported', `op ${JSON.stringify(req.op)}`);
    return [{ id: req.id, ok: true, ...(await op(req)) }, req.op === 'shutdown'];
  } catch (e) {
    const error = e instanceof Failure ? e.error : 'internal';
    return [{ id: req.id, ok: false, error, message: String((e && e.message) || e) }, false];
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  const [reply, stop] = await answer(line);
  process.stdout.write(JSON.stringify(reply) + '\n');
  if (stop) break;
}
