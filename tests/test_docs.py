"""The user docs against the code: config keys, the providers catalog, the routing policy,
every error message a user can see, and every command line shown.

Docs drift the day after they are written; these tests make the drift a failing test
instead of a confused user. Each reads the source of truth (the code) and checks the
Markdown, so adding a config key, a provider, a policy row or an error message without
documenting it fails here with the name of what is missing.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_cli import app
from ollama_cli.cli import UnknownCommand, build_parser, with_default_command
from ollama_cli.commands.completion_script import walk
from ollama_cli.config import (
    HISTORY_KEYS,
    PRICE_KEYS,
    PROVIDER_KEYS,
    ROLE_KEYS,
    ROUTER_KEYS,
    RouterSettings,
    load_config,
)
from ollama_cli.repl.handlers import COMMANDS
from ollama_cli.router.health import STATUSES
from ollama_cli.router.policy import POLICY
from providers import errors
from providers.builtins import BUILTIN_PROVIDERS, BUILTIN_TYPES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "config.example.toml"
PLUGIN = ROOT / "examples" / "ollama-cli-command-provider"
OURS = [
    DOCS / f"{n}.md"
    for n in (
        "quickstart",
        "configuration",
        "providers",
        "routing",
        "adding-a-provider",
        "troubleshooting",
        "design",
        "style",
    )
]
DESIGN = DOCS / "design.md"


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def squeeze(s: str) -> str:
    return " ".join(s.split())


def sections(markdown: str) -> dict[str, str]:
    """Heading line → the text under it (down to the next heading of any level)."""
    parts = re.split(r"^(#{2,4} .*)$", markdown, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def table_rows(markdown: str) -> list[dict[str, str]]:
    """The rows of every pipe table in ``markdown``, keyed by lower-cased header cells."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
        elif not all(set(c) <= set("-: ") for c in cells):
            rows.append(dict(zip(header, cells, strict=False)))
    return rows


def first_column_keys(markdown: str) -> set[str]:
    rows = [row for row in table_rows(markdown) if "key" in row]
    return {m for row in rows for m in re.findall(r"^`([\w-]+)`$", row["key"])}


def section_keys(markdown: str, marker: str) -> set[str]:
    """Keys in the first column of the tables under the heading containing ``marker``."""
    matching = [body for head, body in sections(markdown).items() if marker in head]
    assert matching, f"no heading containing {marker!r}"
    return set().union(*(first_column_keys(body) for body in matching))


def example_sections() -> dict[str, set[str]]:
    """Section → keys in config.example.toml, counting commented-out ``# key = …`` lines."""
    found: dict[str, set[str]] = {}
    current = ""
    for line in text(EXAMPLE).splitlines():
        head = re.match(r'^\s*#?\s*\[([\w./*"-]+)\]\s*$', line)
        if head:
            current = head.group(1)
            found.setdefault(current, set())
            continue
        key = re.match(r'^\s*#?\s*([a-z_][a-z0-9_]*)\s*=\s*(["\[{\d-]|true|false)', line)
        if key and current:
            found[current].add(key.group(1))
    return found


def example_types() -> dict[str, str]:
    """``providers.NAME`` → its type (declared, or the built-in's)."""
    types = {f"providers.{n}": p.type for n, p in BUILTIN_PROVIDERS.items()}
    current = ""
    for line in text(EXAMPLE).splitlines():
        head = re.match(r"^\s*#?\s*\[([\w.-]+)\]\s*$", line)
        if head:
            current = head.group(1)
        declared = re.match(r'^\s*#?\s*type\s*=\s*"([\w-]+)"', line)
        if declared and current:
            types[current] = declared.group(1)
    return types


def type_keys(type_name: str) -> set[str]:
    return {k for k, _ in BUILTIN_TYPES[type_name].config_fields}


