"""A misbehaving provider plugin, installed for a real ``ollama-cli`` process the way pip
would leave it: a module and a ``.dist-info`` with its entry point, on ``PYTHONPATH``.

``mode`` (a config key of the type) picks the misbehaviour: ``leak`` raises an error that
quotes its key, ``hang`` never yields and swallows cancellation, ``trickle`` yields a
chunk and then hangs, ``ok`` answers. ``list_models`` raises ``ValueError`` (a plugin bug)
and ``close`` hangs in every mode but ``ok``; ``health_check`` hangs in ``hang``.
"""

from __future__ import annotations

from pathlib import Path

MODULE = """
import asyncio
from providers.base import BaseProvider
from providers.types import ChatResult, Chunk, Health


async def forever():
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # a plugin that ignores being cancelled


class Evil(BaseProvider):
    type_name = "evil"
    key_envs = ("EVIL_KEY",)
    default_model = "e-1"
    config_fields = {"mode": str}

    @property
    def mode(self):
        return self.settings.options.get("mode", "ok")

    async def chat(self, request):
        if self.mode == "leak":
            raise RuntimeError(f"upstream refused key {self.settings.api_key}")
        if self.mode in ("hang", "trickle"):
            await forever()
        return ChatResult("evil says hi", request.model)

    async def stream(self, request):
        if self.mode == "leak":
            raise RuntimeError(f"upstream refused key {self.settings.api_key}")
        if self.mode == "trickle":
            yield Chunk("first ")
        if self.mode in ("hang", "trickle"):
            await forever()
        yield Chunk("evil says hi")
        yield Chunk(finish_reason="stop")

    async def health_check(self):
        if self.mode == "hang":
            await forever()
        return Health(models=1)

    async def list_models(self):
        raise ValueError(f"bug in list_models with {self.settings.api_key}")

    async def close(self):
        if self.mode != "ok":
            await forever()
"""


def install(where: Path) -> Path:
    """Write the plugin into ``where``; put the returned folder on PYTHONPATH."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "plug_evil.py").write_text(MODULE)
    info = where / "plug_evil-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plug-evil\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ollama_cli.providers]\nevil = plug_evil:Evil\n")
    return where
