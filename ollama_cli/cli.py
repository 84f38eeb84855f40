"""The ``ollama-cli`` entry point: parse arguments and dispatch to one command module.

Only argparse and the command modules' ``add_parser`` functions are imported here, so
``--help`` and ``--version`` cost little more than starting Python.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

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
  ollama-cli complete "explain TCP slow start"     one answer, streamed
  git diff | ollama-cli complete "write a commit message"
  ollama-cli complete -f shot.png -f src/ "why does this fail?"
  ollama-cli -p claude -m claude-haiku-4-5 complete "hi"
  ollama-cli providers list                        which providers answer right now

exit codes: 0 ok, 1 no provider could answer, 2 usage or config error, 130 Ctrl-C
docs: docs/quickstart.md, docs/routing.md, docs/troubleshooting.md
"""


def global_options() -> argparse.ArgumentParser:
    """Flags accepted both before and after the command (``-p x complete`` = ``complete -p x``)."""
    parent = argparse.ArgumentParser(add_help=False)
    g = parent.add_argument_group("global options")
    g.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (env OLLAMA_CLI_CONFIG; default $OLLAMA_CLI_HOME/config.toml)",
    )
    g.add_argument(
        "-p",
        "--provider",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="try this provider first",
    )
    g.add_argument(
        "-m",
        "--model",
        metavar="MODEL",
        default=argparse.SUPPRESS,
        help="model for the first provider tried (others use their default)",
    )
    g.add_argument(
        "--no-fallback",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use only the first provider",
    )
    g.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the attempt trace on stderr",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parent = global_options()
    parser = argparse.ArgumentParser(
        prog="ollama-cli",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[parent],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ollama-cli {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(f"ollama_cli.commands.{module}").add_parser(sub, parent)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in == ["--version"]:  # the one answer that needs no parser at all
        print(f"ollama-cli {__version__}")
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    from ollama_cli.app import EXIT_INTERRUPTED, EXIT_NO_ANSWER, EXIT_USAGE, App, UsageError
    from ollama_cli.options import GlobalOptions

    options = GlobalOptions.from_namespace(args)
    app = App(options, args)
    try:
        return int(args.run(app))
    except UsageError as exc:
        app.error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `ollama-cli complete … | head -1`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
    except Exception as exc:  # the last line of defence: a bug is one line, not a traceback
        if options.verbose:
            raise
        app.error(f"internal error: {type(exc).__name__}: {exc} (run with -v for details)")
        return EXIT_NO_ANSWER


if __name__ == "__main__":
    raise SystemExit(main())
