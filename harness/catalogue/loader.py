"""The catalogue: every case, built from the vector files in ``vectors/``.

Official RFC vectors (``vectors/rfc9605``) and the project's generated vectors
(``vectors/generated``) are data; this module only turns them into cases.
What RFC 9605 lets pass is data too: a generated test's ``may_fail`` (the ops
whose refusal is allowed; ``true`` on a scenario step) and ``reason`` become
``Step.may_fail`` and ``Step.reason``, and its ``source`` (the builder that
made it) becomes ``Case.generator``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from ..locations import GENERATED_VECTORS, RFC_VECTORS, VECTORS
from ..model.cases import Case, Expected, Ref, Step
from ..model.protocol import from_wire
from ..model.requirements import REQUIREMENTS, Level, strongest_level
from ..model.wire import Request

RFC = RFC_VECTORS
GENERATED = GENERATED_VECTORS


def _json(path: Path) -> Any:
    # Official vectors carry u64 values as JSON numbers; Python ints keep them exact.
    return json.loads(path.read_text())


def _case(id: str, title: str, requirements: list[str], steps: list[Step], *, result: Expected = Expected.VALID,
          flags: Iterable[str] = (), comment: str = "", source: str = "", level: str | None = None,
          generator: str = "") -> Case:
    reqs = tuple(requirements)
    return Case(id=id, title=title, section=REQUIREMENTS[reqs[0]].section, requirements=reqs,
                level=Level(level) if level else strongest_level(reqs), result=result, steps=tuple(steps),
                flags=tuple(flags), comment=comment, source=source, generator=generator)


def _hex(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: bytes.fromhex(fields[n]) for n in names}


def official_cases() -> list[Case]:
    cases: list[Case] = []
    src = "vectors/rfc9605/test-vectors.json"
    rfc = _json(RFC / "test-vectors.json")
    for i, v in enumerate(rfc["header"]):
        kid, ctr, encoded = v["kid"], v["ctr"], bytes.fromhex(v["encoded"])
        cases.append(_case(
            f"rfc9605/header/{i}", f"header KID {kid:#x} CTR {ctr:#x} is {v['encoded']}", ["TV-01", "HDR-03", "HDR-05"],
            [Step(Request("encode_header", {"kid": kid, "ctr": ctr}), output={"header": encoded}),
             Step(Request("decode_header", {"data": encoded}), output={"kid": kid, "ctr": ctr, "length": len(encoded)})],
            source=f"{src}#header[{i}]"))
    post = _json(RFC / "test-vectors-post-rfc.json")
    aes256 = _json(RFC / "test-vectors-aes256-post-rfc.json")
    aead_sets = [(f"{src}#aes_ctr_hmac", rfc["aes_ctr_hmac"]),
                 ("vectors/rfc9605/test-vectors-post-rfc.json#aes_256_ctr_hmac", post["aes_256_ctr_hmac"])]
    for where, vectors in aead_sets:
        for j, v in enumerate(vectors):
            source = f"{where}[{j}]"
            s = v["cipher_suite"]
            f = {"suite": s, **_hex(v, "key", "nonce", "aad")}
            pt, ct = bytes.fromhex(v["pt"]), bytes.fromhex(v["ct"])
            cases.append(_case(
                f"rfc9605/aead/suite-{s}", f"AES-CTR+HMAC AEAD vector, suite {s}",
                ["TV-02", "SUITE-02", "SUITE-03", "SUITE-04"],
                [Step(Request("aead_encrypt", {**f, "plaintext": pt}), output={"ciphertext": ct}),
                 Step(Request("aead_decrypt", {**f, "ciphertext": ct}), output={"plaintext": pt})], source=source))
    sframe_sets = [(f"{src}#sframe", rfc["sframe"]),
                   ("vectors/rfc9605/test-vectors-aes256-post-rfc.json#sframe_aes_256_ctr_hmac",
                    aes256["sframe_aes_256_ctr_hmac"])]
    for where, vectors in sframe_sets:
        for j, v in enumerate(vectors):
            source = f"{where}[{j}]"
            s, kid, ctr = v["cipher_suite"], v["kid"], v["ctr"]
            key = {"suite": s, "base_key": bytes.fromhex(v["base_key"]), "kid": kid}
            md, pt, ct = (bytes.fromhex(v[n]) for n in ("metadata", "pt", "ct"))
            cases.append(_case(
                f"rfc9605/sframe/suite-{s}/encrypt", f"SFrame vector, suite {s}: encrypt",
                ["TV-03", "ENC-01", "ENC-02", "ENC-03", "SUITE-01"] + (["SUITE-06"] if s in (4, 5) else []),
                [Step(Request("encrypt", {**key, "ctr": ctr, "metadata": md, "plaintext": pt}), output={"ciphertext": ct})],
                source=source))
            cases.append(_case(
                f"rfc9605/sframe/suite-{s}/decrypt", f"SFrame vector, suite {s}: decrypt", ["TV-03", "DEC-01"],
                [Step(Request("decrypt", {**key, "metadata": md, "ciphertext": ct}), output={"plaintext": pt})],
                source=source))
            cases.append(_case(
                f"rfc9605/sframe/suite-{s}/derive", f"SFrame vector, suite {s}: sframe_key and sframe_salt",
                ["KDF-01", "KDF-02", "KDF-03"],
                [Step(Request("derive", key), output={"key": bytes.fromhex(v["sframe_key"]),
                                                       "salt": bytes.fromhex(v["sframe_salt"])})],
                source=source))
    return cases


def _succeeds(t: dict[str, Any], request: Request, output: dict[str, Any]) -> Step:
    """A step that must succeed with ``output``, unless the test lets its op fail ("may_fail": [ops], or an
    "acceptable" result), for ``reason``."""
    may_fail = t["result"] == "acceptable" or request.op in t.get("may_fail", ())
    return Step(request, output=output, may_fail=may_fail, reason=t.get("reason", "") if may_fail else "")


def _fails(t: dict[str, Any], request: Request) -> Step:
    """A step that must fail with one of the test's ``errors``; ``reason`` says why several are correct."""
    return Step(request, expect_ok=False, errors=tuple(t["errors"]), reason=t.get("reason", ""))


