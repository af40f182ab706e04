"""Folders and files to the index: incremental, resumable, one commit per document."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import fnmatch
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import ocr
from .chunking import chunk_document
from .citations import evidence_spans
from .config import Settings, get_settings
from .embeddings import Embedder, count_tokens, get_embedder
from .lexical import ensure_lexical, lexical_dir
from .loaders import SUPPORTED_SUFFIXES, LoadError, content_hash, doc_id_for
from .manifest import SIDECAR_SUFFIX, ManifestError, document_fields, fields_hash
from .models import Chunk, DocumentRecord, FileFailure, IngestReport, LoadedDocument, MetaValue
from .reading import BoundedReader
from .store import Store, StoreError, record_meta

# Names how chunks are cut and embedded: a document made under another scheme is chunked and
# embedded again on the next ingest, though its file is unchanged. Change it with either.
# chunks-7: PDFs read closely by default.
# chunks-8: a closing quote kept with its sentence; with ASSISTANT_PDF_FOOTNOTES ("-notes"),
# footnotes set apart and calls in superscript.
# chunks-9: a justified line's word spacing counted, so PDFs read without false spaces; with
# footnotes, calls glued to a word found whatever follows them.
# chunks-10: words a false space broke are mended; a running line that changes a little on later
# pages (an address cut shorter, a foot that drops a word) is furniture.
# chunks-11: a line drawn a word at a time, each space its own text object, read as one line.
# chunks-12: pieces of a line each placed by a transformation of their own kept apart.
# chunks-13: figures under a header of years read as rows; cells apart by their fonts' widths;
# a title wrapped over short lines is one heading.
# chunks-14: a title's lines are not a narrow column of text, nor take in a line set alone
# elsewhere; a name listed with commas is one title; only whole numbers and years head figures.
# chunks-15: a line that stops on a comma or a word such as "the" carries its sentence on.
# chunks-16: an initialism ("U.S. government") ends no sentence where a lower-case word follows.
# chunks-17: a number opening a line after "to" or "of" carries the sentence on, no list item;
# a chunk a document repeats word for word three times or more is kept once.
# chunks-18: no chunk over its size however long its words; no cut after "Dr."; a line opening
# on an abbreviation after "by" carries its sentence on; Markdown's underlined headings.
# chunks-19: numbered footnotes and headings at a page's edge are text unless their figure
# rises with the page; a table's title row and header of years kept; a row label's number is
# no year's figure; a scan drawn through a form is read by OCR; a note beside a row kept.
# chunks-20: a sentence ends on a footnote's call in plain digits after its stop ("areas.190").
# chunks-21: a sentence too long for a chunk is cut as before, and only a run still over it
# word by word.
# chunks-22: lines at a page's edge judged furniture as in chunks-18 (the change of chunks-19
# that keeps numbered footnotes and headings is on branch wip/furniture-footnotes).
# chunks-23: a word longer than a chunk is never cut within itself.
# chunks-24: evidence sentences: one that opens on its own figure ("16 million letters ..."),
# and a labelled table row of any width; a row of figures with no word is none.
# chunks-25: PDF text no reader sees (off the page, under 1 pt) is not read; a numbered
# paragraph runs over a page and no further.
# chunks-26: a page set in columns is measured by its own lines, so a wrapped line there
# carries its sentence on, as does a name's initial at a line's end; an outline entry that
# is a sentence is text, not a heading; the entries of a contents list are not evidence
# sentences; a web page's elements set never to show are not read.
# chunks-27: PDF type under a point and a half high is not read (was under a point).
# chunks-30: a numbered title ("1.1. Training & Employment") numbers no paragraph; a contents
# entry led by dots to its page is no evidence sentence; a note at a page's foot ("320 BC
# 127.") carries no paragraph's number.
# chunks-31: inside a paragraph, a line as long as the paragraph's own lines is wrapped (an
# indented list item wrapped before a name is one sentence).
# chunks-32: a PDF's title is what its first page sets in display type, where the file's
# metadata names it otherwise ("Committee Report 4.3"); the title is embedded with each chunk.
# A footnote's call in plain digits ends its sentence before the next paragraph's number too
# ("work.67 4.15. We were"): the sentence no longer runs on into that number; and after a
# quote that closes after the stop ("subject ...”61 Professor"), or one space after the stop
# before a word on the same line ("inquiries. 125 However"). An initialism before a word in
# capitals ends no sentence ("U.S. DEPARTMENT OF LABOR").
# chunks-33: a call after a year's stop ends its sentence ("by 2050.255 What do we know"),
# where the sentence had run on into the next.
# chunks-35: paragraph numbers read where a run of them leaps (4.19 to 4.23) and where a number
# stands on a line of its own or inside the block before; a note's bare number ("10 Infected
# Blood Inquiry, ...") numbers no paragraph. The text is as in chunks-33. (chunks-34 names
# another reading, on the branch wip/initialism-before-name.)
SCHEME = "chunks-35"


def scheme(settings: Settings) -> str:
    """The scheme a document read under these settings is chunked by: the settings that change
    its chunks are in it, so that changing one reads the documents again."""
    name = SCHEME + ("-plain" if not settings.pdf_layout else "")
    name += "-notes" if settings.pdf_layout and settings.pdf_footnotes else ""
    default_size = Settings.model_fields["chunk_tokens"].default
    name += f"-size{settings.chunk_tokens}" if settings.chunk_tokens != default_size else ""
    # A page with no text layer is read by OCR, or left out, so whether OCR runs counts too.
    return name + ("" if settings.ocr and ocr.available() else "-no-ocr")


# Documents are embedded together until they reach this many chunks, then committed one by one.
_GROUP_CHUNKS = 256


class RebuildRefused(Exception):
    """A rebuild asked of paths that cannot be read: the index is left as it was."""


@dataclass
class _Pending:
    document: LoadedDocument
    chunks: list[Chunk]
    fields: dict[str, MetaValue]
    size: int
    previous: DocumentRecord | None


@dataclass
class _ToRead:
    path: Path
    fields: dict[str, MetaValue]
    size: int
    previous: DocumentRecord | None


def discover(
    paths: Iterable[str | Path],
) -> tuple[list[Path], list[FileFailure], list[FileFailure]]:
    """Returns the supported files under the paths (sorted, absolute), the paths that fail, and
    the links that were skipped: inside a folder, a link that leads out of it is not followed
    (a file named on its own is read wherever it leads)."""
    files: list[Path] = []
    failures: list[FileFailure] = []
    skipped: list[FileFailure] = []
    for raw in paths:
        if not str(raw).strip():  # Path("") is the current folder: not what was meant
            failures.append(FileFailure(str(raw), "is an empty path: it names no folder or file"))
            continue
        path = Path(raw).expanduser()
        if not path.exists():
            failures.append(FileFailure(str(raw), "does not exist"))
        elif path.is_dir():
            if not os.access(path, os.R_OK | os.X_OK):
                failures.append(FileFailure(str(raw), "is a folder that cannot be read"))
                continue
            ignored = _ignore_patterns(path)
            root = path.resolve()
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                if any(fnmatch.fnmatch(relative.as_posix(), p) for p in ignored):
                    continue
                wanted = found.suffix.lower() in SUPPORTED_SUFFIXES and not found.name.endswith(
                    SIDECAR_SUFFIX
                )
                if found.is_symlink() and (wanted or found.is_dir()):
                    target = found.resolve()
                    if target != root and root not in target.parents:
                        what = "folder" if found.is_dir() else "file"
                        skipped.append(
                            FileFailure(
                                str(_absolute(found)),
                                f"is a link to a {what} outside {path} ({target}): not followed",
                            )
                        )
                        continue
                if not wanted:
                    continue
                if found.is_file() or not found.exists():
                    files.append(_absolute(found))
        else:
            files.append(_absolute(path))
    unique = sorted(dict.fromkeys(files))
    return unique, failures, skipped


IGNORE_FILE = ".ingestignore"


def _ignore_patterns(folder: Path) -> list[str]:
    """Patterns from the folder's .ingestignore: one glob a line, relative to the folder."""
    try:
        lines = (folder / IGNORE_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    patterns = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line + "*" if line.endswith("/") else line)
    return patterns


