"""The command line: `python -m eraser erase IMAGE MASK -o OUT [--keep-out KEEP]`,
`python -m eraser select IMAGE --box X0,Y0,X1,Y1 | --from ROUGH -o MASK`, `python -m eraser engines`,
`python -m eraser models [pull NAME]`, `python -m eraser serve [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import os
import select
import stat
import sys
import time
from pathlib import Path

from . import engines, models
from .errors import EraserError
from .images import MAX_FILE_BYTES, Photo, format_from_name
from .masks import encode_mask, load_mask, prepare
from .pipeline import DEFAULT_GROW, erase
from .select import DEFAULT_GROW as SELECT_GROW
from .select import parse_box, select_object

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # One line, like every other bad input, instead of argparse's usage block.
        sys.stderr.write(f"error: {message} (see --help)\n")
        sys.exit(EXIT_BAD_INPUT)


READ_SECONDS = 30.0  # a pipe or device that trickles or never ends


def _read(path: str, what: str) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes of a file, pipe or device, refused when it is more,
    when it is a folder, or when it is still not done after READ_SECONDS."""
    try:
        # Non-blocking, so a FIFO nobody writes to does not hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise EraserError(f"Cannot read the {what} '{path}': {exc.strerror or exc}.") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise EraserError(f"Cannot read the {what} '{path}': it is a folder, not a file.")
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
            raise _too_big(path, what)
        return _read_capped(fd, path, what, stat.S_ISREG(info.st_mode))
    except OSError as exc:
        raise EraserError(f"Cannot read the {what} '{path}': {exc.strerror or exc}.") from exc
    finally:
        os.close(fd)


def _read_capped(fd: int, path: str, what: str, regular: bool) -> bytes:
    deadline = time.monotonic() + READ_SECONDS
    chunks, size = [], 0
    while size <= MAX_FILE_BYTES:
        if not regular:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise EraserError(
                    f"Reading the {what} '{path}' took more than {READ_SECONDS:.0f} s, so it was stopped. "
                    "Give a file, or a pipe that ends."
                )
        try:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
        except BlockingIOError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_FILE_BYTES:
        raise _too_big(path, what)
    return b"".join(chunks)


def _too_big(path: str, what: str) -> EraserError:
    return EraserError(
        f"The {what} '{path}' is larger than {MAX_FILE_BYTES // 2**20} MB, the limit. Save it smaller and try again."
    )


def _erase(args: argparse.Namespace) -> int:
    photo = Photo.open(_read(args.image, "image"), name=Path(args.image).name)
    out = Path(args.output) if args.output else Path(args.image).with_name(photo.output_name())
    fmt = format_from_name(out.name)
    # The mask is checked (and grown) before a model is fetched for it.
    mask = prepare(load_mask(_read(args.mask, "mask"), photo.size), photo.size, args.grow)
    keep_out = None
    if args.keep_out:
        keep_out = load_mask(_read(args.keep_out, "keep-out mask"), photo.size, noun="keep-out mask")
    engine = engines.get(args.engine, args.model_file)
    if args.model_file:
        print(f"note: {args.model_file} is your own model file: its checksum is not checked "
              "against the published one (the self-check still runs).", file=sys.stderr)
    engine.load(progress=ProgressBar())
    result = erase(photo, mask, engine=engine, grow=0, keep_out=keep_out)
    _write(out, result.encode(fmt))
    if getattr(engine, "note", "") and "PatchMatch" in result.filled_by:  # auto fell back, and it mattered
        print(f"note: {engine.note}", file=sys.stderr)
    return 0


