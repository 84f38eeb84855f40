"""What every command shares: the global options, paths, config, router, history, stderr.

Everything is built lazily on first use so a command pays only for what it touches
(``config path`` never imports httpx; ``--help`` never gets here at all).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Coroutine
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ollama_cli.options import GlobalOptions
from ollama_cli.paths import AppPaths, app_paths
from ollama_cli.redact import Redactor, config_secrets, environ_secrets

if TYPE_CHECKING:
    from ollama_cli.config import Config
    from ollama_cli.history import HistoryStore
    from ollama_cli.options import TurnOptions
    from ollama_cli.render.terminal import TerminalWriter
    from ollama_cli.router import ProviderRouter
    from ollama_cli.settings import Role
    from ollama_cli.usage.budget import Budget

EXIT_OK = 0
EXIT_NO_ANSWER = 1
EXIT_USAGE = 2
EXIT_SOFTWARE = 70
EXIT_HANGUP = 129
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class UsageError(Exception):
    """A mistake on the command line or in the config: exit 2 with this one line."""


class App:
    """The per-invocation context handed to every command's ``run``.

    ``options`` are the global flags, typed; ``args`` is the command's own namespace,
    read only by that command's module (a turn's flags become ``TurnOptions`` there).
    """

    def __init__(
        self,
        options: GlobalOptions | None = None,
        args: argparse.Namespace | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.options = options or GlobalOptions()
        self.args = args or argparse.Namespace()
        self.environ = dict(os.environ) if environ is None else environ
        self.paths: AppPaths = app_paths(self.environ)
        #: Knows every secret once the config is loaded; see ``ollama_cli.redact``.
        self.redactor = Redactor(environ_secrets(self.environ))

    def warn(self, message: str) -> None:
        """A one-line notice on stderr (dimmed on a terminal), never on stdout.

        While an answer is on screen its renderer takes the router's notices instead (the
        ``notify`` passed with the request), so they land above the answer.
        """
        self.stderr.line(message, dim=True)

    def error(self, message: str) -> None:
        self.stderr.line(f"ollama-cli: {message}")

    @cached_property
    def stderr(self) -> TerminalWriter:
        """Notices and errors: server text in them is shown, never run, on a terminal."""
        from ollama_cli.render.terminal import TerminalWriter

        return TerminalWriter.of(sys.stderr, self.environ)

    @cached_property
    def stdout(self) -> TerminalWriter:
        """Lines of command output (history, model lists): made visible on a terminal."""
        from ollama_cli.render.terminal import TerminalWriter

        return TerminalWriter.of(sys.stdout, self.environ)

    def redact(self, text: str) -> str:
        """``text`` without any secret this run knows (for text leaving by another way
        than stderr, which ``cli.main`` wraps: ``--json``, files)."""
        return self.redactor(text)

    @cached_property
    def config(self) -> Config:
        from ollama_cli.config import ConfigError, find_config, load_config

        path = find_config(self.paths, self.options.config, self.environ)
        try:
            config = load_config(path, self.environ)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        self.redactor.add(*config_secrets(config, self.environ))
        for warning in (*config.warnings, *pasted_key_warnings(config, self.environ)):
            self.warn(f"warning: {warning}")
        return config

    @cached_property
    def router(self) -> ProviderRouter:
        from ollama_cli.catalog import CatalogStore
        from ollama_cli.router import ProviderRouter
        from ollama_cli.router.cooldown import CooldownStore

        return ProviderRouter(
            self.config,
            cooldowns=CooldownStore(self.paths.cooldowns, notify=self.warn),
            notify=self.warn,
            environ=self.environ,
            catalogs=CatalogStore(self.paths.catalogs),
            budget=self.budget(),
        )

    def budget(self) -> Budget | None:
        """The spending limits, counting what history says was spent (None when unset)."""
        settings = self.config.router
        if settings.daily_budget is None and settings.monthly_budget is None:
            return None
        from ollama_cli.usage.budget import Budget
        from ollama_cli.usage.prices import PriceTable
        from ollama_cli.usage.report import spend_reader

        prices = PriceTable(self.config.prices)
        return Budget(settings, prices, spend_reader(self.history, prices, self.config.providers))

    @cached_property
    def history(self) -> HistoryStore | None:
        """The history store, or None when history is off in the config."""
        if not self.config.history_enabled:
            return None
        from ollama_cli.history import HistoryStore

        return HistoryStore(self.paths.history_db, redact=self.redact)

    def role(self, name: str) -> Role:
        """The role ``name`` (``-r NAME``); an unknown one is a usage error naming the known."""
        role = self.find_role(name)
        if role is None:
            from ollama_cli.roles import unknown_role

            raise UsageError(unknown_role(self.config, self.paths.config_dir, name))
        return role

    def find_role(self, name: str) -> Role | None:
        """The role ``name`` from the config or its file; a broken file is a usage error."""
        from ollama_cli.roles import find_role
        from ollama_cli.settings import ConfigError

        try:
            return find_role(self.config, self.paths.config_dir, name)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None

    def turn(self) -> TurnOptions:
        """The turn's flags (``chat``, ``complete``) with ``-m``'s alias or ``provider/model``
        expanded into the provider and model it names (``ollama_cli.targets``)."""
        from dataclasses import replace

        from ollama_cli.options import TurnOptions
        from ollama_cli.targets import split_target

        turn = TurnOptions.build(self.options, self.args)
        provider, model = split_target(self.config, turn.provider, turn.model)
        return replace(turn, provider=provider, model=model)

    def check_provider_flag(self) -> None:
        """Fail early (exit 2) on ``-p`` naming an unknown provider or an empty ``-m``."""
        provider = self.options.provider
        if provider is not None and provider not in self.config.providers:
            from ollama_cli.settings import unknown_provider

            raise UsageError(unknown_provider(provider, self.config.providers))
        model = self.options.model
        if model is not None and not model.strip():
            raise UsageError("-m/--model needs a model name")


def pasted_key_warnings(config: Config, environ: dict[str, str]) -> list[str]:
    """One notice per provider whose key has surrounding whitespace (it is stripped)."""
    found = []
    for name, provider in config.providers.items():
        key = provider.resolve_key(environ)
        if key and key != key.strip():
            where = provider.key_env or "its key"
            found.append(f"{name}: {where} has spaces or a newline around it; they were stripped")
    return found


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine; Ctrl-C → 130, SIGTERM → 143 and SIGHUP (the terminal
    closed) → 129, each after cleanup ran (a partial answer is stored)."""
    import asyncio
    import contextlib
    import signal

    terminated: int | None = None
    codes = {signal.SIGTERM: EXIT_TERMINATED}
    if hasattr(signal, "SIGHUP"):
        codes[signal.SIGHUP] = EXIT_HANGUP

    async def main() -> int:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def on_signal(code: int) -> None:
            nonlocal terminated
            terminated = code
            if task is not None:
                task.cancel()

        for signum, code in codes.items():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, on_signal, code)
        try:
            return await coro
        finally:
            from ollama_cli.shutdown import settle_leftovers

            await settle_leftovers()  # a hung plugin never holds the exit

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except asyncio.CancelledError:
        return terminated if terminated is not None else EXIT_INTERRUPTED
