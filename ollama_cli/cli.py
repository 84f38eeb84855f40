"""The ``ollama-cli`` entry point: parse arguments and dispatch to one command module.

Only argparse and the command modules' ``add_parser`` functions are imported here, so
``--help`` and ``--version`` cost little more than starting Python.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import sys
from collections.abc import Collection, Sequence
from typing import Any, NoReturn

from ollama_cli import __version__
from ollama_cli.commands import COMMANDS

DESCRIPTION = """\
A terminal chat client for many LLM providers, with fallback routing: when the
provider you want is down, out of quota or missing a key, the next one answers, and
you are told which one did and why the others did not.
"""

EPILOG = """\
examples:
  ollama-cli chat                                  talk (REPL); /help inside
  ollama-cli "explain TCP slow start"              one answer, streamed (= complete)
  git diff | ollama-cli complete "write a commit message"
  ollama-cli complete -f shot.png -f src/ "why does this fail?"
  ollama-cli -p claude -m claude-haiku-4-5 complete "hi"
  ollama-cli providers list                        which providers answer right now

exit codes: 0 ok, 1 no provider could answer, 2 usage or config error, 70 internal
error (a bug: see the crash report), 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP
docs: docs/quickstart.md, docs/routing.md, docs/troubleshooting.md
"""


#: The global flags by destination: option strings and argparse keywords. Each command
#: takes the ones listed for it in ``commands.GLOBAL_FLAGS_OF`` (so its ``--help`` shows
#: only flags that apply); before the command name all are accepted.
GLOBAL_FLAGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "config": (
        ("--config",),
        {
            "metavar": "PATH",
            "help": "config file (env OLLAMA_CLI_CONFIG; default $OLLAMA_CLI_HOME/config.toml)",
        },
    ),
    "provider": (("-p", "--provider"), {"metavar": "NAME", "help": "try this provider first"}),
    "model": (
        ("-m", "--model"),
        {"metavar": "MODEL", "help": "model for the first provider tried (others: their default)"},
    ),
    "no_fallback": (
        ("--no-fallback",),
        {"action": "store_true", "help": "use only the first provider"},
    ),
    "verbose": (
        ("-v", "--verbose"),
        {"action": "store_true", "help": "print the attempt trace on stderr"},
    ),
}


class CliParser(argparse.ArgumentParser):
    """argparse with a "did you mean" for an unknown command, choice or flag."""

    argv: Sequence[str] = ()

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        self.argv = list(sys.argv[1:] if args is None else args)
        return super().parse_args(self.argv, namespace)

    def error(self, message: str) -> NoReturn:
        super().error(message + self._suggestion(message))

    def _suggestion(self, message: str) -> str:
        from ollama_cli.suggest import did_you_mean

        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            return did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        flags = [w.split("=")[0] for w in unknown.group(1).split()] if unknown else []
        flags = [w for w in flags if w.startswith("-")]
        return did_you_mean(flags[0], self._options_in_use()) if flags else ""

    def _options_in_use(self) -> list[str]:
        """The option strings of the (sub)command the arguments named."""
        parser: argparse.ArgumentParser = self
        for word in self.argv:
            sub = next(
                (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None
            )
            if sub is not None and word in sub.choices:
                parser = sub.choices[word]
        return [o for o in parser._option_string_actions if o.startswith("--")]


def global_options(only: Collection[str] = tuple(GLOBAL_FLAGS)) -> argparse.ArgumentParser:
    """Flags accepted both before and after the command (``-p x complete`` = ``complete -p x``)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("global options")
    for dest, (flags, keywords) in GLOBAL_FLAGS.items():
        if dest in only:
            group.add_argument(*flags, dest=dest, default=argparse.SUPPRESS, **keywords)
    return parent


def build_parser() -> argparse.ArgumentParser:
    from ollama_cli.commands import GLOBAL_FLAGS_OF, NARROW_GLOBAL_FLAGS

    parser = CliParser(
        prog="ollama-cli",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[global_options()],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ollama-cli {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        parent = global_options(GLOBAL_FLAGS_OF.get(module, NARROW_GLOBAL_FLAGS))
        importlib.import_module(f"ollama_cli.commands.{module}").add_parser(sub, parent)
    return parser


def with_default_command(argv: list[str]) -> list[str]:
    """``ollama-cli "a prompt"`` is ``ollama-cli complete "a prompt"`` (as in llm, aichat).

    A single word close to a command's name (``hisotry``) is a typo, not a prompt: exit 2
    with "did you mean". Global flags before the prompt stay where they are.
    """
    from ollama_cli.suggest import closest

    takes_value = {f for flags, kw in GLOBAL_FLAGS.values() if "metavar" in kw for f in flags}
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            return [*argv[:index], "complete", *argv[index:]]
        if word.startswith("-"):
            index += 2 if word in takes_value else 1
            continue
        if word in COMMANDS:
            return argv
        near = (
            closest(word, COMMANDS, n=1, cutoff=0.75, prefix=False)
            if " " not in word.strip()
            else []
        )
        if near:
            raise UnknownCommand(f"unknown command {word!r}; did you mean {near[0]}?")
        return [*argv[:index], "complete", *argv[index:]]
    return argv


class UnknownCommand(Exception):
    """A word that looks like a mistyped command name."""


def main(argv: Sequence[str] | None = None) -> int:
    from ollama_cli.crash import ensure_std_streams

    ensure_std_streams()
    args_in, mangled = utf8_arguments(sys.argv[1:] if argv is None else list(argv))
    if args_in == ["--version"]:  # the one answer that needs no parser at all
        print(f"ollama-cli {__version__}")
        return 0
    try:
        args_in = with_default_command(args_in)
    except UnknownCommand as exc:
        print(f"ollama-cli: {exc} (a one-word prompt: ollama-cli complete WORD)", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(args_in)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    from ollama_cli import crash
    from ollama_cli.app import EXIT_INTERRUPTED, EXIT_USAGE, App, UsageError
    from ollama_cli.options import GlobalOptions
    from ollama_cli.redact import RedactingStream

    options = GlobalOptions.from_namespace(args)
    app = App(options, args)
    stderr, sys.stderr = sys.stderr, RedactingStream(sys.stderr, app.redactor)
    try:
        if mangled:
            app.warn("warning: the command line is not valid UTF-8; undecodable bytes replaced")
        return int(args.run(app))
    except UsageError as exc:
        app.error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug is one line
        # `… | head -1` (the reader left) and `> /dev/full` end quietly; a bug is exit 70.
        return crash.internal_error(app, exc, verbose=options.verbose)
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        sys.stderr = stderr  # the one redaction boundary ends with the command


def utf8_arguments(argv: list[str]) -> tuple[list[str], bool]:
    """Arguments that were not valid UTF-8 (Python keeps their bytes as surrogates) with
    those bytes replaced, and whether any were: a surrogate cannot be sent or printed."""
    fixed = [a.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for a in argv]
    return fixed, fixed != argv


if __name__ == "__main__":
    raise SystemExit(main())