def test_every_config_key_is_in_the_example_file() -> None:
    found = example_sections()
    types = example_types()
    assert set(ROUTER_KEYS) <= found["router"], set(ROUTER_KEYS) - found["router"]
    assert set(HISTORY_KEYS) <= found["history"], set(HISTORY_KEYS) - found["history"]
    in_roles = set().union(*(k for s, k in found.items() if s.startswith("roles.")))
    assert set(ROLE_KEYS) <= in_roles, set(ROLE_KEYS) - in_roles
    assert "aliases" in found
    in_prices = set().union(*(k for s, k in found.items() if s.startswith("prices.")))
    assert set(PRICE_KEYS) <= in_prices, set(PRICE_KEYS) - in_prices
    provider_sections = {s: keys for s, keys in found.items() if s.startswith("providers.")}
    in_providers = set().union(*provider_sections.values())
    # A common key may instead be named in the comment listing what every provider accepts.
    listed = re.search(r"^# Every provider accepts:(.*?)^$", text(EXAMPLE), flags=re.M | re.S)
    in_providers |= set(re.findall(r"\w+", listed.group(1))) if listed else set()
    assert set(PROVIDER_KEYS) <= in_providers, set(PROVIDER_KEYS) - in_providers
    for type_name in BUILTIN_TYPES:
        keys = set().union(*(k for s, k in provider_sections.items() if types[s] == type_name))
        assert type_keys(type_name) <= keys, (type_name, type_keys(type_name) - keys)


def test_every_key_in_the_example_file_is_real() -> None:
    types = example_types()
    for section, keys in example_sections().items():
        if section == "router":
            allowed = set(ROUTER_KEYS)
        elif section == "history":
            allowed = set(HISTORY_KEYS)
        elif section == "aliases":
            continue  # any name is an alias
        elif section.startswith("roles."):
            allowed = set(ROLE_KEYS)
        elif section.startswith("prices."):
            allowed = set(PRICE_KEYS)
        else:
            assert section.startswith("providers."), f"unknown section [{section}]"
            allowed = set(PROVIDER_KEYS) | type_keys(types[section])
        assert keys <= allowed, (section, keys - allowed)


def test_the_example_file_loads_and_keeps_the_routing_defaults() -> None:
    config = load_config(EXAMPLE, environ={})
    defaults = load_config(None, environ={})
    assert config.router == RouterSettings() == defaults.router
    assert config.history_enabled is defaults.history_enabled is True
    for name, provider in defaults.providers.items():
        written = config.providers[name]
        for field in ("type", "default_model", "key_envs", "base_url", "timeout", "enabled"):
            assert getattr(written, field) == getattr(provider, field), (name, field)


def test_every_config_key_is_in_the_reference_and_no_other() -> None:
    doc = text(DOCS / "configuration.md")
    assert section_keys(doc, "`[router]`") == set(ROUTER_KEYS)
    assert section_keys(doc, "`[history]`") == set(HISTORY_KEYS)
    assert section_keys(doc, '`[prices."MODEL"]`') == set(PRICE_KEYS)
    assert section_keys(doc, "`[providers.NAME]`") == set(PROVIDER_KEYS)
    assert section_keys(doc, "`[roles.NAME]`") == set(ROLE_KEYS)
    for type_name in BUILTIN_TYPES:
        if type_keys(type_name):
            assert section_keys(doc, f'`type = "{type_name}"`') == type_keys(type_name)


def test_the_reference_states_the_router_defaults() -> None:
    doc = text(DOCS / "configuration.md")
    rows = {r["key"].strip("`"): r for r in table_rows(doc) if "key" in r}
    for key, value in RouterSettings().__dict__.items():
        shown = rows[key]["default"].strip("`")
        expected = list(value) if isinstance(value, tuple) else value
        if value is None:
            assert shown == "none", key
        elif isinstance(value, bool):
            assert shown == str(value).lower(), key
        elif isinstance(value, list | tuple):
            assert shown == str(expected).replace("'", '"'), key
        else:
            assert float(shown) == float(value), key


def catalog_rows() -> dict[str, dict[str, str]]:
    rows = table_rows(text(DOCS / "providers.md"))
    return {r["name"].strip("`"): r for r in rows if "talks to" in r}


