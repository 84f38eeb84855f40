"""Package-level promises: the public surface, the layering, and the built-in catalog."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import ollama_cli
import providers
from providers.builtins import BUILTIN_TYPES
from providers.registry import ProviderRegistry
from providers.spec import ProviderSpec

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", [providers, ollama_cli])
def test_all_names_exist_and_are_sorted(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    for name in names:
        assert getattr(module, name) is not None
    assert list(names) == sorted(names, key=lambda n: (not n.isupper(), n))  # constants first


def test_providers_never_imports_ollama_cli() -> None:
    for path in (ROOT / "providers").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "ollama_cli" for n in names), path.name


@pytest.mark.parametrize("type_name", sorted(BUILTIN_TYPES))
def test_each_builtin_spec_matches_its_class(type_name: str) -> None:
    spec = BUILTIN_TYPES[type_name]
    cls = ProviderRegistry().load_class(type_name)
    assert ProviderSpec.from_class(cls, target=spec.target, origin=spec.origin) == spec


def test_router_is_importable_lazily_from_the_package() -> None:
    assert ollama_cli.ProviderRouter is importlib.import_module("ollama_cli.router").ProviderRouter
