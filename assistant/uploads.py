"""Files a user uploads: checked, saved under the upload folder with a safe name, ingested."""

from __future__ import annotations

import filecmp
import hashlib
import re
import shutil
from pathlib import Path

from .loaders import SUPPORTED_SUFFIXES


class UploadError(ValueError):
    """An upload that is refused; str() names the file and the reason."""


MAX_STEM = 100


def safe_name(name: str) -> str:
    """A file name that cannot leave the upload folder: no folders, no dots in front, no
    characters outside letters, digits, dot, dash and underscore. The extension is kept
    whatever the name's length or script ("Доклад.pdf" is "upload.pdf")."""
    base = Path(name.replace("\\", "/")).name
    suffix = re.sub(r"[^A-Za-z0-9]+", "", Path(base).suffix)
    stem = base[: -len(Path(base).suffix)] if Path(base).suffix else base
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).lstrip("._") or "upload"
    return stem[:MAX_STEM] + (f".{suffix}" if suffix else "")


def save_upload(
    source: Path, original_name: str, folder: Path, max_bytes: int, uploaded_in: Path
) -> Path:
    """Copies an uploaded file into the folder after checking where it came from, its type and
    its size. Only a file inside `uploaded_in` (the web framework's own upload folder) is
    taken: a request naming any other path on the server is refused."""
    try:
        real = Path(source).resolve(strict=True)
    except (OSError, RuntimeError) as err:
        raise UploadError(f"{original_name}: the uploaded file cannot be found") from err
    if uploaded_in.resolve() not in real.parents or not real.is_file():
        raise UploadError(f"{original_name}: not a file uploaded through the app; refused")
    name = safe_name(original_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UploadError(f"{original_name}: {suffix or 'no extension'} is not supported ({kinds})")
    size = real.stat().st_size
    if size > max_bytes:
        raise UploadError(
            f"{original_name}: {size / 1048576:.1f} MB is over the "
            f"{max_bytes / 1048576:.1f} MB limit"
        )
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / name).resolve()
    if target.exists() and not _same_bytes(target, real):
        # Another document went up under this name: it is kept, and this one saved beside it.
        digest = hashlib.sha256(real.read_bytes()).hexdigest()[:8]
        target = target.with_name(f"{target.stem}-{digest}{target.suffix}")
    if folder.resolve() not in target.parents:
        raise UploadError(f"{original_name}: not a name that can be saved")
    partial = target.with_name(f".{target.name}.part")
    shutil.copyfile(real, partial)
    partial.replace(target)
    return target


def _same_bytes(a: Path, b: Path) -> bool:
    return filecmp.cmp(a, b, shallow=False)
