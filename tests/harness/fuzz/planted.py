"""A planted bug behind four single-byte comparisons, built only into a temporary directory.

The C implementation is linked with ``-Wl,--wrap=sf_key_decrypt_alloc``: the
wrapper lets the real function decrypt, and when the frame was authentic and
its plaintext passes four nested single-byte comparisons (bytes and places
nowhere in the fuzzer's dictionary or seeds) it flips a bit of the plaintext.
So the variant answers like the real one everywhere except behind those
comparisons, which only coverage feedback can walk through.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
C_DIR = ROOT / "implementations" / "c"
RUNTIME = ROOT / "fuzz" / "runtime" / "afl_shm_coverage.c"
MAGIC = {4: 0x8D, 7: 0xB3, 9: 0xC4, 11: 0xE9}  # plaintext index -> byte

WRAPPER = r"""
#include <stdint.h>
#include <stddef.h>
#include "sframe.h"

sf_err __real_sf_key_decrypt_alloc(sf_key *k, const uint8_t *frame, size_t frame_len,
                                   const uint8_t *metadata, size_t md_len, uint8_t **out, size_t *out_len);

sf_err __wrap_sf_key_decrypt_alloc(sf_key *k, const uint8_t *frame, size_t frame_len,
                                   const uint8_t *metadata, size_t md_len, uint8_t **out, size_t *out_len)
{
    sf_err rc = __real_sf_key_decrypt_alloc(k, frame, frame_len, metadata, md_len, out, out_len);
    if (rc == SF_OK && *out_len > 11) {
        uint8_t *p = *out;
        if (p[%(i0)d] == %(b0)d)
            if (p[%(i1)d] == %(b1)d)
                if (p[%(i2)d] == %(b2)d)
                    if (p[%(i3)d] == %(b3)d)
                        p[0] ^= 0x01; /* a wrong plaintext for an authentic frame */
    }
    return rc;
}
"""


def build(directory: Path) -> Path:
    """Build the planted coverage variant into ``directory``; the path of its server."""
    directory.mkdir(parents=True, exist_ok=True)
    values = {}
    for n, (index, byte) in enumerate(sorted(MAGIC.items())):
        values[f"i{n}"], values[f"b{n}"] = index, byte
    source = directory / "planted.c"
    source.write_text(WRAPPER % values)
    obj = directory / "planted.o"
    subprocess.run(["clang", "-O1", "-fsanitize-coverage=trace-pc-guard,trace-cmp", "-I", str(C_DIR), "-c", str(source),
                    "-o", str(obj)], check=True, capture_output=True, text=True)
    subprocess.run(["make", "-s", "-C", str(C_DIR), "cov", f"BUILD={directory}", f"COV_RUNTIME={RUNTIME}",
                    f"LDFLAGS=-Wl,--wrap=sf_key_decrypt_alloc {obj}"], check=True, capture_output=True, text=True)
    server = directory / "sframe-server-cov"
    assert server.exists()
    return server


def magic_plaintext(size: int = 16) -> bytes:
    plaintext = bytearray(size)
    for index, byte in MAGIC.items():
        plaintext[index] = byte
    return bytes(plaintext)


def available() -> str | None:
    missing = [tool for tool in ("clang", "make") if shutil.which(tool) is None]
    return f"{', '.join(missing)} not installed" if missing else None
