"""Where things are in a TOML text: tomllib keeps no positions, so the loader asks this module.

`locate(text)` maps a path such as `("duties", 3, "due")` or `("agencies", 0)` to the 1-based
line where that key (or array element / table header) starts. It understands `[table]`,
`[[array.of.tables]]`, dotted keys, inline tables and (multi-line) arrays, and is meant for text
tomllib has already accepted; on anything else it returns what it found so far, never raising.
"""

from __future__ import annotations

import bisect
import re

__all__ = ["locate", "line_of", "syntax_error_line"]

Path = tuple[str | int, ...]  # keys and array-of-tables indexes

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_AT_LINE = re.compile(r"at line (\d+)")


def syntax_error_line(message: str, text: str) -> int:
    """The line tomllib's error `message` points at ("… (at line N, column M)"), else the last line."""
    m = _AT_LINE.search(message)
    if m and len(m.group(1)) < 10:
        return int(m.group(1))
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


def line_of(lines: dict[Path, int], path: Path) -> int:
    """The line of the longest prefix of `path` that was located (0 when none was)."""
    for n in range(len(path), 0, -1):
        found = lines.get(tuple(path[:n]))
        if found:
            return found
    return 0


def locate(text: str) -> dict[Path, int]:
    """Map key paths to 1-based line numbers (see the module docstring)."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (IndexError, ValueError, RecursionError):
        pass
    return scanner.lines


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.lines: dict[Path, int] = {}
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._aot_counts: dict[Path, int] = {}
        self._aot_paths: set[Path] = set()

    # -- helpers ------------------------------------------------------------------------------
    def _line(self, pos: int) -> int:
        return bisect.bisect_right(self._starts, pos)

    def _record(self, path: Path, pos: int) -> None:
        self.lines.setdefault(tuple(path), self._line(pos))

    def _peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def _skip_ws(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            elif newlines and c == "#":
                self._skip_comment()
            else:
                return

    def _skip_comment(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = len(self.s) if end < 0 else end

    # -- grammar ------------------------------------------------------------------------------
    def document(self) -> None:
        table: Path = ()
        while True:
            self._skip_ws(newlines=True)
            if self.i >= len(self.s):
                return
            start = self.i
            if self._peek(2) == "[[":
                self.i += 2
                keys = self._key()
                self._expect("]]")
                path = self._resolve(keys)
                count = self._aot_counts.get(path, 0)
                self._aot_counts[path] = count + 1
                self._aot_paths.add(path)
                self._record(path, start)
                table = path + (count,)
                self._record(table, start)
            elif self._peek() == "[":
                self.i += 1
                keys = self._key()
                self._expect("]")
                table = self._resolve(keys)
                self._record(table, start)
            else:
                keys = self._key()
                self._skip_ws()
                self._expect("=")
                path = table + tuple(keys)
                for n in range(len(table) + 1, len(path) + 1):
                    self._record(path[:n], start)
                self._value(path)
            self._skip_ws()
            if self._peek() == "#":
                self._skip_comment()

    def _resolve(self, keys: list[str]) -> Path:
        """A header's key path with the current index inserted after each array of tables."""
        path: Path = ()
        for n, key in enumerate(keys, 1):
            path += (key,)
            if n < len(keys) and path in self._aot_paths:
                path += (self._aot_counts[path] - 1,)
        return path

    def _expect(self, token: str) -> None:
        self._skip_ws()
        if not self.s.startswith(token, self.i):
            raise ValueError(f"expected {token!r}")
        self.i += len(token)

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._skip_ws()
            c = self._peek()
            if c == '"':
                parts.append(self._basic_string())
            elif c == "'":
                end = self.s.index("'", self.i + 1)
                parts.append(self.s[self.i + 1 : end])
                self.i = end + 1
            else:
                m = _BARE_KEY.match(self.s, self.i)
                if not m:
                    raise ValueError("expected a key")
                parts.append(m.group())
                self.i = m.end()
            self._skip_ws()
            if self._peek() != ".":
                return parts
            self.i += 1

    def _basic_string(self) -> str:
        j = self.i + 1
        out = []
        while self.s[j] != '"':
            if self.s[j] == "\\":
                j += 1
            out.append(self.s[j])
            j += 1
        self.i = j + 1
        return "".join(out)

    def _multiline(self, quote: str) -> None:
        j = self.i + 3
        while True:
            if j >= len(self.s):
                raise ValueError("unterminated string")
            if quote == '"' and self.s[j] == "\\":
                j += 2
                continue
            if self.s.startswith(quote * 3, j):
                j += 3
                extra = 0
                while extra < 2 and j < len(self.s) and self.s[j] == quote:
                    j += 1
                    extra += 1
                self.i = j
                return
            j += 1

    def _value(self, path: Path) -> None:
        self._skip_ws()
        c = self._peek()
        if self._peek(3) in ('"""', "'''"):
            self._multiline(c)
        elif c == '"':
            self._basic_string()
        elif c == "'":
            self.i = self.s.index("'", self.i + 1) + 1
        elif c == "[":
            self._array(path)
        elif c == "{":
            self._inline_table(path)
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.i += 1

    def _array(self, path: Path) -> None:
        self.i += 1
        index = 0
        while True:
            self._skip_ws(newlines=True)
            if self._peek() == "]":
                self.i += 1
                return
            if self.i >= len(self.s):
                raise ValueError("unterminated array")
            before = self.i
            self._record(path + (index,), self.i)
            self._value(path + (index,))
            self._skip_ws(newlines=True)
            if self._peek() == ",":
                self.i += 1
                index += 1
            elif self.i == before or self._peek() != "]":
                raise ValueError("malformed array")

    def _inline_table(self, path: Path) -> None:
        self.i += 1
        while True:
            self._skip_ws()
            if self._peek() == "}":
                self.i += 1
                return
            if self.i >= len(self.s):
                raise ValueError("unterminated inline table")
            start = self.i
            keys = self._key()
            self._expect("=")
            full = path + tuple(keys)
            for n in range(len(path) + 1, len(full) + 1):
                self._record(full[:n], start)
            self._value(full)
            self._skip_ws()
            if self._peek() == ",":
                self.i += 1
            elif self._peek() != "}":
                raise ValueError("malformed inline table")
