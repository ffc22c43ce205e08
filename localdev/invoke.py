"""Handlers loaded from their files and invoked like Lambda does: one execution environment per function.

Every function's handler module is called ``app.py``, so each is loaded from its path under a name of its
own. Each function runs on a single worker thread of its own, one invocation at a time, as one warm Lambda
container would: module-level state in a handler (a Powertools resolver, a cached connection) is never
shared between threads, and the database connection that thread opens is reused by later invocations.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

from .apigw import LocalLambdaContext
from .template_routes import FunctionSpec

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]


class HandlerLoadError(Exception):
    pass


class HandlerLoader:
    """Imports each handler file once per process and returns its handler function."""

    _lock = threading.Lock()

    def load(self, spec: FunctionSpec) -> Handler:
        module = self._module(spec)
        handler = getattr(module, spec.handler_name, None)
        if not callable(handler):
            raise HandlerLoadError(f"{spec.logical_id}: {spec.module_path} has no function {spec.handler_name}")
        return handler

    @classmethod
    def module_name(cls, spec: FunctionSpec) -> str:
        digest = hashlib.sha256(str(spec.module_path).encode()).hexdigest()[:12]
        return f"_localdev_{spec.logical_id}_{digest}"

    def _module(self, spec: FunctionSpec) -> ModuleType:
        name = self.module_name(spec)
        with self._lock:
            module = sys.modules.get(name)
            if module is not None:
                return module
            if not spec.module_path.is_file():
                raise HandlerLoadError(f"{spec.logical_id}: handler file not found: {spec.module_path}")
            try:
                return exec_file(spec.module_path, name)
            except HandlerLoadError as exc:
                raise HandlerLoadError(f"{spec.logical_id}: {exc}") from exc


def exec_file(path: Path, name: str) -> ModuleType:
    """Run the Python file ``path`` as a new module called ``name`` (its module-level initialisation runs now).

    The module is registered under ``name`` before it runs, so it can be found by name while it initialises
    (pydantic, dataclasses), and removed again if initialisation fails, so that a later load retries it.
    """
    import_spec = importlib.util.spec_from_file_location(name, path)
    if import_spec is None or import_spec.loader is None:
        raise HandlerLoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(import_spec)
    sys.modules[name] = module
    try:
        import_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


class FunctionInvoker:
    """Invokes the template's functions in-process, each on its own single worker thread."""

    def __init__(self, functions: Mapping[str, FunctionSpec], loader: HandlerLoader | None = None) -> None:
        self._functions = dict(functions)
        self._loader = loader or HandlerLoader()
        self._workers: dict[str, ThreadPoolExecutor] = {}
        self._workers_lock = threading.Lock()
        self._closed = False

    def new_context(self, function_id: str) -> LocalLambdaContext:
        spec = self._spec(function_id)
        return LocalLambdaContext(
            spec.logical_id, timeout_seconds=spec.timeout_seconds, memory_limit_in_mb=spec.memory_mb
        )

    def preload(self, function_id: str) -> None:
        """Run the handler module's initialisation now (a cold start ahead of the first request)."""
        spec = self._spec(function_id)
        self._worker(function_id).submit(self._loader.load, spec).result()

    def invoke(self, function_id: str, event: Any, context: LocalLambdaContext | None = None) -> Any:
        """The handler's return value; whatever it raises is raised here."""
        spec = self._spec(function_id)

        def run() -> Any:
            handler = self._loader.load(spec)
            # The timeout counts from the handler's start, after any initialisation, as in Lambda.
            return handler(event, context or self.new_context(function_id))

        return self._worker(function_id).submit(run).result()

    def close(self) -> None:
        with self._workers_lock:
            self._closed = True
            workers, self._workers = self._workers, {}
        for worker in workers.values():
            worker.shutdown(wait=False, cancel_futures=True)

    def _spec(self, function_id: str) -> FunctionSpec:
        try:
            return self._functions[function_id]
        except KeyError:
            raise HandlerLoadError(f"no function {function_id} in the template") from None

    def _worker(self, function_id: str) -> ThreadPoolExecutor:
        with self._workers_lock:
            if self._closed:
                raise RuntimeError("the invoker is closed")
            worker = self._workers.get(function_id)
            if worker is None:
                worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"fn-{function_id}")
                self._workers[function_id] = worker
            return worker
