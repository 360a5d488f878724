"""Reading a published list file into entities: the one entry point over every format.

A file is read completely and checked (well-formed, of the right schema, ids unique) before
anything is stored, so a bad file never replaces a good version.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from twinrail.compliance.domain.entities import ListEntity, ListFormat
from twinrail.compliance.domain.errors import DuplicateEntityId, ListFileError, UnknownListFormat

__all__ = ["read_list", "Progress", "CountingReader", "list_format"]

Progress = Callable[[int, int], None]  # (bytes read, bytes in the file)


class CountingReader(io.RawIOBase):
    """A binary reader that reports how far it got, for progress bars."""

    def __init__(self, raw: BinaryIO, total: int, progress: Progress | None) -> None:
        self._raw = raw
        self._total = total
        self._progress = progress
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.position += len(data)
        if self._progress is not None:
            self._progress(self.position, self._total)
        return len(data)


def list_format(name: str) -> ListFormat:
    """The format called `name`; UnknownListFormat lists the valid ones."""
    try:
        return ListFormat(name)
    except ValueError:
        valid = ", ".join(f.value for f in ListFormat)
        raise UnknownListFormat(f"unknown list format {name!r}; use one of {valid}") from None


def _parsers(fmt: ListFormat) -> Callable[[BinaryIO], Iterator[ListEntity]]:
    from twinrail.compliance.adapters.ftm_lists import parse_ftm
    from twinrail.compliance.adapters.xml_lists import parse_eu_fsf, parse_ofac_sdn, parse_un_sc

    parsers: dict[ListFormat, Callable[[BinaryIO], Iterator[ListEntity]]] = {
        ListFormat.OFAC_SDN: parse_ofac_sdn,
        ListFormat.EU_FSF: parse_eu_fsf,
        ListFormat.UN_SC: parse_un_sc,
        ListFormat.FTM: parse_ftm,
    }
    return parsers[fmt]


def read_list(
    fmt: ListFormat | str, path: str | os.PathLike[str], progress: Progress | None = None
) -> list[ListEntity]:
    """Every entity in the file at `path`; a ListFileError if any part of it is bad."""
    fmt = list_format(fmt) if isinstance(fmt, str) else fmt
    path = Path(path)
    if not path.is_file():
        raise ListFileError("no such list file", path=str(path))
    parse = _parsers(fmt)
    seen: set[str] = set()
    entities: list[ListEntity] = []
    with path.open("rb") as raw:
        reader = io.BufferedReader(CountingReader(raw, path.stat().st_size, progress), 1 << 20)
        for entity in parse(reader):
            if entity.entity_id in seen:
                raise DuplicateEntityId(
                    "the same entity id appears twice", entity_id=entity.entity_id, path=str(path)
                )
            seen.add(entity.entity_id)
            entities.append(entity)
    return entities
