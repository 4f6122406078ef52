"""Text from files and storages made safe to print: control characters shown escaped, never obeyed.

A column name, a study name or a file name can hold terminal escapes (`\\x1b[31m`, `\\x1b]0;title\\x07`),
a carriage return or a newline. Printed raw, they recolour or retitle the user's terminal or forge a
line that looks like lstmexp's own output. Two layers keep them out:
- `printable` escapes every control character of one name or value (newlines included) where such text
  enters a message, so a name stays on its line;
- `SafeConsole` escapes any control character left in the text it renders (not the styles and cursor
  moves rich itself emits), so a name that reaches a table or a line unescaped still cannot act.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# Format characters that reorder what the eye sees (bidirectional overrides and isolates).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, keep: str = "") -> str:
    """`text` with every control character (except those in `keep`) written as an escape: `\\x1b`, `\\n`.

    Use it on one name or value from a file or a storage (column, study, path, attribute).
    """
    value = str(text)
    if not any(_is_control(char) and char not in keep for char in value):
        return value
    return "".join(_escaped(char) if _is_control(char) and char not in keep else char for char in value)


def SafeConsole(*args: Any, **kwargs: Any) -> Console:
    """A rich Console that escapes control characters inside the text it prints.

    Rich's own output (styles, cursor control, the newlines and tabs it lays out) is untouched: only
    the characters of text segments are escaped, so a foreign escape prints as `\\x1b[31m`. Built on
    first use so that importing this module (the error path of every command) loads no rich.
    """
    return _safe_console_class()(*args, **kwargs)


@lru_cache(maxsize=1)
def _safe_console_class() -> type[Console]:
    from rich.console import Console
    from rich.segment import Segment

    class _SafeConsole(Console):
        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            return super()._render_buffer(
                segment if segment.control or not segment.text
                else Segment(printable(segment.text, keep="\n\t"), segment.style, segment.control)
                for segment in buffer
            )

    return _SafeConsole