def _roundtrip_steps(t: dict[str, Any], suite: int) -> list[Step]:
    f = from_wire({k: t[k] for k in ("base_key", "kid", "ctr", "metadata", "plaintext", "ciphertext")})
    key = {"suite": suite, "base_key": f["base_key"], "kid": f["kid"]}
    # The decrypt step reads the pinned ciphertext, not the encrypt step's: a receiver is checked on the
    # reference's frame even where a sender may refuse to make it (CTR 2^64-1).
    return [
        _succeeds(t, Request("encrypt", {**key, "ctr": f["ctr"], "metadata": f["metadata"],
                                         "plaintext": f["plaintext"]}), {"ciphertext": f["ciphertext"]}),
        _succeeds(t, Request("decrypt", {**key, "metadata": f["metadata"], "ciphertext": f["ciphertext"]}),
                  {"plaintext": f["plaintext"]}),
    ]


def _decrypt_steps(t: dict[str, Any], suite: int) -> list[Step]:
    f = from_wire({k: t[k] for k in ("base_key", "kid", "metadata", "ciphertext")})
    request = Request("decrypt", {"suite": t.get("decrypt_suite", suite), **f})
    if t["result"] == "valid":
        return [_succeeds(t, request, {"plaintext": bytes.fromhex(t["plaintext"])})]
    return [_fails(t, request)]


