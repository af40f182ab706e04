"""Settings read once from the environment (prefix ASSISTANT_) and an optional .env file."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbeddingBackend = Literal["onnx-int8", "onnx", "sentence-transformers"]
COLLECTION_PREFIX = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,501}")
"""A prefix Chroma takes for a collection's name (at most 512 characters of these, starting
and ending with a letter or digit, no "..") once "-sentences" or another suffix follows it."""

DEFAULT_LESSONS = Path(__file__).resolve().parents[1] / "evals" / "lessons.yaml"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evidence-assistant"


class Settings(BaseSettings):
    """Everything the assistant can be configured with; see the README's table."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_file=".env", extra="ignore", frozen=True
    )

    index_dir: Path = Field(Path("index"), description="Where the index lives on disk.")
    chroma_url: str | None = Field(
        None, description="http://HOST:PORT of a Chroma server; unset means embedded on disk."
    )
    collection: str = Field("evidence", description="Name prefix of the Chroma collections.")
    embedding_backend: EmbeddingBackend = Field(
        "onnx-int8", description="How the embedding model runs."
    )
    model_cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where the ONNX export of the embedding model is kept.",
    )
    embed_batch_size: int = Field(8, ge=1, le=1024, description="Texts per model call.")
    chunk_tokens: int = Field(
        200, ge=32, le=250, description="Target chunk size in model tokens (model max is 256)."
    )
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused.")
    max_pages: int = Field(5000, ge=1, description="Documents with more pages are refused.")
    max_file_seconds: float = Field(
        120.0, gt=0, description="Longest one file may take to read before it is stopped."
    )
    max_file_memory_mb: int = Field(
        2048, ge=256, description="Most memory the process reading one file may use."
    )
    pdf_layout: bool = Field(
        True,
        description="Read PDFs closely: running heads and footers dropped, prose columns in "
        "order and tables with their headers; false reads them as pypdf draws them.",
    )
    pdf_footnotes: bool = Field(
        False,
        description="With pdf_layout, set a PDF's footnotes apart from the text they interrupt "
        "and put each after the paragraph that calls it, cited by its number; calls written "
        "in superscript. Off by default until the answer selector is retrained on such text.",
    )
    ocr: bool = Field(
        True, description="Read PDF pages that have no text layer with Tesseract, if installed."
    )
    ocr_page_seconds: float = Field(
        60.0, gt=0, description="Longest the OCR of one page may take before it is left out."
    )
    fetch_timeout_s: float = Field(60.0, gt=0, description="Longest wait for one download.")
    manifest_name: str = Field("manifest.yaml", description="Manifest file looked for in folders.")
    progress: bool = Field(True, description="Show progress bars on stderr.")

    # The browser app
    host: str = Field("127.0.0.1", description="Where the app listens.")
    port: int = Field(7860, ge=1, le=65535, description="The app's port.")
    auth: str | None = Field(
        None, description="user:password, or the path of a file of such lines; unset: no login."
    )
    max_upload_mb: float = Field(25.0, gt=0, description="Largest file a user may upload.")
    allowed_hosts: str | None = Field(
        None,
        description="More names the app may be reached by, comma-separated (*.example.org for "
        "any name under it): a request naming another host is refused (DNS rebinding). The "
        "host it listens on and loopback are always allowed.",
    )

    # Retrieval and answers
    top_k: int = Field(6, ge=1, le=50, description="Passages a chat model is given.")
    evidence_passages: int = Field(
        20, ge=1, le=100, description="Passages whose sentences the answer selector weighs."
    )
    candidates: int = Field(60, ge=5, le=500, description="Candidates from each retriever.")
    dense_weight: float = Field(
        0.7, ge=0, le=1, description="Dense share of the hybrid score; BM25 has the rest."
    )
    max_per_document: int = Field(3, ge=1, description="Passages at most from one document.")
    answer_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Refuse when P(the evidence answers) is below this; unset: the threshold "
        "calibrated with the answer selector.",
    )
    llm: str | None = Field(
        None, description="provider:model for init_chat_model, or gguf:PATH; unset: extractive."
    )
    llm_timeout_s: float = Field(60.0, gt=0, description="Longest wait for the chat model.")
    llm_stream: bool = Field(True, description="Stream the chat model's tokens as they come.")
    llm_max_tokens: int = Field(400, ge=16, description="Longest answer the chat model writes.")
    careful: str | None = Field(
        None,
        description="Careful mode: a chat model (as ASSISTANT_LLM; gguf:qwen2.5-coder-1.5b "
        "after make careful) that judges the borderline answers; unset: the selector alone.",
    )
    careful_calibration: Path | None = Field(
        None,
        description="Careful mode's band and weights (assistant eval --careful-sweep writes "
        "them); unset: those fitted for gguf:qwen2.5-coder-1.5b.",
    )
    support_threshold: float = Field(
        0.6, ge=0, le=1, description="Cosine a cited sentence needs to its passage."
    )
    # Briefings and exports
    author: str = Field(
        "Evidence assistant", description="The author named in exported Word documents."
    )
    lessons_file: Path = Field(
        DEFAULT_LESSONS,
        description="The curated lessons a briefing ties its evidence to.",
    )

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"ASSISTANT_CHROMA_URL must start with http:// or https://: {value!r}")
        url = urlparse(value)
        try:
            url.port  # noqa: B018 - read for its check: a port that is no number raises
        except ValueError:
            raise ValueError(
                f"ASSISTANT_CHROMA_URL: {value!r} has no valid port (http://HOST:PORT)"
            ) from None
        if not url.hostname:
            raise ValueError(f"ASSISTANT_CHROMA_URL: {value!r} names no host (http://HOST:PORT)")
        return value.rstrip("/")

    @field_validator("collection")
    @classmethod
    def _check_collection(cls, value: str) -> str:
        # Chroma's rule for a collection's name, which is this prefix with "-chunks",
        # "-ledger", "-sentences" or "-pending" after it.
        if not COLLECTION_PREFIX.fullmatch(value):
            raise ValueError(
                f"ASSISTANT_COLLECTION: {value[:60]!r} cannot name Chroma collections: use 1 to "
                "502 letters, digits, '.', '_' or '-', starting with a letter or digit, no '..'"
            )
        return value

    @field_validator("index_dir", "model_cache_dir", mode="before")
    @classmethod
    def _check_folder(cls, value, info):
        # An empty value would be the current folder: an index, or 100 MB of model, written
        # wherever the command happens to run.
        if isinstance(value, str) and not value.strip():
            name = f"ASSISTANT_{info.field_name.upper()}"
            raise ValueError(f"{name} is empty; name a folder, or unset it for the default")
        return value

    @field_validator("index_dir", "model_cache_dir", "lessons_file", "careful_calibration")
    @classmethod
    def _home(cls, value: Path | None) -> Path | None:
        # "~/index" in a .env file, where no shell expands it, is the home folder's, not a
        # folder named "~" in the working one.
        return value.expanduser() if value is not None else None

    @field_validator("lessons_file")
    @classmethod
    def _check_lessons(cls, value: Path) -> Path:
        # Checked only when it is set: the default is the project's own file, and a copy of
        # the assistant without it drafts with no lessons.
        import yaml

        if value == DEFAULT_LESSONS:
            return value
        if not value.is_file():
            raise ValueError(f"ASSISTANT_LESSONS_FILE: {str(value)!r} is not a file")
        try:
            data = yaml.safe_load(value.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ValueError(
                f"ASSISTANT_LESSONS_FILE: {str(value)!r} cannot be read as YAML "
                f"({type(err).__name__})"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("lessons", []), list):
            raise ValueError(
                f"ASSISTANT_LESSONS_FILE: {str(value)!r} is not a lessons file (a mapping "
                "with a 'lessons' list, as evals/lessons.yaml)"
            )
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: str | None) -> str | None:
        for name in (value or "").split(","):
            name = name.strip()
            if "*" in name.removeprefix("*.") or name in ("*", "*."):
                raise ValueError(
                    f"ASSISTANT_ALLOWED_HOSTS: {name!r} is not a host name; a wildcard is "
                    "allowed only as *.example.org"
                )
            if "/" in name or " " in name:
                raise ValueError(f"ASSISTANT_ALLOWED_HOSTS: {name!r} is not a host name")
        return value

    @property
    def allowed_host_names(self) -> list[str]:
        """ASSISTANT_ALLOWED_HOSTS as a list of names."""
        return [n.strip() for n in (self.allowed_hosts or "").split(",") if n.strip()]

    @property
    def upload_dir(self) -> Path:
        return self.index_dir / "uploads"

    @property
    def documents_dir(self) -> Path:
        """The index's own copies of the indexed files: the only files the app serves."""
        return self.index_dir / "documents"

    @property
    def reading_limits(self):
        from .reading import Limits

        return Limits(
            self.max_file_bytes,
            self.max_pages,
            self.max_file_seconds,
            self.max_file_memory_mb,
            self.ocr,
            self.ocr_page_seconds,
            self.pdf_layout,
            self.pdf_layout and self.pdf_footnotes,
        )

    @property
    def feedback_file(self) -> Path:
        return self.index_dir / "feedback.jsonl"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


@cache
def get_settings() -> Settings:
    """Returns the process-wide settings, read once."""
    return Settings()