@pytest.mark.parametrize("name", list(BUILTIN_PROVIDERS))
def test_the_catalog_row_matches_the_built_in_provider(name: str) -> None:
    builtin = BUILTIN_PROVIDERS[name]
    spec = BUILTIN_TYPES[builtin.type]
    row = catalog_rows()[name]
    assert row["type"] == f"`{builtin.type}`"
    model = builtin.default_model or spec.default_model
    assert f"`{model}`" in row["default model"]
    key_envs = spec.key_envs if builtin.key_envs is None else builtin.key_envs
    for var in key_envs:
        assert f"`{var}`" in row["key env var"], var
    if not key_envs:
        assert row["key env var"].startswith("none")
    for package in spec.pip_packages:
        assert f"`{package}`" in row["pip deps"], package
    assert row["streaming"].startswith("yes" if spec.supports_streaming else "no")
    assert row["model listing"].split(":")[0].strip() in ("yes", "one model")
    assert row["talks to"] and row["known limits"]


def test_the_catalog_lists_every_type_with_its_class_and_keys() -> None:
    doc = text(DOCS / "providers.md")
    rows = {r["type"].strip("`"): r for r in table_rows(doc) if "class" in r}
    assert set(rows) == set(BUILTIN_TYPES)
    for type_name, spec in BUILTIN_TYPES.items():
        assert rows[type_name]["class"] == f"`{spec.target}`"
        for key in type_keys(type_name):
            assert f"`{key}`" in rows[type_name]["type-specific config keys"]


def test_the_routing_table_is_the_policy() -> None:
    rows = {
        r["error"].strip("`"): r for r in table_rows(text(DOCS / "routing.md")) if "fall over" in r
    }
    assert set(rows) == {cls.__name__ for cls in POLICY}
    for cls, rule in POLICY.items():
        row = rows[cls.__name__]
        for column, value in (
            ("retry", rule.retry),
            ("fall over", rule.fall_over),
            ("cooldown", rule.cooldown),
        ):
            word = re.sub(r"[^a-z]", "", row[column].split()[0].lower())
            assert word == ("yes" if value else "no"), (cls.__name__, column)
        assert row["outcome in the trace"] == f"`{cls.outcome}`"


def test_the_routing_page_names_every_outcome() -> None:
    doc = text(DOCS / "routing.md")
    for outcome in router_outcomes():
        assert f"`{outcome}`" in doc, outcome


#: Calls whose first argument is a message a user reads, by the called name.
MESSAGE_CALLS = {
    *(name for name, obj in vars(errors).items() if isinstance(obj, type)),
    "UsageError",
    "ConfigError",
    "HistoryError",
    "ProviderLoadError",
    "AttachError",
}
#: Messages built where the extraction below cannot see them (helpers, variables).
INDIRECT = (
    "during the answer:",  # anthropic stream_error
    "no API key configured",  # openai_base._check_key
    "stream error:",  # openai error_from_payload(where=...)
    "response failed:",
    "a stream event is not a JSON object",  # gemini _malformed(...)
    "invalid UTF-8 in the response",
    "malformed JSON in the response",
    "invalid UTF-8 in the stream",
    "cooling down for",  # router skip reason
    "stream ended before the answer was finished",  # providers.errors.stream_ended
    "unknown provider",  # ollama_cli.settings.unknown_provider
    "HTTP 401",  # providers.http.error_for_status, by status
    "HTTP 403",
    "HTTP 404",
    "HTTP 408",
    "HTTP 413",
    "HTTP 429",
    "HTTP 500",
    "HTTP 529",
)


