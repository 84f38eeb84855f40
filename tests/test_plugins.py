"""External providers: the registry's rules for entry points, and the example plugin
packages installed with pip into a real virtual environment and driven through the CLI.

The venv reaches the project's own dependencies through a ``.pth`` file (offline, and no
second copy of httpx). The examples are packed into wheels here because this machine has
no ``wheel`` package for setuptools' backend and no index to fetch one from; pip then
installs those wheels exactly as it installs any other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ollama_cli.config import ConfigError, load_config
from providers.builtins import BUILTIN_TYPES
from providers.registry import ProviderLoadError, ProviderRegistry
from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COMMAND_PKG = EXAMPLES / "ollama-cli-command-provider"
BROKEN_PKG = EXAMPLES / "broken-provider"
GROUP = "ollama_cli.providers"

GOOD_MODULE = """
from providers.base import BaseProvider
from providers.spec import ProviderSpec
from providers.types import ChatResult, Chunk, Health

class Good(BaseProvider):
    type_name = "good"
    default_model = "g-1"
    config_fields = {"flavour": str}
    async def chat(self, request): return ChatResult("ok", request.model)
    async def stream(self, request):
        yield Chunk("ok")
        yield Chunk(finish_reason="stop")
    async def health_check(self): return Health(models=1)
    async def list_models(self): return ["g-1"]

class NotAProvider:
    pass

class Half(BaseProvider):
    async def chat(self, request): return ChatResult("half", request.model)

def spec(): return ProviderSpec("good-by-spec", "plug_good:Good", default_model="g-1")
def spec_named_like_a_builtin(): return ProviderSpec("anthropic", "plug_good:Good")
def spec_that_fails(): raise RuntimeError("no config dir")
def spec_that_is_not_a_spec(): return {"type": "x"}
"""
# Setting type_name makes BaseProvider refuse the class the moment its module is imported.
STRICT_MODULE = """
from providers.base import BaseProvider
class Strict(BaseProvider):
    type_name = "strict"
    async def chat(self, request): ...
    async def health_check(self): ...
