"""Shell completion scripts generated from the argparse parser (``ollama-cli completion``).

Beside its command (``commands/completion.py``) but not in it, so that ``--help`` and
``--version``, which import every command module, never load this generator or
``dataclasses``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from ollama_cli.commands.completion import SHELLS

__all__ = ["SHELLS", "Node", "Option", "flag_values", "script", "walk"]

#: What may follow a flag or fill a positional: literal words, or one of these markers.
PROVIDERS, FILES, TEXT = "@providers", "@files", "@text"


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    values: str  # "" for a switch; words, PROVIDERS, FILES or TEXT for a flag with a value


@dataclass
class Node:
    """One command level (``""``, ``"providers"``, ``"providers list"``) and what it takes."""

    path: str
    help: str = ""
    options: list[Option] = field(default_factory=list)
    subcommands: list[Node] = field(default_factory=list)
    positional: str = ""

    @property
    def name(self) -> str:
        return self.path.rpartition(" ")[2]


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (one of SHELLS)."""
    return TEMPLATES[shell].replace("@@TABLES@@", _functions(shell, walk(parser)))


def walk(parser: argparse.ArgumentParser, path: str = "", help: str = "") -> list[Node]:
    """Every command level of ``parser``, depth first, the top level first."""
    node = Node(path, help)
    nodes = [node]
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, child in action.choices.items():
                below = walk(child, f"{path} {name}".strip(), helps.get(name, ""))
                node.subcommands.append(below[0])
                nodes += below
        elif action.option_strings:
            values = _values(action) if action.nargs != 0 else ""
            node.options.append(Option(tuple(action.option_strings), action.help or "", values))
        else:
            node.positional = _values(action)
    return nodes


def _values(action: argparse.Action) -> str:
    if action.choices is not None:
        return " ".join(str(c) for c in action.choices)
    if action.dest == "provider" or action.metavar == "PROVIDER":
        return PROVIDERS
    return FILES if action.metavar == "PATH" else TEXT


def flag_values(nodes: list[Node]) -> dict[str, str]:
    """What follows each flag that takes a value (a flag means the same in every command)."""
    return {f: o.values for n in nodes for o in n.options if o.values for f in o.flags}


Pairs = list[tuple[str, str]]  # (word, description)


def tables(nodes: list[Node]) -> dict[str, dict[str, Pairs]]:
    """The data every script is made of, each table keyed by command path or flag.

    ``subs`` and ``opts`` are offered as words (with descriptions where the shell shows
    them); ``values`` and ``pos`` hold one value spec (words, @providers, @files, @text).
    """
    return {
        "subs": {n.path: [(s.name, s.help) for s in n.subcommands] for n in nodes if n.subcommands},
        "opts": {n.path: [(f, o.help) for o in n.options for f in o.flags] for n in nodes},
        "values": {f: [(v, "")] for f, v in flag_values(nodes).items()},
        "pos": {n.path: [(n.positional, "")] for n in nodes if n.positional},
    }


def _functions(shell: str, nodes: list[Node]) -> str:
    """One lookup function per table, in ``shell``'s syntax."""
    out = []
    for table, rows in tables(nodes).items():
        described = table in ("subs", "opts")
        if shell == "fish":
            arms = "".join(_fish_arm(key, pairs, described) for key, pairs in rows.items())
            out.append(
                f'function __ollama_cli_{table}\n    switch "$argv[1]"\n{arms}    end\nend\n'
            )
            continue
        arms = "".join(_sh_arm(shell, key, pairs, described) for key, pairs in rows.items())
        reset = "    reply=()\n" if shell == "zsh" else ""
        out.append(f'_ollama_cli_{table}() {{\n{reset}    case "$1" in\n{arms}    esac\n}}\n')
    return "".join(out)


def _sh_arm(shell: str, key: str, pairs: Pairs, described: bool) -> str:
    if shell == "zsh" and described:
        words = " ".join(sq(f"{word}:{text}") for word, text in pairs)
        return f"        {sq(key)}) reply=({words}) ;;\n"
    return f"        {sq(key)}) echo {sq(' '.join(word for word, _ in pairs))} ;;\n"


def _fish_arm(key: str, pairs: Pairs, described: bool) -> str:
    if described:
        body = "".join(f"            printf '%s\\t%s\\n' {sq(w)} {sq(t)}\n" for w, t in pairs)
    else:
        body = f"            echo {sq(pairs[0][0])}\n"
    return f"        case {sq(key)}\n{body}"


def sq(text: str) -> str:
    """``text`` on one line, single-quoted for bash, zsh and fish alike."""
    line = " ".join(text.split()).replace("\\", "/")
    return "'" + line.replace("'", "'\\''") + "'"


