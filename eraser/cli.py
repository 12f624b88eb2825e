"""The command line: `eraser erase IMAGE MASK -o OUT [--keep-out KEEP]`, `eraser select IMAGE --box
X0,Y0,X1,Y1 | --from ROUGH -o MASK`, `eraser batch PHOTOS -o OUT (--mask MASK | --masks MASKS)`,
`eraser engines`, `eraser models [pull NAME]`, `eraser serve [--host H] [--port P]`;
`python -m eraser ...` is the same without installing."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from . import __version__, engines, models
from .backends import Local
from .errors import EraserError, RemoteError
from .files import read as _read
from .files import write_atomic
from .images import Photo, format_from_name
from .masks import encode_mask, load_mask, prepare
from .pipeline import DEFAULT_GROW
from .select import DEFAULT_GROW as SELECT_GROW
from .select import parse_box, select_object

EXIT_SOME_FAILED = 1  # batch: the others were done
EXIT_BAD_INPUT = 2
MAX_WORKERS = 64


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # One line, like every other bad input, instead of argparse's usage block.
        sys.stderr.write(f"error: {message} (see --help)\n")
        sys.exit(EXIT_BAD_INPUT)


def _erase(args: argparse.Namespace) -> int:
    photo = Photo.open(_read(args.image, "image"), name=Path(args.image).name)
    out = Path(args.output) if args.output else Path(args.image).with_name(photo.output_name())
    fmt = format_from_name(out.name)
    # The mask is checked (and grown) before a model is fetched for it.
    mask = prepare(load_mask(_read(args.mask, "mask"), photo.size), photo.size, args.grow)
    keep_out = None
    if args.keep_out:
        keep_out = load_mask(_read(args.keep_out, "keep-out mask"), photo.size, noun="keep-out mask")
    backend = Local(args.engine, args.model_file)
    _note_own_model(args.model_file)
    backend.load(progress=ProgressBar())
    result = backend.erase(photo, mask, grow=0, keep_out=keep_out)
    _write(out, result.photo.encode(fmt))
    if result.note:  # auto fell back, and PatchMatch filled an object
        print(f"note: {backend.reason}", file=sys.stderr)
    return 0


def _write(out: Path, data: bytes) -> None:
    write_atomic(out, data)
    print(out)


def _select(args: argparse.Namespace) -> int:
    if args.box is None and args.rough is None:
        raise EraserError("Say what to select: --box X0,Y0,X1,Y1 around the object, "
                          "--from a rough mask over it, or both.")
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


def _note_own_model(model_file: str | None) -> None:
    if model_file:
        print(f"note: {model_file} is your own model file: its checksum is not checked "
              "against the published one (the self-check still runs).", file=sys.stderr)


def _batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # imported here: only this command draws a bar per photo

    from . import batch  # and only this one runs worker processes

    if args.remote and (args.model_file or args.engine != engines.DEFAULT):
        raise EraserError("With --remote the server chooses the engine: leave out --engine and --model-file.")
    photos = batch.Batch(args.photos, args.output, mask=args.mask, masks_dir=args.masks, grow=args.grow,
                         overwrite=args.overwrite, keep_out=args.keep_out)
    if args.remote:
        try:
            outcomes = photos.run_remote(args.remote, args.workers)
        except RemoteError as error:
            if error.code != "BAD_API_URL":
                raise
            raise EraserError("The --remote address must be a plain https:// address "
                              "(http:// only for a server on this machine).") from None
    else:
        _note_own_model(args.model_file)
        outcomes = photos.run(batch.Settings(args.engine, args.model_file), args.workers, ProgressBar())
    counts: Counter[str] = Counter()
    failed, filled_by = [], set()
    try:
        # disable=None: a bar on a terminal only, not in a log or a pipe.
        with tqdm(total=photos.total, unit="photo", disable=None, file=sys.stderr) as bar:
            for outcome in outcomes:
                counts[outcome.status] += 1
                if outcome.status == batch.FAILED:
                    failed.append(outcome)
                filled_by.update(outcome.filled_by.split(", "))
                bar.update()
    except KeyboardInterrupt:
        outcomes.close()
        print(f"stopped after {counts[batch.DONE]} done: run the same command again to go on "
              "(finished photos are skipped).", file=sys.stderr)
        return 130
    why = " (their output was there already: --overwrite redoes them)" if counts[batch.SKIPPED] else ""
    print(f"{counts[batch.DONE]} done, {counts[batch.SKIPPED]} skipped{why}, {counts[batch.FAILED]} failed; "
          f"outputs in {args.output}")
    for outcome in sorted(failed, key=lambda o: o.photo):
        print(f"failed {outcome.photo}: {outcome.reason}")
    if photos.engine_note and "PatchMatch" in filled_by:  # auto fell back, and it mattered
        print(f"note: {photos.engine_note}", file=sys.stderr)
    return EXIT_SOME_FAILED if failed else 0


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
        print(f"{model.name:<6} {model.title:<7} {model.size / 1e6:6.1f} MB  {model.licence:<10} {state:<14} "
              f"{model.source}")
    return 0


def port(text: str) -> int:
    number = int(text)  # argparse reports a ValueError as "invalid port value"
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {number}")
    return number


def workers(text: str) -> int:
    number = int(text)
    if not 1 <= number <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"workers must be between 1 and {MAX_WORKERS}, not {number}")
    return number


def _serve(args: argparse.Namespace) -> int:
    from .server.run import serve  # imported here: only this command needs fastapi and uvicorn

    try:
        serve(args.host, args.port, progress=ProgressBar())
    except ValueError as exc:  # a bad ERASER_* setting
        raise EraserError(str(exc)) from exc
    return 0


def _engine_options(command: argparse.ArgumentParser) -> None:
    """How to erase, the same for one photo (erase) and a folder (batch)."""
    command.add_argument("--engine", choices=engines.names(), default=engines.DEFAULT)
    command.add_argument("--grow", type=int, default=DEFAULT_GROW, metavar="PX", help="widen the mask by PX pixels")
    command.add_argument("--model-file", metavar="PATH",
                         help="run --engine migan or lama with this ONNX file instead of the published download")
    command.add_argument("--keep-out", metavar="KEEP",
                         help="mask image of regions the fill must not copy from (a mask over them wins)")


def build_parser(prog: str = "eraser") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="Erase objects from photos.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("erase", help="erase the masked part of a photo")
    run.add_argument("image", help="photo: JPEG, PNG, BMP or WEBP")
    run.add_argument("mask", help="mask image: white (non-zero) = erase")
    run.add_argument("-o", "--output", help="output file (default: <stem>_erased.<ext> beside the photo)")
    _engine_options(run)
    run.set_defaults(func=_erase)

    pick = commands.add_parser("select", help="write the mask of the object in a box or under a rough mask")
    pick.add_argument("image", help="photo: JPEG, PNG, BMP or WEBP")
    pick.add_argument("--box", metavar="X0,Y0,X1,Y1", help="a box around the object, in photo pixels")
    pick.add_argument("--from", dest="rough", metavar="ROUGH", help="a mask painted roughly over the object")
    pick.add_argument("-o", "--output", help="the mask, a PNG (default: <stem>_mask.png beside the photo)")
    pick.add_argument("--grow", type=int, default=SELECT_GROW, metavar="PX",
                      help=f"widen the outline by PX pixels against halos (default {SELECT_GROW})")
    pick.set_defaults(func=_select)

    many = commands.add_parser(
        "batch", help="erase every photo of a folder: one mask for all, or a mask per photo by name",
        description="Erase every photo (.jpg .jpeg .png .bmp .webp) of PHOTOS into OUT as <stem>_erased.<ext>. "
                    "Exit code: 0 when every photo was done or skipped, 1 when any failed, 2 for bad arguments.")
    many.add_argument("photos", metavar="PHOTOS", help="folder of photos")
    many.add_argument("-o", "--output", metavar="OUT", required=True, help="folder for the results (made if missing)")
    masks = many.add_mutually_exclusive_group(required=True)
    masks.add_argument("--mask", metavar="MASK", help="one mask for every photo of its exact size")
    masks.add_argument("--masks", metavar="MASKS",
                       help="folder of masks by name: a.jpg takes a.png or a_mask.png (any image format)")
    _engine_options(many)
    many.add_argument("--workers", type=workers, metavar="N",
                      help="photos at a time: worker processes, or requests with --remote (default: the cores)")
    many.add_argument("--overwrite", action="store_true", help="redo photos whose output exists (default: skip them)")
    many.add_argument("--remote", metavar="URL",
                      help="erase through a compatible server (key from AILAB_API_KEY) instead of on this machine")
    many.set_defaults(func=_batch)

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


def main(argv: list[str] | None = None, prog: str = "eraser") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return args.func(args)
    except EraserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