def _write(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise EraserError(f"Cannot write '{out}': {exc.strerror or exc}.") from exc
    print(out)


def _select(args: argparse.Namespace) -> int:
    if args.box is None and args.rough is None:
        raise EraserError("Say what to select: --box X0,Y0,X1,Y1 around the object, --from a rough mask over it, or both.")
    box = None if args.box is None else parse_box(args.box)  # before a large photo is read
    out = Path(args.output) if args.output else Path(args.image).with_name(f"{Path(args.image).stem}_mask.png")
    if out.suffix.lower() != ".png":
        raise EraserError(f"Cannot write '{out.name}': a mask is saved as PNG, so choose a name ending in .png.")
    photo = Photo.open(_read(args.image, "image"), name=Path(args.image).name)
    rough = None
    if args.rough:
        rough = load_mask(_read(args.rough, "rough mask"), photo.size, noun="rough mask")
    _write(out, encode_mask(select_object(photo.pixels, box, rough, grow=args.grow)))
    return 0


def _engines(args: argparse.Namespace) -> int:
    for name in engines.names():
        print(name)
    return 0


class ProgressBar:
    """A download's progress on stderr: a redrawn bar on a terminal, a line at the end elsewhere."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent == self.shown:
            return
        self.shown = percent
        line = f"downloading {done / 1e6:6.1f} / {total / 1e6:.1f} MB  {percent:3d}%"
        if self.stream.isatty():
            bar = "#" * (percent // 4)
            self.stream.write(f"\r[{bar:<25}] {line}" + ("\n" if done >= total else ""))
        elif done >= total:
            self.stream.write(line + "\n")
        self.stream.flush()


def _models(args: argparse.Namespace) -> int:
    if args.action == "pull":
        if not args.name:
            raise EraserError(f"Name the model to fetch: python -m eraser models pull {'|'.join(models.MODELS)}.")
        print(models.pull(models.get(args.name), progress=ProgressBar()))
        return 0
    print(f"models in {models.directory()}" + (" (downloads off)" if models.offline() else ""))
    for model in models.MODELS.values():
        state = "present" if models.present(model) else "not downloaded"
        print(f"{model.name:<6} {model.title:<7} {model.size / 1e6:6.1f} MB  {model.licence:<10} {state:<14} {model.source}")
    return 0


def port(text: str) -> int:
    number = int(text)  # argparse reports a ValueError as "invalid port value"
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {number}")
    return number


def _serve(args: argparse.Namespace) -> int:
    from .server.run import serve  # imported here: only this command needs fastapi and uvicorn

    try:
        serve(args.host, args.port, progress=ProgressBar())
    except ValueError as exc:  # a bad ERASER_* setting
        raise EraserError(str(exc)) from exc
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m eraser", description="Erase objects from photos.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("erase", help="erase the masked part of a photo")
    run.add_argument("image", help="photo: JPEG, PNG, BMP or WEBP")
    run.add_argument("mask", help="mask image: white (non-zero) = erase")
    run.add_argument("-o", "--output", help="output file (default: <stem>_erased.<ext> beside the photo)")
    run.add_argument("--engine", choices=engines.names(), default=engines.DEFAULT)
    run.add_argument("--grow", type=int, default=DEFAULT_GROW, metavar="PX", help="widen the mask by PX pixels")
    run.add_argument("--model-file", metavar="PATH",
                     help="run --engine migan or lama with this ONNX file instead of the published download")
    run.add_argument("--keep-out", metavar="KEEP",
                     help="mask image of regions the fill must not copy from (where it overlaps MASK, MASK wins)")
    run.set_defaults(func=_erase)

    pick = commands.add_parser("select", help="write the mask of the object in a box or under a rough mask")
    pick.add_argument("image", help="photo: JPEG, PNG, BMP or WEBP")
    pick.add_argument("--box", metavar="X0,Y0,X1,Y1", help="a box around the object, in photo pixels")
    pick.add_argument("--from", dest="rough", metavar="ROUGH", help="a mask painted roughly over the object")
    pick.add_argument("-o", "--output", help="the mask, a PNG (default: <stem>_mask.png beside the photo)")
    pick.add_argument("--grow", type=int, default=SELECT_GROW, metavar="PX",
                      help=f"widen the outline by PX pixels against halos (default {SELECT_GROW})")
    pick.set_defaults(func=_select)

    listing = commands.add_parser("engines", help="list the engines, one per line")
    listing.set_defaults(func=_engines)

    catalogue = commands.add_parser("models", help="list the learned models, or fetch one: models pull NAME")
    catalogue.add_argument("action", nargs="?", choices=["pull"], help="fetch a model now")
    catalogue.add_argument("name", nargs="?", choices=list(models.MODELS), help="the model to fetch")
    catalogue.set_defaults(func=_models)

    server = commands.add_parser("serve", help="serve the image-erase API (the AILabTools contract) over HTTP")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    server.add_argument("--port", type=port, default=8000)
    server.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EraserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