def _absolute(path: Path) -> Path:
    """An absolute path with `..` folded away; links are kept, so a file is named as given."""
    return Path(os.path.abspath(path))


def _within(source: str, roots: Sequence[Path]) -> bool:
    path = Path(source)
    return any(path == root or root in path.parents for root in roots)


@contextlib.contextmanager
def _ingest_lock(index_dir: Path) -> Iterator[None]:
    """One ingest at a time per index folder; a second one waits its turn."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / ".ingest.lock", "w")  # noqa: SIM115 - closed below
    except OSError as err:
        why = (
            "is a file, not a folder"
            if index_dir.is_file()
            else f"cannot be made or written ({err.strerror or err})"
        )
        raise StoreError(
            f"the index folder {index_dir} {why}: set ASSISTANT_INDEX_DIR to a folder that can "
            "be written"
        ) from err
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Progress:
    """Bars on stderr (files read, pages, chunks embedded, and pages OCR'd when any are), or
    none."""

    def __init__(self, enabled: bool, files: int):
        self.enabled = enabled
        self.ocr_bar = None
        if not enabled:
            return
        from tqdm import tqdm

        self.files = tqdm(total=files, desc="files read", unit="file", position=0, leave=True)
        self.pages = tqdm(desc="pages", unit="page", position=1, leave=True)
        self.chunks = tqdm(total=0, desc="chunks embedded", unit="chunk", position=2, leave=True)

    def read(self, pages: int = 0, chunks: int = 0) -> None:
        if self.enabled:
            self.files.update(1)
            self.pages.update(pages)
            self.chunks.total += chunks
            self.chunks.refresh()

    def embedded(self, n: int) -> None:
        if self.enabled:
            self.chunks.update(n)

    def ocr(self, k: int, of: int) -> None:
        """A fourth bar, for the file whose pages are being OCR'd (seconds each)."""
        if not self.enabled:
            return
        from tqdm import tqdm

        if self.ocr_bar is None or k == 1:
            if self.ocr_bar is not None:
                self.ocr_bar.close()
            self.ocr_bar = tqdm(total=of, desc="pages OCR'd", unit="page", position=3, leave=False)
        self.ocr_bar.n = k - 1
        self.ocr_bar.refresh()

    def close(self) -> None:
        if self.enabled:
            for bar in (self.files, self.pages, self.chunks, self.ocr_bar):
                if bar is not None:
                    bar.close()


class Ingester:
    """Turns files into the index; collaborators default to those the settings pick."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        store: Store | None = None,
        group_chunks: int = _GROUP_CHUNKS,
        on_commit: Callable[[str, str], None] | None = None,
    ):
        self.settings = settings or get_settings()
        self.group_chunks = group_chunks
        self.on_commit = on_commit or (lambda action, source: None)
        """Called with ("added" | "updated" | "removed", source) as each change is committed."""
        self.embedder = embedder or get_embedder(self.settings)
        self._store = store

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings, self.embedder.name)
        return self._store

    def ingest(
        self, paths: Sequence[str | Path], prune: bool = False, rebuild: bool = False
    ) -> IngestReport:
        """Brings the index in line with the files under `paths`; returns what changed."""
        started = time.perf_counter()
        report = IngestReport()
        files, report.failed, report.skipped = discover(paths)
        files = self._not_the_index(files, paths, report)
        if rebuild and report.failed:
            # A mistyped folder would otherwise drop the whole index and put nothing back.
            raise RebuildRefused(
                "--rebuild drops the whole index, so nothing was dropped: "
                + "; ".join(f"{f.source} {f.reason}" for f in report.failed)
            )
        with _ingest_lock(self.settings.index_dir):
            if rebuild:
                Store(self.settings, self.embedder.name, to_drop=True).drop()
                shutil.rmtree(lexical_dir(self.store), ignore_errors=True)
                shutil.rmtree(self.settings.documents_dir, ignore_errors=True)
                self._store = None
            store = self.store
            store.delete_uncommitted()
            progress = _Progress(self.settings.progress, len(files))
            to_read = []
            for path in files:
                item = self._check(path, report)
                if item is None:
                    progress.read()
                else:
                    to_read.append(item)
            pending: list[_Pending] = []
            reader = BoundedReader(self.settings.reading_limits, on_ocr=progress.ocr)
            try:
                for item, (_, result) in zip(
                    to_read, reader.read([t.path for t in to_read]), strict=True
                ):
                    ready = self._prepare(item, result, report)
                    progress.read(
                        pages=len(ready.document.pages) if ready else 0,
                        chunks=len(ready.chunks) if ready else 0,
                    )
                    if ready is None:
                        continue
                    pending.append(ready)
                    if sum(len(p.chunks) for p in pending) >= self.group_chunks:
                        self._write(pending, report, progress)
                        pending = []
                self._write(pending, report, progress)
                if prune:
                    self._prune(files, paths, report)
            finally:
                reader.close()
                progress.close()
            if report.added or report.updated or report.removed or rebuild:
                ensure_lexical(store, rebuild=True)
            else:
                ensure_lexical(store)
        report.seconds = time.perf_counter() - started
        return report

    def _not_the_index(
        self, files: list[Path], paths: Sequence[str | Path], report: IngestReport
    ) -> list[Path]:
        """The files but the index's own copies (of its documents, and the eval and training
        indexes' corpora and copies), which would be indexed a second time when a folder
        holding the index is ingested. One named on its own, or from a folder named inside
        those, is said to be skipped: only a folder holding the whole index passes them over
        without a word."""
        index = self.settings.index_dir
        own = [(index / name).resolve() for name in ("documents", "eval", "train-selector")]
        named = {Path(p).expanduser().resolve() for p in paths}
        asked = {n for n in named if any(f == n or f in n.parents for f in own)}
        kept = []
        for path in files:
            real = path.resolve()
            if not any(folder in real.parents for folder in own):
                kept.append(path)
            elif real in named or any(n == real.parent or n in real.parents for n in asked):
                report.skipped.append(
                    FileFailure(str(path), f"is the index's own copy ({index}): not indexed")
                )
        return kept

    def _check(self, path: Path, report: IngestReport) -> _ToRead | None:
        """What must be read of one file: None when it is unchanged (its fields are brought up
        to date) or cannot be read at all (the failure is recorded)."""
        source = str(path)
        try:
            source.encode("utf-8")
        except UnicodeEncodeError:
            # A name in another encoding (from an old archive) cannot be stored or shown as it is.
            shown = source.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            report.failed.append(FileFailure(shown, "its name is not valid UTF-8; rename it"))
            return None
        try:
            fields = document_fields(path, self.settings.manifest_name)
        except ManifestError as err:
            report.failed.append(FileFailure(source, f"its metadata cannot be read: {err}"))
            return None
        previous = self.store.record_for(source)
        try:
            size = path.stat().st_size
            # Hashing first lets an unchanged file skip parsing altogether.
            if (
                previous is not None
                and previous.scheme == scheme(self.settings)
                and 0 < size <= self.settings.max_file_bytes
            ):
                data = path.read_bytes()
                if doc_id_for(data) == previous.doc_id:
                    keep_copy(self.settings.documents_dir, previous.doc_id, path.suffix, data)
                    self._refresh_fields(previous, fields, report)
                    return None
        except OSError as err:
            report.failed.append(FileFailure(source, f"cannot be read: {err.strerror or err}"))
            return None
        return _ToRead(path, fields, size, previous)

    def _prepare(
        self, item: _ToRead, result: LoadedDocument | LoadError, report: IngestReport
    ) -> _Pending | None:
        """Chunks one document as it was read, and keeps the index's copy of its bytes."""
        source = str(item.path)
        if isinstance(result, LoadError):
            report.failed.append(FileFailure(result.source, result.reason))
            return None
        report.warnings.extend(FileFailure(source, note) for note in result.notes)
        chunks = chunk_document(result, count_tokens, self.settings.chunk_tokens)
        if not chunks:
            report.failed.append(FileFailure(source, "has no text to index"))
            return None
        try:
            data = item.path.read_bytes()
        except OSError as err:
            report.failed.append(FileFailure(source, f"cannot be read: {err.strerror or err}"))
            return None
        if content_hash(data) != result.content_hash:
            report.failed.append(FileFailure(source, "changed while it was being read; try again"))
            return None
        keep_copy(self.settings.documents_dir, result.doc_id, item.path.suffix, data)
        return _Pending(result, chunks, item.fields, item.size, item.previous)

    def _refresh_fields(
        self, previous: DocumentRecord, fields: dict[str, MetaValue], report: IngestReport
    ) -> None:
        """An unchanged file whose manifest entry changed gets its new fields, not re-embedded."""
        if self.store.meta_hash(previous.source) == fields_hash(fields):
            report.unchanged.append(previous.source)
            return
        title = str(fields.get("title") or previous.meta.get("detected_title") or previous.title)
        # What was read from the file itself (its title, author, date, format) stays.
        read = {
            k: v for k, v in previous.meta.items() if k.startswith("detected_") or k == "format"
        }
        record = DocumentRecord(
            **{
                **previous.to_dict(),
                "title": title,
                "meta": {**fields, **read, "detected_title": read.get("detected_title", title)},
            }
        )
        self.store.update_document_meta(record.source, record.doc_id, record_meta(record))
        self.store.commit(record, fields_hash(fields))
        report.updated.append(record.source)
        self.on_commit("updated", record.source)

    def _write(self, pending: list[_Pending], report: IngestReport, progress: _Progress) -> None:
        if not pending:
            return
        chunks = [(p.document.title, c) for p in pending for c in p.chunks]
        texts = [c.embedding_text(title) for title, c in chunks]
        # Each evidence sentence gets its own vector from the same pass over its chunk.
        spans = [evidence_spans(chunk.text) for _, chunk in chunks]
        shifted = [
            [(a + len(text) - len(chunk.text), b + len(text) - len(chunk.text)) for a, b in own]
            for own, text, (_, chunk) in zip(spans, texts, chunks, strict=True)
        ]
        vectors, sentence_vectors = self.embedder.embed_with_spans(texts, shifted)
        sentences = list(zip(spans, sentence_vectors, strict=True))
        offset = 0
        for item in pending:
            n = len(item.chunks)
            self._commit(item, vectors[offset : offset + n], sentences[offset : offset + n], report)
            offset += n
            progress.embedded(n)

    def _commit(self, item: _Pending, vectors, sentences, report: IngestReport) -> None:
        document, previous = item.document, item.previous
        title = str(item.fields.get("title") or document.title)
        record = DocumentRecord(
            doc_id=document.doc_id,
            source=document.source,
            title=title,
            pages=len(document.pages),
            chunks=len(item.chunks),
            ingested_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            size_bytes=item.size,
            content_hash=document.content_hash,
            scheme=scheme(self.settings),
            meta={
                **item.fields,
                "detected_title": document.title,
                "format": document.format,
                **({"detected_author": document.author} if document.author else {}),
                **({"detected_date": document.created} if document.created else {}),
            },
        )
        store = self.store
        with store.writing(document.source):
            store.add_chunks(document.source, item.chunks, vectors, record_meta(record), sentences)
            store.commit(record, fields_hash(item.fields))  # the switch: one write
            if previous is not None:
                # The same bytes chunked anew wrote over the old ids; only the surplus remains.
                same = previous.doc_id == document.doc_id
                store.delete_chunks_of(
                    previous.source, previous.doc_id, from_position=len(item.chunks) if same else 0
                )
                if same:
                    counts = [len(own) for own, _ in sentences]
                    kept = store.sentence_ids(document.source, item.chunks, counts)
                    store.delete_sentences_except(document.source, document.doc_id, kept)
        if previous is not None:
            if previous.doc_id != document.doc_id and not any(
                r.doc_id == previous.doc_id for r in store.documents()
            ):
                # The old version's bytes go with it, as a removed document's do.
                drop_copy(self.settings.documents_dir, previous.doc_id)
            report.updated.append(document.source)
            self.on_commit("updated", document.source)
        else:
            report.added.append(document.source)
            self.on_commit("added", document.source)
        report.pages += record.pages
        report.chunks += record.chunks

    def _prune(self, files: list[Path], paths: Sequence[str | Path], report: IngestReport) -> None:
        """Removes documents whose files are gone from the folders that were ingested."""
        roots = [_absolute(Path(p).expanduser()) for p in paths]
        present = {str(f) for f in files}
        for record in self.store.documents():
            gone = record.source not in present and not Path(record.source).exists()
            if gone and _within(record.source, roots):
                self._remove(record)
                report.removed.append(record.source)
                self.on_commit("removed", record.source)

    def _remove(self, record: DocumentRecord) -> None:
        with self.store.writing(record.source):
            self.store.uncommit(record.source)
            self.store.delete_chunks_of(record.source, record.doc_id)
        if not any(r.doc_id == record.doc_id for r in self.store.documents()):
            drop_copy(self.settings.documents_dir, record.doc_id)
        upload = Path(record.source)
        if upload.parent.resolve() == self.settings.upload_dir.resolve():
            # An upload is the app's own copy of what a user gave it: it goes with its document.
            # Uploads are saved flat in their folder; a link there loses the link, not its file.
            upload.unlink(missing_ok=True)

    def remove(self, what: str) -> DocumentRecord:
        """Drops one document, named by its doc id (or a prefix), source path or title."""
        with _ingest_lock(self.settings.index_dir):
            # Found under the lock: an ingest that ran meanwhile may have committed a new
            # version of it, whose rows the old record does not name.
            record = find_document(self.store.documents(), what)
            self._remove(record)
            ensure_lexical(self.store, rebuild=True)
        return record


def copy_path(folder: Path, doc_id: str, suffix: str) -> Path:
    """Where the index keeps its own copy of a document's bytes."""
    return folder / f"{doc_id}{suffix.lower()}"


def keep_copy(folder: Path, doc_id: str, suffix: str, data: bytes) -> None:
    """Keeps the bytes that were indexed, under the document's id: the app serves these and
    nothing else, so a link or a changed file on disk cannot reach a reader."""
    target = copy_path(folder, doc_id, suffix)
    if target.is_file() and target.stat().st_size == len(data):
        return
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(data)
    partial.replace(target)


def drop_copy(folder: Path, doc_id: str) -> None:
    for found in folder.glob(f"{doc_id}.*"):
        found.unlink(missing_ok=True)


def find_document(records: Sequence[DocumentRecord], what: str) -> DocumentRecord:
    """Returns the one record that `what` names; raises LookupError naming the problem."""
    wanted = what.strip()
    absolute = str(_absolute(Path(wanted).expanduser()))
    matches = [
        r
        for r in records
        if r.doc_id.startswith(wanted.lower())
        and len(wanted) >= 6
        or r.source in (wanted, absolute)
        or r.title.casefold() == wanted.casefold()
    ]
    if not matches:
        raise LookupError(f"no indexed document matches {what!r}; `assistant status` lists them")
    if len(matches) > 1:
        names = ", ".join(f"{r.doc_id} ({r.source})" for r in matches)
        # The same file indexed at two paths has one id: only its path tells them apart.
        by = "id" if len({r.doc_id for r in matches}) == len(matches) else "its file's path"
        raise LookupError(f"{what!r} matches {len(matches)} documents: {names}; name one by {by}")
    return matches[0]


def open_store(settings: Settings | None = None, create: bool = False) -> Store:
    """Opens the index for reading; raises StoreError saying what to do when there is none."""
    settings = settings or get_settings()
    from .embeddings import embedder_name

    if not settings.chroma_url and not (settings.index_dir / "chroma").exists() and not create:
        raise StoreError(
            f"there is no index at {settings.index_dir}: run `assistant ingest corpus/` first"
        )
    return Store(settings, embedder_name(settings.embedding_backend), create=create)
