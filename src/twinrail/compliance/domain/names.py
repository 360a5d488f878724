"""Names reduced to comparable tokens: any script to Latin, case, punctuation and noise removed.

Arabic and Hebrew are written without short vowels, so a transliterated token like `mhmd` is
compared with a listed `Mohammed` through its consonant skeleton (`mhmd` both).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

__all__ = ["NameForm", "analyse_name", "skeleton", "abjad_variants", "NOISE_TOKENS"]

# Honorifics, particles and legal forms: they say little about who someone is.
NOISE_TOKENS = frozenset(
    "al el ul bin ibn bint abu de da del der di du van von la le mr mrs ms dr sheikh haji "
    "ltd llc inc co corp company limited ooo oao zao pao jsc gmbh ag sa the of and".split()
)
_APOSTROPHES = dict.fromkeys(map(ord, "'`’‘ʼʻ´"), None)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_VOWELISH = re.compile(r"[aeiouyw]")


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name as tokens; `abjad` when written in a script without vowels (Arabic, Hebrew)."""

    original: str
    tokens: tuple[str, ...]
    abjad: bool
    transliterated: bool

    @property
    def joined(self) -> str:
        return "".join(self.tokens)


def _script_flags(text: str) -> tuple[bool, bool]:
    abjad = False
    non_latin = False
    for ch in text:
        code = ord(ch)
        if code < 0x250:
            continue
        non_latin = True
        if 0x590 <= code <= 0x8FF or 0xFB1D <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF:
            abjad = True
    return abjad, non_latin


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """Consonants only, doubled letters collapsed: `mohammed` and `mhmd` both give `mhmd`."""
    out: list[str] = []
    for ch in _VOWELISH.sub("", token):
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


def _greek_digraphs(text: str) -> str:
    # ELOT 743 and the lists write ου as "ou"; letter by letter it would become "oy"
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return text.replace("ου", "ou").replace("Ου", "Ou").replace("ΟΥ", "OU")


def abjad_variants(token: str) -> tuple[str, ...]:
    """A transliterated Arabic token, and without its article (al-) or final taa marbuta (-h)."""
    variants = [token]
    if len(token) >= 4 and token[0] == "l":
        variants.append(token[1:])
    if len(token) >= 4 and token[-1] == "h":
        variants.append(token[:-1])
    return tuple(variants)


def analyse_name(raw: str) -> NameForm:
    """Tokens of `raw` in lower-case ASCII, noise tokens dropped unless nothing else is left."""
    text = unicodedata.normalize("NFKC", raw)
    abjad, non_latin = _script_flags(text)
    if any(0x370 <= ord(c) <= 0x3FF or 0x1F00 <= ord(c) <= 0x1FFF for c in text):
        text = _greek_digraphs(text)
    ascii_text = anyascii(text).translate(_APOSTROPHES).lower()
    tokens = tuple(t for t in _NON_ALNUM.split(ascii_text) if t)
    kept = tuple(t for t in tokens if t not in NOISE_TOKENS)
    return NameForm(raw, kept or tokens, abjad, non_latin)