BASH = """\
# bash completion for ollama-cli, generated by `ollama-cli completion bash`.
# Load it from ~/.bashrc with: eval "$(ollama-cli completion bash)"
@@TABLES@@_ollama_cli_offer() {
    case "$1" in
        @providers) COMPREPLY=($(compgen -W "$(ollama-cli completion --providers 2>/dev/null)" -- "$2")) ;;
        @files) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;
        @text) ;;
        *) COMPREPLY=($(compgen -W "$1" -- "$2")) ;;
    esac
}
_ollama_cli() {
    local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath="" flag="" word i
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ -n $flag ]]; then flag=""; continue; fi
        case "$word" in
            -*=*) ;;
            -*) [[ -n "$(_ollama_cli_values "$word")" ]] && flag="$word" ;;
            *) [[ " $(_ollama_cli_subs "$cmdpath") " == *" $word "* ]] && cmdpath="${cmdpath:+$cmdpath }$word" ;;
        esac
    done
    if [[ -n $flag ]]; then
        _ollama_cli_offer "$(_ollama_cli_values "$flag")" "$cur"
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_ollama_cli_opts "$cmdpath")" -- "$cur"))
    elif [[ -n "$(_ollama_cli_subs "$cmdpath")" ]]; then
        COMPREPLY=($(compgen -W "$(_ollama_cli_subs "$cmdpath")" -- "$cur"))
    else
        _ollama_cli_offer "$(_ollama_cli_pos "$cmdpath")" "$cur"
    fi
}
complete -F _ollama_cli ollama-cli
"""  # noqa: E501

ZSH = """\
#compdef ollama-cli
# zsh completion for ollama-cli, generated by `ollama-cli completion zsh`.
# Load it from ~/.zshrc, after compinit, with: eval "$(ollama-cli completion zsh)"
# (or save it as _ollama-cli in a directory on $fpath).
@@TABLES@@_ollama_cli_offer() {
    case "$1" in
        @providers) compadd -- ${(f)"$(ollama-cli completion --providers 2>/dev/null)"} ;;
        @files) _files ;;
        @text) _message 'text' ;;
        *) compadd -- ${=1} ;;
    esac
}
_ollama_cli() {
    local cmdpath="" flag="" word i
    local -a reply
    for ((i = 2; i < CURRENT; i++)); do
        word="${words[i]}"
        if [[ -n $flag ]]; then flag=""; continue; fi
        case "$word" in
            -*=*) ;;
            -*) [[ -n "$(_ollama_cli_values "$word")" ]] && flag="$word" ;;
            *) _ollama_cli_subs "$cmdpath"
               (( ${reply[(I)${word}:*]} )) && cmdpath="${cmdpath:+$cmdpath }$word" ;;
        esac
    done
    if [[ -n $flag ]]; then
        _ollama_cli_offer "$(_ollama_cli_values "$flag")"
    elif [[ ${words[CURRENT]} == -* ]]; then
        _ollama_cli_opts "$cmdpath"
        _describe -t options option reply
    else
        _ollama_cli_subs "$cmdpath"
        if (( $#reply )); then
            _describe -t commands command reply
        else
            _ollama_cli_offer "$(_ollama_cli_pos "$cmdpath")"
        fi
    fi
}
if [[ "$funcstack[1]" == "_ollama-cli" ]]; then
    _ollama_cli "$@"
else
    compdef _ollama_cli ollama-cli
fi
"""

FISH = """\
# fish completion for ollama-cli, generated by `ollama-cli completion fish`.
# Install it with: ollama-cli completion fish > ~/.config/fish/completions/ollama-cli.fish
@@TABLES@@function __ollama_cli_offer
    switch "$argv[1]"
        case @providers
            ollama-cli completion --providers 2>/dev/null
        case @files
            __fish_complete_path (commandline -ct)
        case @text ''
        case '*'
            string split ' ' -- $argv[1]
    end
end
function __ollama_cli_complete
    set -l tokens (commandline -opc)
    set -l cmdpath ''
    set -l flag ''
    for word in $tokens[2..-1]
        if test -n "$flag"
            set flag ''
            continue
        end
        switch $word
            case '-*=*'
            case '-*'
                set -l spec (__ollama_cli_values $word)
                if test -n "$spec"
                    set flag $word
                end
            case '*'
                if contains -- $word (__ollama_cli_subs $cmdpath | string replace -r '\\t.*' '')
                    set cmdpath (string trim -- "$cmdpath $word")
                end
        end
    end
    set -l cur (commandline -ct)
    if test -n "$flag"
        __ollama_cli_offer (__ollama_cli_values $flag)
    else if string match -q -- '-*' "$cur"
        __ollama_cli_opts $cmdpath
    else
        set -l subs (__ollama_cli_subs $cmdpath)
        if set -q subs[1]
            printf '%s\\n' $subs
        else
            __ollama_cli_offer (__ollama_cli_pos $cmdpath)
        end
    end
end
complete -c ollama-cli -f -a '(__ollama_cli_complete)'
"""

TEMPLATES = {"bash": BASH, "zsh": ZSH, "fish": FISH}