def template(node: ast.expr) -> str | None:
    """A message as a template: literal text, with ``{}`` where values go."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return (template(node.left) or "{}") + (template(node.right) or "{}")
    return None


def user_messages(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """(where, template) of every user-facing message raised or printed in ``paths``."""
    for path in paths:
        for node in ast.walk(ast.parse(text(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            arg = None
            if name in MESSAGE_CALLS:
                arg = node.args[0]
            elif isinstance(func, ast.Attribute) and name in ("error", "notify", "warn"):
                # src.error(table, key, problem) for config errors; app.error(message).
                arg = node.args[2] if name == "error" and len(node.args) == 3 else node.args[0]
            found = template(arg) if arg is not None else None
            if found and (name != "warn" or found.startswith(("warning:", "refused:"))):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", found


def fragments(message: str) -> list[str]:
    """The literal parts of a template worth finding in a doc (three letters or more)."""
    parts = (squeeze(p).strip(" :;,.") for p in message.split("{}"))
    return [p for p in parts if re.search(r"[A-Za-z]{3}", p)]


def missing_messages(paths: list[Path], doc: str) -> list[str]:
    flat = squeeze(doc)
    return [
        f"{where}: {message!r} (missing: {part!r})"
        for where, message in user_messages(paths)
        for part in fragments(message)
        if part not in flat
    ]


def test_every_user_facing_message_is_in_troubleshooting() -> None:
    sources = sorted((ROOT / "ollama_cli").rglob("*.py")) + sorted(
        (ROOT / "providers").rglob("*.py")
    )
    doc = text(DOCS / "troubleshooting.md")
    assert missing_messages(sources, doc) == []
    flat = squeeze(doc)
    assert [phrase for phrase in INDIRECT if phrase not in flat] == []


def test_the_message_extraction_finds_the_messages_it_should() -> None:
    found = {m for _, m in user_messages([ROOT / "providers" / "http.py"])}
    assert "{}: cannot connect to {} (connect timed out)" in found
    found = {m for _, m in user_messages([ROOT / "ollama_cli" / "config_source.py"])}
    assert "unknown key (known: {})" in found


def test_every_message_of_the_example_plugin_is_in_its_readme() -> None:
    sources = sorted((PLUGIN / "ollama_cli_command_provider").glob("*.py"))
    assert missing_messages(sources, text(PLUGIN / "README.md")) == []


def command_lines(markdown: str) -> Iterator[str]:
    """Every ``ollama-cli …`` invocation shown: in shell blocks, `$` lines, inline code."""
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", markdown, flags=re.M | re.S):
        for line in body.splitlines():
            if lang == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            elif lang not in ("sh", "bash", "zsh", "fish"):
                continue
            yield from _invocations(re.split(r"\s#", line)[0])
    for span in re.findall(r"`(ollama-cli [^`]+)`", markdown):
        yield from _invocations(span)


def _invocations(line: str) -> Iterator[str]:
    for match in re.finditer(r"(?<![\w/.-])ollama-cli(?![\w.:-])", line):
        lexer = shlex.shlex(line[match.end() :], posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for word in lexer:
            if word.startswith("#") or set(word) <= set("();<>|&"):
                break
            words.append(word)
        yield shlex.join(words)


def parses(words: list[str]) -> bool:
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            build_parser().parse_args(with_default_command(words))  # as cli.main does
    except UnknownCommand:
        return False
    except SystemExit as exc:
        return exc.code == 0  # --help and --version exit 0
    return True


def alternatives(words: list[str]) -> Iterator[list[str]]:
    """``history list|show`` stands for two command lines, ``COMMAND`` for every command."""
    for i, word in enumerate(words):
        if word == "COMMAND":
            for node in walk(build_parser())[0].subcommands:
                yield [*words[:i], node.name, *words[i + 1 :]]
            return
        if "|" in word and not word.startswith("-"):
            for choice in word.split("|"):
                yield from alternatives([*words[:i], choice, *words[i + 1 :]])
            return
    yield words


@pytest.mark.parametrize("doc", [*OURS, PLUGIN / "README.md"], ids=lambda p: p.name)
def test_every_command_line_shown_parses(doc: Path) -> None:
    bad = [
        line
        for line in command_lines(text(doc))
        for words in alternatives(shlex.split(line))
        if not parses(words)
    ]
    assert bad == []


@pytest.mark.parametrize("doc", OURS, ids=lambda p: p.name)
def test_every_flag_named_alone_exists(doc: Path) -> None:
    flags = {f for node in walk(build_parser()) for o in node.options for f in o.flags}
    flags |= {"--version", "--help"}
    named = set(re.findall(r"`(--?[a-z][a-z-]*)`", text(doc)))
    assert named - flags == set()


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    words = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return words.replace(" ", "-")


@pytest.mark.parametrize("doc", [*OURS, PLUGIN / "README.md"], ids=lambda p: p.name)
def test_every_link_resolves(doc: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text(doc)):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md":
            headings = re.findall(r"^#{1,6} (.*)$", text(path), flags=re.M)
            if anchor not in {slug(h) for h in headings}:
                broken.append(target)
    assert broken == []


def design_section(heading: str) -> str:
    """The text of design.md under the ``##``/``###`` heading that starts with ``heading``."""
    found = [body for head, body in sections(text(DESIGN)).items() if head.startswith(heading)]
    assert len(found) == 1, heading
    return found[0]