"""


def entry_point(name: str, value: str) -> Any:
    from importlib.metadata import EntryPoint

    return EntryPoint(name=name, value=value, group=GROUP)


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Plugin modules on sys.path, forgotten by sys.modules afterwards."""
    modules = {"plug_good": GOOD_MODULE, "plug_strict": STRICT_MODULE}
    modules["plug_raises"] = "raise ImportError('needs libfoo')\n"
    for module, source in modules.items():
        (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for module in modules:
        sys.modules.pop(module, None)


def registry(*eps: Any) -> ProviderRegistry:
    return ProviderRegistry(entry_points=lambda: list(eps))


def refusals(reg: ProviderRegistry) -> list[str]:
    reg.discover()
    return [r.message for r in reg.refused]


@pytest.mark.usefixtures("plugins")
def test_a_class_entry_point_becomes_a_type_named_after_the_entry_point() -> None:
    reg = registry(entry_point("good", "plug_good:Good"))
    spec = reg.spec("good")
    assert spec is not None and spec.default_model == "g-1"
    assert spec.origin == "plug_good:Good (entry point 'good')"
    assert dict(spec.config_fields) == {"flavour": "str"}
    assert reg.load_class("good").__name__ == "Good"
    assert reg.refused == []


@pytest.mark.usefixtures("plugins")
def test_a_spec_function_entry_point_is_registered_by_its_spec() -> None:
    reg = registry(entry_point("whatever", "plug_good:spec"))
    assert [s.type_name for s in reg.all_specs()][-1] == "good-by-spec"
    assert reg.load_class("good-by-spec").__name__ == "Good"


@pytest.mark.usefixtures("plugins")
@pytest.mark.parametrize(
    ("ep", "message"),
    [
        (
            entry_point("anthropic", "plug_good:Good"),
            "plug_good:Good (entry point 'anthropic'): provider type 'anthropic' collides with "
            "an existing type of that name; refused",
        ),
        (
            entry_point("x", "plug_good:spec_named_like_a_builtin"),
            "plug_good:spec_named_like_a_builtin (entry point 'x'): provider type 'anthropic' "
            "collides with an existing type of that name; refused",
        ),
        (
            entry_point("x", "plug_raises:Provider"),
            "plug_raises:Provider (entry point 'x'): cannot import plug_raises:Provider "
            "(ImportError: needs libfoo)",
        ),
        (
            entry_point("x", "plug_good:Missing"),
            "plug_good:Missing (entry point 'x'): cannot import plug_good:Missing "
            "(AttributeError: module 'plug_good' has no attribute 'Missing')",
        ),
        (
            entry_point("x", "plug_good:NotAProvider"),
            "plug_good:NotAProvider (entry point 'x'): plug_good:NotAProvider does not implement "
            "the provider contract (missing: (not a subclass of providers.BaseProvider))",
        ),
        (
            entry_point("x", "plug_good:Half"),
            "plug_good:Half (entry point 'x'): plug_good:Half does not implement the provider "
            "contract (missing: stream, health_check, list_models)",
        ),
        (
            entry_point("x", "plug_strict:Strict"),
            "plug_strict:Strict (entry point 'x'): cannot import plug_strict:Strict (TypeError: "
            "provider class Strict does not implement: stream, list_models)",
        ),
        (
            entry_point("x", "plug_good:spec_that_fails"),
            "plug_good:spec_that_fails (entry point 'x'): get_provider_spec() failed "
            "(no config dir)",
        ),
        (
            entry_point("x", "plug_good:spec_that_is_not_a_spec"),
            "plug_good:spec_that_is_not_a_spec (entry point 'x'): get_provider_spec() did not "
            "return a ProviderSpec",
        ),
    ],
)
def test_a_bad_entry_point_is_refused_with_one_line(ep: Any, message: str) -> None:
    reg = registry(ep)
    assert refusals(reg) == [message]
    assert reg.spec("anthropic") == BUILTIN_TYPES["anthropic"]  # a built-in is never replaced
    assert reg.spec("x") is None


@pytest.mark.usefixtures("plugins")
def test_one_broken_package_does_not_stop_the_others() -> None:
    reg = registry(entry_point("bad", "plug_raises:P"), entry_point("good", "plug_good:Good"))
    assert reg.spec("good") is not None
    assert len(reg.refused) == 1


def test_entry_points_are_not_scanned_for_built_in_types() -> None:
    scans: list[int] = []

    def entry_points() -> list[Any]:
        scans.append(1)
        return []

    reg = ProviderRegistry(entry_points=entry_points)
    for type_name in BUILTIN_TYPES:
        assert reg.spec(type_name) is not None
    reg.load_class("openai-compatible")
    load_config(None, environ={}, registry=reg)
    assert scans == []
    assert reg.spec("not-built-in") is None
    assert reg.spec("still-not-built-in") is None
    assert scans == [1]  # scanned once, on the first unknown type, never again


def test_an_unknown_type_is_a_load_error_naming_it() -> None:
    with pytest.raises(ProviderLoadError, match="unknown provider type 'nope'"):
        registry().load_class("nope")


@pytest.mark.usefixtures("plugins")
def test_config_validates_a_plugin_types_own_keys(tmp_path: Path) -> None:
    reg = registry(entry_point("good", "plug_good:Good"))
    path = tmp_path / "config.toml"
    path.write_text('[providers.mine]\ntype = "good"\nflavour = "mint"\n')
    config = load_config(path, environ={}, registry=reg)
    assert config.providers["mine"].options == {"flavour": "mint"}
    assert config.providers["mine"].default_model == "g-1"
    path.write_text('[providers.mine]\ntype = "good"\ncolour = "red"\n')
    with pytest.raises(ConfigError, match=r"config.toml:3: providers\.mine\.colour: unknown key"):
        load_config(path, environ={}, registry=registry(entry_point("good", "plug_good:Good")))


def build_wheel(project: Path, out: Path) -> Path:
    """A pure-Python wheel of ``project`` from its pyproject.toml (PEP 427 layout)."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    proj = meta["project"]
    dist = proj["name"].replace("-", "_")
    info = f"{dist}-{proj['version']}.dist-info"
    files: dict[str, bytes] = {}
    for package in meta["tool"]["setuptools"]["packages"]:
        for path in sorted((project / package).rglob("*.py")):
            files[path.relative_to(project).as_posix()] = path.read_bytes()
    groups = proj["entry-points"].items()
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in table.items())
        for group, table in groups
    )
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {proj['name']}\nVersion: {proj['version']}\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: ollama-cli tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{p},sha256={_digest(d)},{len(d)}\n" for p, d in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = out / f"{dist}-{proj['version']}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_venv(where: Path, *projects: Path) -> Path:
    """A fresh venv with ``projects`` pip-installed; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dev_site = sysconfig.get_paths()["purelib"]
    Path(site, "_ollama_cli_dev.pth").write_text(f"import site; site.addsitedir({dev_site!r})\n")
    wheels = [str(build_wheel(p, where)) for p in projects]
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--no-index", *wheels],
        check=True,
        capture_output=True,
    )
    return python


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv-plain"), COMMAND_PKG)


