"""The `layerwise` command. Parses arguments and calls the API; it holds no logic of its own.

Start-up stays fast (`layerwise --help` well under 0.5 s): command modules import torch, pandas
and matplotlib inside their functions only.
"""

from __future__ import annotations

import os
import sys

import typer

from ..errors import LayerwiseError

app = typer.Typer(
    name="layerwise",
    help="Define, train, inspect and use feed-forward neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # user mistakes are one line; bugs get a plain traceback
    rich_markup_mode=None,  # plain click help: wraps at any width instead of truncating flags in boxes
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)

def _show_version(value: bool) -> None:
    if value:
        from .._version import __version__

        print(f"layerwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Define, train, inspect and use feed-forward neural networks."""


# Options that take several values after one flag (`--hidden 100 50`), which click has no syntax
# for; they are rewritten to the repeated form (`--hidden 100 --hidden 50`) before parsing.
MULTI_VALUE_OPTIONS = {"--hidden": "number", "--target": "word", "--activation": "word", "--features": "word",
                       "--ignore": "word"}


def expand_multi_value_options(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        kind = MULTI_VALUE_OPTIONS.get(token)
        out.append(token)
        i += 1
        if kind is None:
            continue
        values = 0
        while i < len(argv) and not argv[i].startswith("-") and (kind == "word" or argv[i].isdigit()):
            if values:
                out.append(token)
            out.append(argv[i])
            values += 1
            i += 1
    return out


_registered = False


def _click_exceptions():
    """typer >= 0.20 vendors click as typer._click; older typers use click itself."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click import exceptions
    return exceptions


def _register_commands() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    from . import info_cmd, runs_cmd, train_cmd, use_cmd

    train_cmd.register(app)
    use_cmd.register(app)
    info_cmd.register(app)
    runs_cmd.register(app)
    for optional in ("explain_cmd", "export_cmd", "serve_cmd", "tune_cmd"):
        try:
            module = __import__(f"{__package__}.{optional}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{optional}":
                raise
            continue
        module.register(app)


def _one_line_warnings() -> None:
    """layerwise's own warnings print as 'warning: ...' on stderr, once each; others as Python prints them."""
    import warnings

    from ..errors import LayerwiseWarning

    default = warnings.showwarning
    shown = set()  # Python's own once-per-place registry resets whenever any code changes the filters

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, LayerwiseWarning):
            if str(message) not in shown:
                shown.add(str(message))
                print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> None:
    _register_commands()
    _one_line_warnings()
    args = expand_multi_value_options(list(sys.argv[1:] if argv is None else argv))
    try:
        _dispatch(args)
    except SystemExit as exc:
        _leave_worker(exc.code)
        raise
    finally:
        from ..distributed import stop_catching_sigterm

        stop_catching_sigterm()


def _leave_worker(code) -> None:
    """A DDP worker process (torchrun or --nproc-per-node) whose command is over leaves at once,
    with its exit code, skipping the interpreter's teardown: torch's gloo threads, destroyed in
    static destructors there, can abort a finished worker ("terminate called without an active
    exception", seen under load after a run had written everything), which failed the launch.
    Only the CLI's own worker processes: a user's script calling layerwise.train keeps control."""
    from .. import distributed

    if distributed.worker_env() is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


def _dispatch(args: list[str]) -> None:
    click = _click_exceptions()
    try:
        code = app(args=args, prog_name="layerwise", standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx else "layerwise --help")
        sys.exit(0)
    except click.UsageError as exc:  # bad flag or value: one line, like every user mistake
        command = f"layerwise {exc.ctx.info_name}" if exc.ctx and exc.ctx.parent else "layerwise"
        if exc.ctx is None and args and args[0] in {c.name for c in app.registered_commands}:
            command = f"layerwise {args[0]}"  # click names no command for an option missing its value
        print(f"error: {command}: {exc.format_message()} (see {command} --help)", file=sys.stderr)
        sys.exit(2)
    except click.ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except LayerwiseError as exc:
        from ..distributed import is_silent_rank

        if not getattr(exc, "quiet", False) and not is_silent_rank():  # DDP: rank 0 speaks for all
            print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except OSError as exc:  # a path the user named cannot be read or written (not a folder, read-only, disk full)
        if exc.filename is None:  # no file involved: not the user's path, so a bug's traceback
            raise
        print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except MemoryError:  # inputs are checked against the memory budget first; this is the backstop
        print("error: out of memory: the data or the network is too large for the memory this process may use",
              file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
