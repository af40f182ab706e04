"""Document fields from a folder's manifest.yaml or a file's own sidecar (NAME.meta.yaml)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import urllib.parse
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .models import MetaValue

SIDECAR_SUFFIX = ".meta.yaml"
KNOWN_FIELDS = (
    "title",
    "jurisdiction",
    "kind",
    "publisher",
    "date",
    "year",
    "licence",
    "url",
    "official_source",
    "summary",
)


OFFICIAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""An official document's id names its file in official/: letters, digits, '.', '_' and '-'."""
OFFICIAL_FORMATS = ("pdf", "html", "htm", "docx", "md", "markdown", "txt")
"""The file types an official document may be fetched as (those the reader reads)."""


class ManifestError(Exception):
    """A manifest or sidecar that cannot be read; str() names the file and the reason."""


def _scalar(value: Any) -> MetaValue | None:
    if value is None:
        return None
    if isinstance(value, str):
        return " ".join(value.split())  # "Scotland " is Scotland, as a filter names it
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def _fields(raw: dict[str, Any], where: str) -> dict[str, MetaValue]:
    fields: dict[str, MetaValue] = {}
    for key, value in raw.items():
        if key in ("file", "id", "format"):
            continue
        scalar = _scalar(value)
        if scalar is None:
            if value is not None:
                raise ManifestError(f"{where}: field {key!r} must be a single value, not {value!r}")
            continue
        fields[str(key)] = scalar
    date = fields.get("date")
    if "year" not in fields and isinstance(date, str | int) and not isinstance(date, bool):
        year = str(date)[:4]  # "2015-03-01", or a year alone (2015)
        if year.isdigit() and len(year) == 4:
            fields["year"] = int(year)
    return fields


@cache
def _read_yaml(path: Path, mtime_ns: int) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ManifestError(f"{path}: is not valid YAML{where}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError(f"{path}: cannot be read: {err}") from err


def read_manifest(path: Path) -> dict[str, dict[str, MetaValue] | ManifestError]:
    """Returns the manifest's fields per file name (relative to the manifest's folder), or
    the error in that file's own entry: a bad entry fails its own file, not the others."""
    out: dict[str, dict[str, MetaValue] | ManifestError] = {}
    for section in ("documents", "official"):
        for where, entry in _entries(path, section):
            if section == "official" and official_problem(entry):
                continue  # never fetched (fetch names the problem), so it names no file
            name = official_file(entry) if section == "official" else entry.get("file")
            if not name:
                continue
            try:
                fields: dict[str, MetaValue] | ManifestError = _fields(entry, where)
            except ManifestError as err:
                fields = err
            out[PurePosixPath(str(name)).as_posix()] = fields  # "./a.md" is "a.md"
    return out


def _entries(path: Path, section: str) -> list[tuple[str, dict[str, Any]]]:
    data = _read_yaml(path, path.stat().st_mtime_ns) or {}
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: must be a mapping with a 'documents' list")
    entries = data.get(section) or []
    if not isinstance(entries, list):
        raise ManifestError(f"{path}: '{section}' must be a list of entries")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ManifestError(f"{path}: {section} entry {i + 1} is not a mapping")
        if section == "official" and not (entry.get("id") and entry.get("url")):
            raise ManifestError(f"{path}: official entry {i + 1} needs an id and a url")
    return [(f"{path} {section} entry {i + 1}", e) for i, e in enumerate(entries)]


def official_problem(entry: dict[str, Any]) -> str | None:
    """What makes an official entry unsafe to fetch, naming the field and the reason; None
    when it is sound: its id and format name a file inside official/, its url an http(s)
    address."""
    ident = entry.get("id")
    if (
        not isinstance(ident, str | int)
        or isinstance(ident, bool)
        or not OFFICIAL_ID.fullmatch(str(ident))
        or ".." in str(ident)
    ):
        return (
            f"id {ident!r} must be letters, digits, '.', '_' or '-' (starting with a letter or "
            "digit, no '..', no path separators): it names the file in official/"
        )
    kind = entry.get("format", "pdf")
    if kind not in OFFICIAL_FORMATS:
        return f"format {kind!r} must be one of {', '.join(OFFICIAL_FORMATS)}"
    url = entry.get("url")
    if not isinstance(url, str):
        return f"url {url!r} must be an http:// or https:// address"
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        return f"url {url!r} must be an http:// or https:// address with a host name"
    return None


def official_entries(path: Path) -> list[dict[str, Any]]:
    """The manifest's official documents, each with at least an id and a url."""
    return [entry for _, entry in _entries(path, "official")]


def official_file(entry: dict[str, Any]) -> str:
    """Where an official document is kept, relative to the manifest's folder."""
    return f"official/{entry['id']}.{entry.get('format', 'pdf')}"


def document_fields(file: Path, manifest_name: str = "manifest.yaml") -> dict[str, MetaValue]:
    """Returns the fields given for a file: the nearest manifest's entry, then its sidecar's."""
    file = file.resolve()
    fields: dict[str, MetaValue] = {}
    for folder in file.parents:
        manifest = folder / manifest_name
        if manifest.is_file():
            entry = read_manifest(manifest).get(file.relative_to(folder).as_posix())
            if isinstance(entry, ManifestError):
                raise entry
            if entry is not None:
                fields.update(entry)
                break
    sidecar = file.with_name(file.name + SIDECAR_SUFFIX)
    if sidecar.is_file():
        data = _read_yaml(sidecar, sidecar.stat().st_mtime_ns) or {}
        if not isinstance(data, dict):
            raise ManifestError(f"{sidecar}: must be a mapping of field: value")
        fields.update(_fields(data, str(sidecar)))
    return fields


def fields_hash(fields: dict[str, MetaValue]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