def paragraph(markdown: str, start: str) -> str:
    """The paragraph of ``markdown`` that begins with ``start``."""
    found = [p for p in re.split(r"\n\s*\n", markdown) if p.startswith(start)]
    assert len(found) == 1, start
    return found[0]


def router_outcomes() -> set[str]:
    """Every outcome the code can put in a trace: the error types' and the router's own."""
    classes = [c for c in vars(errors).values() if isinstance(c, type)]
    found = {c.outcome for c in classes if issubclass(c, errors.ProviderError)} - {"error"}
    for path in (ROOT / "ollama_cli" / "router").glob("*.py"):
        for node in ast.walk(ast.parse(text(path))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(
                r"ok|interrupted|unsupported_input|skipped_[a-z_]+", value
            ):
                found.add(value)
    return found


def test_the_design_names_every_outcome_and_no_other() -> None:
    named = paragraph(design_section("## Commands"), "Outcomes:")
    assert set(re.findall(r"`([a-z_]+)`", named)) == router_outcomes()


def test_the_design_states_the_exit_codes() -> None:
    named = paragraph(design_section("## Commands"), "Exit codes")
    codes = {v for k, v in vars(app).items() if k.startswith("EXIT_") and isinstance(v, int)}
    assert {int(n) for n in re.findall(r"\b(\d+) [a-z]", named)} == codes


def test_the_design_taxonomy_is_the_error_module() -> None:
    taxonomy = design_section("### Error taxonomy")
    tabled = {r["error"].strip("`").split("(")[0] for r in table_rows(taxonomy)}
    classes = {
        name
        for name, c in vars(errors).items()
        if isinstance(c, type) and issubclass(c, errors.ProviderError)
    }
    assert tabled <= classes
    assert {c for c in classes - tabled if f"`{c}`" not in taxonomy} == {"ProviderError"}


def test_the_design_config_example_is_real_and_keeps_the_defaults(tmp_path: Path) -> None:
    block = re.search(r"```toml\n(.*?)```", design_section("## Configuration"), flags=re.S)
    assert block is not None
    path = tmp_path / "config.toml"
    path.write_text(block.group(1))
    path.chmod(0o600)
    config = load_config(path, environ={})
    assert config.router == RouterSettings()
    # A key whose default is "not set" (a budget) can only be shown commented out.
    unset = {k for k, v in RouterSettings().__dict__.items() if v is None}
    assert {k for k, _ in example_keys(block.group(1), "router")} == set(ROUTER_KEYS) - unset
    assert all(re.search(rf"^# {k} = ", block.group(1), flags=re.M) for k in unset), unset


def example_keys(toml: str, section: str) -> list[tuple[str, str]]:
    """``key = value`` lines of ``[section]`` in a TOML text, in order."""
    body = re.search(rf"^\[{re.escape(section)}\]\n(.*?)(?=^\[|\Z)", toml, flags=re.M | re.S)
    assert body is not None, section
    return re.findall(r"^(\w+) = (.*)$", body.group(1), flags=re.M)


def test_the_design_names_every_command_status_and_slash_command() -> None:
    commands = design_section("## Commands")
    top = walk(build_parser())[0]
    assert {n.name for n in top.subcommands} <= set(re.findall(r"`([a-z]+)[ `]", commands))
    statuses = paragraph(commands, "`providers list")
    assert set(re.findall(r"`([a-z_]+)`", statuses)) >= set(STATUSES)
    slash = set(re.findall(r"/([a-z]+)", paragraph(commands, "`chat`")))
    assert slash == {c.name for c in COMMANDS}


def test_the_design_provider_table_is_the_built_ins() -> None:
    rows = table_rows(design_section("## Providers"))
    named = {r["name"]: r["type"] for r in rows if not r["name"].startswith("(")}
    assert named == {n: p.type for n, p in BUILTIN_PROVIDERS.items()}
