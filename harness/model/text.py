"""Untrusted text made safe for each place it goes: a stored message, a terminal, XML, HTML.

Rules of this module: text from an implementation, a results file or a
reproducer may hold anything a Python ``str`` can (NUL, ESC sequences, lone
surrogates, bidi overrides, megabytes). Stored text is cut to a bound with the
count of what was cut (``clip``); text is escaped where it is shown, never
stored escaped: ``for_terminal`` for the console, ``for_xml`` for JUnit,
``for_html`` for every value the HTML report interpolates, whatever its type.
Each function returns text that can be encoded as UTF-8.
"""

from __future__ import annotations

import html
import re

# What a stored message keeps: enough for a human, small enough that 10,000 of them are a few MB.
MESSAGE_LIMIT = 4096

# Lone surrogates (json.loads keeps "\ud800"), which no UTF-8 encoder accepts.
_SURROGATES = re.compile("[\ud800-\udfff]")
# For a terminal: C0 and C1 controls, DEL, bidi overrides and isolates (they reorder what
# follows them on screen), and surrogates.
_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# XML 1.0 allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_XML_FORBIDDEN = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… {len(text) - limit} characters cut"


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (the boundary's repair of a wire string)."""
    if text.isascii():
        return text
    return _SURROGATES.sub("\ufffd", text)


def one_line(text: str) -> str:
    """``text`` on one line: line breaks become " | " (a reason must fit one console line)."""
    return " | ".join(part for part in text.splitlines() if part.strip()) if "\n" in text or "\r" in text else text


def for_terminal(text: object) -> str:
    """``text`` with every control, bidi or surrogate character shown as an escape (``\\x1b``)."""
    s = str(text)
    return s if s.isascii() and s.isprintable() else _TERMINAL_UNSAFE.sub(_escape_char, s)


def for_xml(text: object) -> str:
    """``text`` with every character XML 1.0 forbids (NUL, ESC, surrogates, U+FFFE) shown as an escape.
    Markup characters are left to the XML writer."""
    s = str(text)
    return s if s.isascii() and s.isprintable() else _XML_FORBIDDEN.sub(_escape_char, s)


def for_html(value: object) -> str:
    """Any value as HTML text or attribute content: markup and quotes escaped, surrogates and
    other characters XML forbids shown as escapes. Use it for every interpolated value."""
    return html.escape(for_xml(value), quote=True)
