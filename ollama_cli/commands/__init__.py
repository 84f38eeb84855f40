"""One module per subcommand. Each exposes ``add_parser(subparsers, parent)`` (cheap: no
heavy imports at module level) and sets ``run(app) -> int`` as the parser default.
"""

COMMANDS = ("complete", "providers", "models", "config")