def _encrypt_invalid_steps(t: dict[str, Any], suite: int | None) -> list[Step]:
    # kid and ctr stay decimal strings here: they are deliberately out of u64 range.
    fields = {"suite": t["suite"], "kid": int(t["kid"]), "ctr": int(t["ctr"]),
              **_hex(t, "base_key", "metadata", "plaintext")}
    return [_fails(t, Request("encrypt", fields))]


def _codec_steps(t: dict[str, Any], suite: int | None) -> list[Step]:
    f = from_wire({k: t[k] for k in ("kid", "ctr", "header")})
    return [Step(Request("encode_header", {"kid": f["kid"], "ctr": f["ctr"]}), output={"header": f["header"]}),
            Step(Request("decode_header", {"data": f["header"]}),
                 output={"kid": f["kid"], "ctr": f["ctr"], "length": len(f["header"])})]


def _decode_steps(t: dict[str, Any], suite: int | None) -> list[Step]:
    request = Request("decode_header", {"data": bytes.fromhex(t["data"])})
    if t["result"] == "invalid":
        return [_fails(t, request)]
    return [_succeeds(t, request, from_wire({"kid": t["kid"], "ctr": t["ctr"]}) | {"length": t["length"]})]


def _scenario_steps(t: dict[str, Any], suite: int | None) -> list[Step]:
    """A stateful scenario: {"$ref": [step, field]} request values become Refs; a step's own "may_fail"
    (true) and "reason" are as a flat test's."""
    steps = []
    for s in t["steps"]:
        refs = {k: Ref(*v["$ref"]) for k, v in s["request"].items() if isinstance(v, dict) and "$ref" in v}
        request = Request(s["op"], from_wire({k: v for k, v in s["request"].items() if k not in refs}) | refs)
        if "errors" in s:
            steps.append(Step(request, expect_ok=False, errors=tuple(s["errors"]), reason=s.get("reason", "")))
        else:
            steps.append(Step(request, output=from_wire(s.get("output", {})), may_fail=s.get("may_fail", False),
                              reason=s.get("reason", "")))
    return steps


GROUP_TYPES: dict[str, Callable[[dict[str, Any], Any], list[Step]]] = {
    "SFrameRoundTrip": _roundtrip_steps,
    "SFrameDecrypt": _decrypt_steps,
    "SFrameEncryptInvalid": _encrypt_invalid_steps,
    "HeaderCodec": _codec_steps,
    "HeaderDecode": _decode_steps,
    "KeyManagementScenario": _scenario_steps,
}


def wycheproof_cases(path: Path) -> list[Case]:
    doc = _json(path)
    source = str(path.relative_to(VECTORS.parent))
    cases = []
    for group in doc["testGroups"]:
        build = GROUP_TYPES[group["type"]]
        for t in group["tests"]:
            cases.append(_case(t["id"], t["comment"], t["requirements"], build(t, group.get("suite")),
                               result=Expected(t["result"]), flags=t["flags"], comment=t["comment"],
                               source=f"{source}#tcId={t['tcId']}", level=t.get("level"),
                               generator=t.get("source", "")))
    return cases


@cache
def flag_notes() -> dict[str, str]:
    """Each flag's description, from the ``notes`` of the generated vector files."""
    notes: dict[str, str] = {}
    for path in sorted(GENERATED.glob("*.json")):
        notes.update({flag: note["description"] for flag, note in _json(path)["notes"].items()})
    return notes


@cache
def all_cases() -> tuple[Case, ...]:
    cases = official_cases()
    for path in sorted(GENERATED.glob("*.json")):
        cases.extend(wycheproof_cases(path))
    return tuple(cases)


def _matches(case: Case, pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for name in (case.id, *case.requirements, *case.flags))


def select(cases: Iterable[Case], only: list[str] | None = None, exclude: list[str] | None = None) -> list[Case]:
    """Filter by case id, requirement id or flag; each pattern may be a glob."""
    out = [c for c in cases if not only or any(_matches(c, p) for p in only)]
    return [c for c in out if not exclude or not any(_matches(c, p) for p in exclude)]
