"""Writing records as json, jsonl, csv or a table, one record at a time, and the progress bar.

Formatting only: no requests, no credentials. The bar is rich's, drawn on stderr and only when
stderr is a terminal (or when forced), so piped output and logs stay clean.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import decimal
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import IO, Any

import attrs

FORMATS = ("json", "jsonl", "csv", "table")
CSV_HEADER_WINDOW = 100
"""csv reads this many records (one page) before writing its header, so that columns empty
in the very first record still get one."""

# Characters a terminal acts on: C0 controls, DEL, C1 controls (ESC starts CSI and OSC 52, which
# writes the clipboard; 0x9b is an 8-bit CSI), and the bidi overrides that reorder a line.
_CONTROLS = (*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _escapes(keep: str) -> dict[int, str]:
    return {
        code: f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
        for code in _CONTROLS
        if chr(code) not in keep
    }


_SAFE_TEXT = _escapes("\n\t")
_SAFE_CELL = _escapes("\n")
_SAFE_LINE = _escapes("")
_SAFE_JSON = {code: f"\\u{code:04x}" for code in _CONTROLS if code >= 0x7F}


def terminal_safe(text: str, *, keep_newlines: bool = True) -> str:
    """Server text made harmless for a terminal: every control character but newline and tab
    (none at all with `keep_newlines=False`) is written out as `\\xNN`, so an escape
    sequence is shown, never obeyed, even when the output is piped into something that is."""
    text = text.replace("\r\n", "\n")
    return text.translate(_SAFE_TEXT if keep_newlines else _SAFE_LINE)


def json_safe(text: str) -> str:
    """JSON text (whose C0 controls json.dumps already escapes) with DEL, the C1 controls and
    bidi overrides written as `\\u00NN`: still the same JSON value, harmless on a terminal."""
    return text.translate(_SAFE_JSON)


def to_plain(record: Any) -> Any:
    """A model (attrs) as plain JSON-ready data; anything else unchanged."""
    if attrs.has(type(record)):
        from acme_powerschool.convert import default_converter

        return default_converter().unstructure(record)
    return record


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if attrs.has(type(value)):
        return to_plain(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def dumps(value: Any, *, pretty: bool) -> str:
    """JSON text; `pretty` indents it for people, otherwise one line."""
    if pretty:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=_json_default)
    else:
        text = json.dumps(value, ensure_ascii=False, default=_json_default, separators=(",", ":"))
    return json_safe(text)


def flat(record: Any) -> dict[str, Any]:
    """One level of `parent.child` keys (what csv and table show)."""
    from acme_powerschool.pager import flatten_record

    return flatten_record(to_plain(record))


def model_columns(cls: type, prefix: str = "") -> list[str]:
    """The flattened column names of a model class, in field order (nested models inlined);
    [] for anything that is not a model."""
    if not attrs.has(cls):
        return []
    import typing

    from acme_powerschool.convert import wire_key

    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable annotations: keep the records' own order
        return []
    columns: list[str] = []
    for field in attrs.fields(cls):
        if field.name == "extra":
            continue
        key = prefix + wire_key(field)
        inner = [t for t in typing.get_args(hints.get(field.name)) if t is not type(None)]
        target = inner[0] if len(inner) == 1 else hints.get(field.name)
        nested = model_columns(target, key + ".") if isinstance(target, type) else []
        columns.extend(nested or [key])
    return columns


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.translate(_SAFE_CELL)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict | tuple):
        return dumps(value, pretty=False)
    return str(_json_default(value)) if not isinstance(value, int | float) else str(value)


class RecordWriter:
    """Writes records to a text stream in one format, as they come.

    json writes one array (or one object with `single=True`), jsonl one object per line, csv a
    header from the first records' columns (in the order of `columns` when given, which is also
    the header of an empty result), table one rich table at the end (it has to see every row to
    size its columns). `warn` receives notes meant for stderr.
    """

    def __init__(
        self,
        stream: IO[str],
        fmt: str,
        *,
        single: bool = False,
        warn: Callable[[str], None] | None = None,
        columns: Sequence[str] = (),
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        self.stream = stream
        self.fmt = fmt
        self.single = single
        self.count = 0
        self._warn = warn or (lambda _: None)
        self._csv: csv.DictWriter[str] | None = None
        self._dropped: set[str] = set()
        self._pending: list[tuple[Any, dict[str, Any]]] = []
        self._rows: list[dict[str, Any]] = []
        self._columns = list(columns)

    def write(self, record: Any) -> None:
        self.count += 1
        if self.fmt == "json":
            text = dumps(to_plain(record), pretty=True)
            if self.single:
                self.stream.write(text + "\n")
            else:
                indented = "\n".join("  " + line for line in text.splitlines())
                self.stream.write(("[\n" if self.count == 1 else ",\n") + indented)
        elif self.fmt == "jsonl":
            self.stream.write(dumps(to_plain(record), pretty=False) + "\n")
        elif self.fmt == "csv":
            self._write_csv(record)
        else:
            self._rows.append(flat(record))
        if self.fmt != "table":
            self.stream.flush()

    def _write_csv(self, record: Any) -> None:
        if self._csv is None:
            self._pending.append((record, flat(record)))
            if len(self._pending) >= CSV_HEADER_WINDOW:
                self._start_csv()
            return
        self._csv_row(flat(record))

    def _start_csv(self) -> None:
        """The header: every column of the first records, in the model's field order."""
        columns: dict[str, None] = dict.fromkeys(self._columns)
        for _, row in self._pending:
            columns.update(dict.fromkeys(row))
        order = self._columns or (model_columns(type(self._pending[0][0])) if self._pending else [])
        rank = {name: index for index, name in enumerate(order)}
        names = sorted(columns, key=lambda name: rank.get(name, len(rank)))
        self._csv = csv.DictWriter(
            self.stream, fieldnames=names, extrasaction="ignore", lineterminator="\n"
        )
        self._csv.writeheader()
        pending, self._pending = self._pending, []
        for _, row in pending:
            self._csv_row(row)

    def _csv_row(self, row: dict[str, Any]) -> None:
        assert self._csv is not None
        new = [key for key in row if key not in self._csv.fieldnames and key not in self._dropped]
        if new:
            self._dropped.update(new)
            self._warn(
                f"warning: column(s) {', '.join(new)} first appeared after the csv header was "
                "written and are left out; use --format jsonl to keep every field"
            )
        self._csv.writerow({key: _cell(value) for key, value in row.items()})

    def close(self) -> None:
        if self.fmt == "json" and not self.single:
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.fmt == "csv" and self._csv is None and (self._pending or self._columns):
            self._start_csv()
        elif self.fmt == "table":
            self._write_table()
        self.stream.flush()

    def _write_table(self) -> None:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        columns: dict[str, None] = dict.fromkeys(self._columns)
        for row in self._rows:
            columns.update(dict.fromkeys(row))
        table = Table(show_lines=False)
        for column in columns:  # Text, never markup: a server's "[link=...]" stays text
            table.add_column(Text(_cell(column)), overflow="fold")
        for row in self._rows:
            table.add_row(*(Text(_cell(row.get(column))) for column in columns))
        width = None if self.stream.isatty() else max(80, 20 * len(columns))
        console = Console(file=self.stream, width=width, color_system=None, soft_wrap=False)
        console.print(table)


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[IO[str]]:
    """stdout, or `path` written through a temporary file that replaces it only on success
    (a failed run never leaves half a file that looks complete)."""
    if path is None or path == "-":
        yield sys.stdout
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:  # it would name the temporary file: name the one asked for
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, _export_mode(path))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _export_mode(path: str) -> int:
    """The mode an export gets: the replaced file's, else what the umask allows (0644 under the
    usual 022), so a loader running as another user can read it. mkstemp alone would make it
    0600; credential files are not written here and stay 0600."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# -- progress -------------------------------------------------------------------------------


PROGRESS_WIDTH = 80
LABEL_WIDTH = 20


class Progress:
    """Records done / total (once `set_total` is told it), rate and time left, on stderr, in
    at most 80 columns whatever the numbers (the label is cut to 20 characters).

    A no-op when disabled; `transient` so the bar disappears when the run ends.
    """

    def __init__(
        self, description: str, total: int | None, *, enabled: bool, console: Any = None
    ) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        if console is None:
            console = Console(stderr=True, force_terminal=True)
            console.width = min(console.width, PROGRESS_WIDTH)
        label = terminal_safe(description, keep_newlines=False)
        if len(label) > LABEL_WIDTH:
            label = label[: LABEL_WIDTH - 1] + "…"
        self._progress = RichProgress(
            TextColumn(f"{{task.description:<{LABEL_WIDTH}}}", markup=False),
            BarColumn(bar_width=16),
            MofNCompleteColumn(),
            _rate_column(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(label, total=total)

    def __enter__(self) -> Progress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def renderable(self) -> Any:
        """What the bar draws now (tests measure its width)."""
        return self._progress.get_renderable() if self._progress is not None else None

    def set_total(self, total: int) -> None:
        """The record total, once known (the pager learns it from the first page)."""
        if self._progress is not None:
            self._progress.update(self._task, total=total, refresh=True)

    def advance(self, records: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, records)


def _rate_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Records per second, in a fixed width."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("   ? rec/s" if speed is None else f"{_short(speed):>4} rec/s")

    return RateColumn()


def _short(number: float) -> str:
    """1234 -> 1.2k, 5600000 -> 5.6M: a rate in four characters."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if number >= limit:
            return (
                f"{number / limit:.1f}{suffix}"
                if number < limit * 10
                else f"{number / limit:.0f}{suffix}"
            )
    return f"{number:.0f}"


def show_progress(forced: bool | None) -> bool:
    """The bar is drawn when asked for, else when stderr is a terminal."""
    return stderr_is_terminal() if forced is None else forced


def copy_records(
    source: Iterable[Any],
    writer: RecordWriter,
    *,
    label: str,
    progress: bool,
    limit: int | None = None,
) -> None:
    """Every record of `source` (a Pager: page by page, with the bar and its total) into
    `writer`, stopping after `limit` records; the writer is closed at the end."""
    with Progress(label, limit, enabled=progress) as bar:
        pages: Iterable[Sequence[Any]]
        if hasattr(source, "iter_pages"):
            if progress:
                total = (lambda n: bar.set_total(min(n, limit))) if limit else bar.set_total
                source = source.with_options(on_count=total)  # type: ignore[attr-defined]
            pages = source.iter_pages()
        else:
            pages = ([record] for record in source)
        for page in pages:
            for record in page[: None if limit is None else limit - writer.count]:
                writer.write(record)
            bar.advance(len(page))
            if limit is not None and writer.count >= limit:
                break
    writer.close()


def stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
