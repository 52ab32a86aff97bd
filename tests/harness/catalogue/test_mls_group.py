"""A real MLS group (RFC 9420, npm ts-mls) keys SFrame (RFC 9605 §5.2) across implementations.

``implementations/mls-group/group.mjs`` runs a group through several epochs (adds,
then a removal) and prints each member's own exporter output per epoch. Here
every member gets an MLS context in an implementation, fed only the epochs it
belongs to, with its own copy of the epoch's base key; one implementation
encrypts as one member and another decrypts as another. A removed member never
receives the new epoch's secret, so it cannot decrypt frames from it.
"""

from __future__ import annotations

import itertools
import json
import subprocess

import pytest

from harness.adapters.base import Adapter, AdapterError
from harness.adapters.registry import open_adapter
from harness.catalogue.mls_exporter import sframe_base_key
from harness.model.wire import Request, Response
from tests.conftest import ROOT

pytestmark = pytest.mark.node

GROUP_DIR = ROOT / "implementations" / "mls-group"
IMPLS = ("python", "c", "js")
EPOCH_BITS, SENDER_BITS = 4, 6  # room for every epoch the script makes: nothing is evicted


@pytest.fixture(scope="module")
def group() -> dict:
    if not (GROUP_DIR / "node_modules" / "ts-mls").is_dir():
        pytest.fail("ts-mls is not installed: run `make build` (npm ci --prefix implementations/mls-group)")
    proc = subprocess.run(["node", str(GROUP_DIR / "group.mjs")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def adapters():
    opened: dict[str, Adapter] = {}

    def get(name: str) -> Adapter:
        if name not in opened:
            try:
                opened[name] = open_adapter(name)
            except AdapterError as e:
                pytest.fail(f"{name}: {e}")
        return opened[name]

    yield get
    for adapter in opened.values():
        adapter.close()


def call(adapter: Adapter, op: str, **fields) -> Response:
    response = adapter.call(Request(op, fields))
    assert response.fault is None, f"{adapter.name} {op}: {response.fault}"
    return response


def ok(adapter: Adapter, op: str, **fields) -> dict:
    response = call(adapter, op, **fields)
    assert response.ok, f"{adapter.name} {op} {fields}: {response.error}: {response.message}"
    return response.fields


class Member:
    """One member's SFrame state in one implementation: an MLS context holding the epochs it was in."""

    def __init__(self, adapter: Adapter, name: str, suite: int) -> None:
        self.adapter, self.name = adapter, name
        self.ctx = ok(adapter, "mls_context_new", suite=suite, epoch_bits=EPOCH_BITS,
                      sender_bits=SENDER_BITS)["ctx"]

    def add_epoch(self, epoch: int, base_key: str) -> None:
        ok(self.adapter, "mls_add_epoch", ctx=self.ctx, epoch=epoch, epoch_secret=bytes.fromhex(base_key))

    def encrypt(self, epoch: int, leaf: int, context_id: int, plaintext: bytes) -> bytes:
        r = ok(self.adapter, "mls_encrypt", ctx=self.ctx, epoch=epoch, sender_index=leaf,
               context_id=context_id, metadata=b"", plaintext=plaintext)
        return r["ciphertext"]

    def decrypt(self, ciphertext: bytes) -> Response:
        return call(self.adapter, "mls_decrypt", ctx=self.ctx, metadata=b"", ciphertext=ciphertext)


def test_group_runs_epochs_with_adds_and_a_removal(group):
    assert group["mls_cipher_suite"] == {"name": "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "id": 1}
    epochs = group["epochs"]
    assert [e["epoch"] for e in epochs] == list(range(len(epochs)))
    assert len(epochs) >= 4
    sizes = [len(e["members"]) for e in epochs]
    assert max(sizes) >= 3 and sizes[0] == 1  # at least two members joined
    removal = next(e for e in epochs if e["removed"])
    for name in removal["removed"]:
        assert all(name not in e["members"] for e in epochs[removal["epoch"]:])
        assert name in epochs[removal["epoch"] - 1]["members"]
    # The removed member's own ts-mls state stays behind: it cannot enter the new epoch.
    removed = group["removed_member"]
    assert removed["last_epoch"] == removal["epoch"] - 1
    assert removed.get("epoch_after", removed["last_epoch"]) < removal["epoch"]


def test_members_agree_in_every_epoch(group):
    seen = set()
    for e in group["epochs"]:
        views = {(m["exporter_secret"], tuple(sorted(m["base_keys"].items()))) for m in e["members"].values()}
        assert len(views) == 1, f"epoch {e['epoch']}: members disagree"
        leaves = [m["leaf_index"] for m in e["members"].values()]
        assert len(set(leaves)) == len(leaves)
        secret = next(iter(views))[0]
        assert secret not in seen, f"epoch {e['epoch']} repeats an exporter secret"
        seen.add(secret)


def test_ts_mls_exporter_matches_the_harness_exporter(group):
    # ts-mls's own MLS-Exporter("SFrame 1.0 Base Key", "", Nk) against harness/mls.py, from the exporter secret.
    mls_suite = group["mls_cipher_suite"]["id"]
    for e in group["epochs"]:
        for m in e["members"].values():
            for suite, key in m["base_keys"].items():
                assert sframe_base_key(mls_suite, bytes.fromhex(m["exporter_secret"]), int(suite)).hex() == key


@pytest.mark.parametrize("suite", [1, 4])
@pytest.mark.parametrize(("tx_impl", "rx_impl"), list(itertools.product(IMPLS, IMPLS)))
def test_members_encrypt_and_decrypt_across_epochs_and_implementations(group, adapters, tx_impl, rx_impl, suite):
    tx, rx = adapters(tx_impl), adapters(rx_impl)
    senders: dict[str, Member] = {}
    receivers: dict[str, Member] = {}
    late: list[tuple[int, str, str, int, bytes, bytes]] = []  # frames of the previous epoch, delivered late
    removed: set[str] = set()
    checked_removed = 0
    for e in group["epochs"]:
        epoch, members = e["epoch"], e["members"]
        removed.update(e["removed"])
        for name, m in members.items():
            for pool, adapter in ((senders, tx), (receivers, rx)):
                if name not in pool:
                    pool[name] = Member(adapter, name, suite)
                # Each member installs the epoch from its own exporter output.
                pool[name].add_epoch(epoch, m["base_keys"][str(suite)])
        # A frame sent in the previous epoch still decrypts once the new epoch is installed.
        for prev_epoch, sender, receiver, leaf, plaintext, ciphertext in late:
            if receiver in members:
                r = receivers[receiver].decrypt(ciphertext)
                assert r.ok, f"late frame of epoch {prev_epoch} from {sender} to {receiver}: {r.error} {r.message}"
                assert r.fields["plaintext"] == plaintext
        late = []
        for sender, receiver in itertools.permutations(sorted(members), 2):
            leaf = members[sender]["leaf_index"]
            context_id = epoch % 2
            plaintext = f"epoch {epoch}: {sender} -> {receiver}".encode()
            ciphertext = senders[sender].encrypt(epoch, leaf, context_id, plaintext)
            r = receivers[receiver].decrypt(ciphertext)
            assert r.ok, f"epoch {epoch} {sender}@{tx_impl} -> {receiver}@{rx_impl}: {r.error} {r.message}"
            assert r.fields["plaintext"] == plaintext
            assert (r.fields["epoch"], r.fields["sender_index"], r.fields["context_id"]) == (epoch, leaf, context_id)
            late.append((epoch, sender, receiver, leaf, plaintext, ciphertext))
            # A removed member holds only the epochs it belonged to: the new epoch's KIDs are unknown.
            for gone in sorted(removed):
                if gone in receivers:
                    r = receivers[gone].decrypt(ciphertext)
                    assert not r.ok and r.error == "unknown_kid", (
                        f"removed {gone}@{rx_impl} on epoch {epoch}: {r.ok} {r.error} {r.message}")
                    checked_removed += 1
    assert checked_removed > 0


@pytest.mark.parametrize("impl", IMPLS)
def test_a_reused_epoch_slot_evicts_the_old_epoch(group, adapters, impl):
    # With E = 2 the group's epoch 4 takes epoch 0's slot (MLS-03): epoch 0's frames stop decrypting.
    adapter = adapters(impl)
    epochs = group["epochs"]
    assert len(epochs) > 4
    keys = {e["epoch"]: bytes.fromhex(e["members"]["alice"]["base_keys"]["4"])
            for e in epochs if "alice" in e["members"]}
    frame = {"sender_index": 0, "context_id": 0, "metadata": b""}
    tx, rx = (ok(adapter, "mls_context_new", suite=4, epoch_bits=2, sender_bits=SENDER_BITS)["ctx"] for _ in "ab")
    for ctx in (tx, rx):
        ok(adapter, "mls_add_epoch", ctx=ctx, epoch=0, epoch_secret=keys[0])
    old = ok(adapter, "mls_encrypt", ctx=tx, epoch=0, plaintext=b"old", **frame)["ciphertext"]
    late = ok(adapter, "mls_encrypt", ctx=tx, epoch=0, plaintext=b"late", **frame)["ciphertext"]
    assert call(adapter, "mls_decrypt", ctx=rx, metadata=b"", ciphertext=old).ok
    for ctx in (tx, rx):
        ok(adapter, "mls_add_epoch", ctx=ctx, epoch=4, epoch_secret=keys[4])
    r = call(adapter, "mls_decrypt", ctx=rx, metadata=b"", ciphertext=late)
    assert not r.ok and r.error in ("auth_failed", "unknown_kid"), (r.ok, r.error)
    assert call(adapter, "mls_encrypt", ctx=tx, epoch=0, plaintext=b"x", **frame).error == "unknown_kid"
    new = ok(adapter, "mls_encrypt", ctx=tx, epoch=4, plaintext=b"new", **frame)["ciphertext"]
    assert ok(adapter, "mls_decrypt", ctx=rx, metadata=b"", ciphertext=new)["epoch"] == 4
