#!/usr/bin/env node
// A real MLS group (RFC 9420, npm ts-mls) for the SFrame conformance tests.
//
// Alice creates a group; members join and one is removed over several epochs,
// every handshake message crossing an encode/decode (the wire format) so each
// member really derives its own key schedule. For every epoch the script
// prints, per current member, that member's own exporter output for SFrame
// (RFC 9605 §5.2): MLS-Exporter("SFrame 1.0 Base Key", "", Nk) for SFrame
// suites 1-5, computed with ts-mls's own exporter, plus the raw exporter
// secret so the harness can re-derive it independently.
//
// Output (stdout, one JSON document): {mls_cipher_suite, exporter, epochs: [
//   {epoch, change, members: {name: {leaf_index, exporter_secret, base_keys: {suite: hex}}},
//    removed: [names no longer in the group]}], removed_member: {...}}

import {
  acceptAll, ciphersuites, createCommit, createGroup, decodeMlsMessage, defaultCapabilities, defaultLifetime,
  emptyPskIndex, encodeMlsMessage, generateKeyPackage, getCiphersuiteFromName, getCiphersuiteImpl,
  joinGroup, mlsExporter, processMessage,
} from 'ts-mls';

const SUITE_NAME = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
const LABEL = 'SFrame 1.0 Base Key';
// AEAD.Nk of SFrame suites 1-5 (RFC 9605 §4.5): the exporter length.
const SFRAME_NK = { 1: 48, 2: 48, 3: 48, 4: 16, 5: 32 };

const hex = (u8) => Buffer.from(u8).toString('hex');
const utf8 = (s) => new TextEncoder().encode(s);

const cs = getCiphersuiteFromName(SUITE_NAME);
const impl = await getCiphersuiteImpl(cs);

// Round-trips a message through the MLS wire encoding, as a delivery service would.
function wire(msg) {
  const [decoded] = decodeMlsMessage(encodeMlsMessage(msg), 0);
  return decoded;
}

async function newClient(name) {
  const kp = await generateKeyPackage({ credentialType: 'basic', identity: utf8(name) },
    defaultCapabilities(), defaultLifetime, [], impl);
  return { name, kp, state: null };
}

const clients = new Map(); // name -> client (current members only)
const epochs = [];

async function snapshot(change, removed = []) {
  const states = [...clients.values()].map((c) => c.state);
  const epoch = states[0].groupContext.epoch;
  const members = {};
  for (const c of clients.values()) {
    if (c.state.groupContext.epoch !== epoch) throw new Error(`${c.name} is in epoch ${c.state.groupContext.epoch}, not ${epoch}`);
    const exporterSecret = c.state.keySchedule.exporterSecret;
    const baseKeys = {};
    for (const [suite, nk] of Object.entries(SFRAME_NK)) {
      baseKeys[suite] = hex(await mlsExporter(exporterSecret, LABEL, new Uint8Array(0), nk, impl));
    }
    members[c.name] = { leaf_index: c.state.privatePath.leafIndex, exporter_secret: hex(exporterSecret), base_keys: baseKeys };
  }
  epochs.push({ epoch: Number(epoch), change, members, removed });
}

// `committer` commits `proposals`; every other current member processes the
// commit; new members join from the Welcome.
async function commit(committerName, proposals, joiners = []) {
  const committer = clients.get(committerName);
  const res = await createCommit({ state: committer.state, cipherSuite: impl },
    { extraProposals: proposals, ratchetTreeExtension: true });
  const commitMsg = wire(res.commit);
  for (const c of clients.values()) {
    if (c === committer) continue;
    const r = await processMessage(commitMsg, c.state, emptyPskIndex, acceptAll, impl);
    c.state = r.newState;
  }
  committer.state = res.newState;
  for (const j of joiners) {
    const welcome = wire({ welcome: res.welcome, wireformat: 'mls_welcome', version: 'mls10' });
    j.state = await joinGroup(welcome.welcome, j.kp.publicPackage, j.kp.privatePackage, emptyPskIndex, impl);
    clients.set(j.name, j);
  }
  return commitMsg;
}

async function addProposal(client) {
  const kpMsg = wire({ keyPackage: client.kp.publicPackage, wireformat: 'mls_key_package', version: 'mls10' });
  return { proposalType: 'add', add: { keyPackage: kpMsg.keyPackage } };
}

const alice = await newClient('alice');
alice.state = await createGroup(utf8('sframe-conformance'), alice.kp.publicPackage, alice.kp.privatePackage, [], impl);
clients.set('alice', alice);
await snapshot('alice creates the group');

const bob = await newClient('bob');
await commit('alice', [await addProposal(bob)], [bob]);
await snapshot('alice adds bob');

const carol = await newClient('carol');
await commit('alice', [await addProposal(carol)], [carol]);
await snapshot('alice adds carol');

const dave = await newClient('dave');
await commit('bob', [await addProposal(dave)], [dave]);
await snapshot('bob adds dave');

// Remove bob. He is taken out of the delivery set first: the commit's path
// secrets are encrypted only to the remaining members, so he has no way to
// the new epoch. We still hand him the commit to record what his state does.
const bobLeaf = bob.state.privatePath.leafIndex;
const bobBefore = bob.state;
clients.delete('bob');
const removal = await commit('alice', [{ proposalType: 'remove', remove: { removed: bobLeaf } }]);
await snapshot('alice removes bob', ['bob']);

const removedMember = { name: 'bob', last_epoch: Number(bobBefore.groupContext.epoch) };
try {
  const r = await processMessage(removal, bobBefore, emptyPskIndex, acceptAll, impl);
  removedMember.processed_removal = true;
  removedMember.epoch_after = Number(r.newState.groupContext.epoch);
  removedMember.active_state = r.newState.groupActiveState && r.newState.groupActiveState.kind;
} catch (e) {
  removedMember.processed_removal = false;
  removedMember.error = String((e && e.message) || e);
}

// One more epoch without bob: carol commits an empty (path-only) commit.
await commit('carol', []);
await snapshot('carol commits a key update');

process.stdout.write(JSON.stringify({
  mls_cipher_suite: { name: SUITE_NAME, id: Number(ciphersuites[SUITE_NAME]) },
  exporter: { label: LABEL, context: '', lengths: SFRAME_NK },
  epochs,
  removed_member: removedMember,
}, null, 1) + '\n');