@pytest.fixture(scope="module")
def broken_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv-broken"), COMMAND_PKG, BROKEN_PKG)


def run_cli(python: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "ollama_cli", *args],
        input="",
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )


def echo_config(home: Path, extra: str = "") -> None:
    """``echo`` upper-cases its input: a command provider that needs nothing but Python."""
    upper = shlex.join([sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"])
    text = f"""
        [router]
        chain = ["echo"]
        retries = 0
        [providers.echo]
        type = "command"
        command = {json.dumps(upper)}
    """
    (home / "config.toml").write_text(textwrap.dedent(text) + textwrap.dedent(extra))


def test_an_installed_plugin_answers_through_the_cli(plain_venv: Path, cli_home: Path) -> None:
    echo_config(cli_home)
    out = run_cli(plain_venv, cli_home, "complete", "hi there")
    assert (out.returncode, out.stdout, out.stderr) == (0, "HI THERE\n", "")
    data = json.loads(run_cli(plain_venv, cli_home, "complete", "--json", "x").stdout)
    assert (data["provider"], data["text"], data["finish_reason"]) == ("echo", "X\n", "stop")
    models = run_cli(plain_venv, cli_home, "models", "list", "echo")
    assert models.stdout == f"{sys.executable}\n"


def test_a_failing_command_falls_over_to_the_next_provider(
    plain_venv: Path, cli_home: Path
) -> None:
    fails = shlex.join([sys.executable, "-c", "import sys; sys.exit('no credit left')"])
    echo_config(
        cli_home,
        f"""
        [providers.paid]
        type = "command"
        command = {json.dumps(fails)}
        """,
    )
    out = run_cli(plain_venv, cli_home, "-p", "paid", "complete", "hi")
    assert (out.returncode, out.stdout) == (0, "HI\n")
    assert "paid unreachable → echo (default)" in out.stderr
    out = run_cli(plain_venv, cli_home, "-p", "paid", "--no-fallback", "complete", "hi")
    assert out.returncode == 1
    assert "paid (default): unavailable: " in out.stderr
    assert "exited with status 1: no credit left" in out.stderr


def test_the_catalog_lists_the_plugin_type_and_its_origin(plain_venv: Path, cli_home: Path) -> None:
    echo_config(cli_home)
    out = run_cli(plain_venv, cli_home, "providers", "list", "--all")
    assert out.returncode == 0 and out.stderr == ""
    row = next(line for line in out.stdout.splitlines() if line.startswith("command "))
    assert "ollama-cli-command-provider (entry point 'command')" in row
    assert " echo " in row
    data = json.loads(run_cli(plain_venv, cli_home, "providers", "list", "--all", "--json").stdout)
    assert data["refused"] == []
    assert [t["type"] for t in data["types"]] == [*BUILTIN_TYPES, "command"]


def test_a_broken_plugin_is_refused_in_one_line_each(broken_venv: Path, cli_home: Path) -> None:
    echo_config(cli_home)
    out = run_cli(broken_venv, cli_home, "providers", "list", "--all")
    assert out.returncode == 0
    assert "command " in out.stdout and "broken" not in out.stdout
    assert out.stderr.splitlines() == [
        "refused: ollama-cli-broken-provider (entry point 'broken'): "
        "ollama_cli_broken_provider:HalfProvider does not implement the provider contract "
        "(missing: stream, list_models)",
        "refused: ollama-cli-broken-provider (entry point 'broken-import'): cannot import "
        "ollama_cli_broken_provider.needs_missing_dependency:Provider "
        "(ModuleNotFoundError: No module named 'ollama_cli_no_such_dependency')",
    ]


def test_other_providers_work_with_a_broken_plugin_installed(
    broken_venv: Path, cli_home: Path
) -> None:
    echo_config(cli_home)
    out = run_cli(broken_venv, cli_home, "complete", "still fine")
    assert (out.returncode, out.stdout, out.stderr) == (0, "STILL FINE\n", "")


def test_configuring_the_broken_type_is_a_one_line_error(broken_venv: Path, cli_home: Path) -> None:
    echo_config(cli_home, '[providers.bad]\ntype = "broken"\n')
    out = run_cli(broken_venv, cli_home, "complete", "hi")
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1
    assert "providers.bad.type: provider type 'broken' was refused" in out.stderr
    assert "(missing: stream, list_models)" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_the_example_packages_own_tests_pass() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=COMMAND_PKG,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
