"""``CommandProvider``: any local program that reads a prompt on stdin and writes an answer
on stdout becomes an ollama-cli provider (``llm -m gpt-4o``, a shell script, ``cat``).

The answer streams as the program writes it. Every failure is a taxonomy error naming
the program, so the router falls over to the next provider exactly as it does for a
dead server: missing executable, non-zero exit (with stderr's first line), silence
longer than ``timeout``, output that is not UTF-8.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import AsyncGenerator, Mapping
from typing import ClassVar

from ollama_cli_command_provider.protocol import (
    INPUT_FORMATS,
    OutputDecoder,
    command_argv,
    command_env,
    exit_error,
    render_input,
)
from providers.base import BaseProvider
from providers.errors import (
    ModelNotFoundError,
    ProviderUnavailableError,
    ProviderUnreachableError,
)
from providers.types import ChatRequest, ChatResult, Chunk, Health, ModelInfo

READ_SIZE = 4096
#: stderr kept for the error message; the rest is read and dropped so the pipe never fills.
MAX_STDERR = 64 * 1024


class CommandProvider(BaseProvider):
    """Pipes the conversation to ``command`` and streams its stdout as the answer."""

    type_name: ClassVar[str] = "command"
    default_model: ClassVar[str] = "default"
    supports_streaming: ClassVar[bool] = True
    config_fields: ClassVar[Mapping[str, type]] = {"command": str, "input_format": str}

    async def chat(self, request: ChatRequest) -> ChatResult:
        parts: list[str] = []
        finish = "stop"
        async for chunk in self.stream(request):
            parts.append(chunk.text)
            finish = chunk.finish_reason or finish
        return ChatResult(text="".join(parts), model=request.model, finish_reason=finish)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[Chunk, None]:
        argv = self._argv(request.model)
        program = argv[0]
        data = render_input(request, self._input_format())
        proc = await self._spawn(argv, command_env(request, os.environ))
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        feeder = asyncio.ensure_future(_feed(proc.stdin, data))
        errors = asyncio.ensure_future(_collect(proc.stderr))
        decoder = OutputDecoder(self.name, program)
        produced = False
        try:
            while block := await self._read(proc.stdout, program):
                if text := decoder.feed(block):
                    produced = True
                    yield Chunk(text=text)
            if text := decoder.feed(b"", final=True):
                produced = True
                yield Chunk(text=text)
            returncode = await proc.wait()
            if returncode != 0:
                raise exit_error(self.name, program, returncode, await errors)
            if not produced:
                raise ProviderUnavailableError(
                    f"{self.name}: {program} exited without writing an answer", provider=self.name
                )
        finally:
            await _reap(proc, feeder, errors)
        # A command reports no token counts, so the final chunk carries no usage.
        yield Chunk(finish_reason="stop")

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id=self._argv(self.settings.default_model)[0])]

    async def health_check(self) -> Health:
        program = self._argv(self.settings.default_model)[0]
        path = shutil.which(program)
        if path is None:
            raise ProviderUnreachableError(
                f"{self.name}: command not found: {program} (is it installed and on PATH?)",
                provider=self.name,
            )
        return Health(models=1, detail=path)

    def _argv(self, model: str) -> list[str]:
        command = self.settings.options.get("command")
        argv = command_argv(self.name, command, model)
        fixed = "{model}" not in str(command)
        if fixed and model not in (self.settings.default_model, argv[0]):
            raise ModelNotFoundError(
                f"{self.name}: cannot choose model {model!r}: the command has no {{model}} "
                f"placeholder (it always runs {argv[0]})",
                provider=self.name,
            )
        return argv

    def _input_format(self) -> str:
        value = str(self.settings.options.get("input_format") or "text")
        if value not in INPUT_FORMATS:
            raise ProviderUnreachableError(
                f"{self.name}: input_format must be one of {', '.join(INPUT_FORMATS)}, "
                f"not {value!r}",
                provider=self.name,
            )
        return value

    async def _spawn(self, argv: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
        try:
            return await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                # Its own process group, so a timeout or Ctrl-C also stops its children.
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise ProviderUnreachableError(
                f"{self.name}: command not found: {argv[0]} (is it installed and on PATH?)",
                provider=self.name,
            ) from exc
        except OSError as exc:
            raise ProviderUnreachableError(
                f"{self.name}: cannot run {argv[0]} ({exc.strerror or exc})", provider=self.name
            ) from exc

    async def _read(self, stdout: asyncio.StreamReader, program: str) -> bytes:
        """The next block of output; silence longer than ``timeout`` is a failure."""
        try:
            return await asyncio.wait_for(stdout.read(READ_SIZE), self.settings.timeout)
        except TimeoutError:
            raise ProviderUnavailableError(
                f"{self.name}: {program} wrote nothing for {self.settings.timeout:g} s (timed out)",
                provider=self.name,
            ) from None


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    """Write the input and close stdin; a command that does not read it is fine."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(data)
        await stdin.drain()
        stdin.close()
        await stdin.wait_closed()


async def _collect(stderr: asyncio.StreamReader) -> bytes:
    kept = b""
    while block := await stderr.read(READ_SIZE):
        if len(kept) < MAX_STDERR:
            kept += block
    return kept


async def _reap(
    proc: asyncio.subprocess.Process, feeder: asyncio.Future[None], errors: asyncio.Future[bytes]
) -> None:
    """Stop the process group if it still runs, and wait until its pipes are closed.

    Runs on every exit path (success, error, timeout, a consumer that stopped early),
    so no process, pipe or task outlives the stream.
    """
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.stdout is not None
    # wait() returns once the pipes are closed too, so unread output must be drained.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.gather(proc.stdout.read(), proc.wait()), 5.0)
    for task in (feeder, errors):
        if not task.done():
            task.cancel()
        with contextlib.suppress(BaseException):
            await task
