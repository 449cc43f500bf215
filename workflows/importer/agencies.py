"""The agency registry (`workflows/agencies/*.toml`) and reading a plan's agency cells (pure).

A cell such as "Sở VHTTDL, Công an tỉnh và các đơn vị liên quan" becomes agencies
[VHTTDL, CA] and the vague remainder "các đơn vị liên quan" (kept as a note, never an agency).
Names are compared on a key that ignores accents, case, punctuation, the word "và" and a
trailing "tỉnh" / "tỉnh <province>" / "<province>"; a comma-separated cell is read by taking,
at each point, the longest run of pieces that names a registered agency.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from workflows.importer.text import ascii_code, clean, fold, words

__all__ = ["Agency", "Registry", "CellAgencies", "load_registry", "registry_dir"]

_STRONG = re.compile(r"\s*(?:\n|;|\+|•)\s*")
_WEAK = re.compile(r"(\s*,\s*|\s+và\s+|\s+va\s+|\s+cùng\s+)", re.IGNORECASE)
_LEAD_BULLET = re.compile(r"^[\-–•+*]\s*")
# The first word(s) of an agency's name: an unknown piece that starts otherwise continues the one before.
_HEADS = (
    "so",
    "ban",
    "uy ban",
    "ubnd",
    "ub",
    "trung tam",
    "cong an",
    "bo",
    "bao",
    "dai",
    "hoi",
    "van phong",
    "vp",
    "cong ty",
    "bao tang",
    "thu vien",
    "truong",
    "benh vien",
    "tinh doan",
    "lien doan",
    "dien luc",
    "vien thong",
    "cuc",
    "chi cuc",
    "doan",
    "nha hat",
    "doi",
    "phong",
    "mat tran",
    "buu dien",
    "kho bac",
    "ngan hang",
    "tong cong ty",
    "cang",
    "dang uy",
    "huyen uy",
    "thanh uy",
    "thi uy",
    "tinh uy",
    "hoc vien",
    "vien",
    "thanh tra",
    "bql",
    "bch",
    "ldld",
    "ca",
    "vnpt",
    "viettel",
    "tap doan",
    "nha",
    "khu",
    "lu doan",
    "trung doan",
    "su doan",
    "bo chi huy",
    "ho",
    "cac",
)
_LOCAL = re.compile(r"^(?:ubnd|uy ban nhan dan|ub) (huyen|thanh pho|tp|thi xa|tx|quan|thi tran|xa|phuong) (.+)$")
_LOCAL_KIND = {
    "huyen": "huyện",
    "thanh pho": "thành phố",
    "tp": "thành phố",
    "thi xa": "thị xã",
    "tx": "thị xã",
    "quan": "quận",
    "thi tran": "thị trấn",
    "xa": "xã",
    "phuong": "phường",
}


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    name_en: str = ""


@dataclass
class CellAgencies:
    """What one cell names: agencies in order, unknown names (also in `agencies`), vague groups."""

    agencies: list[Agency] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    vague: list[str] = field(default_factory=list)


def registry_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "agencies"


class Registry:
    """Registered agencies by name key, plus the codes made up for unknown names in one import."""

    def __init__(self, agencies: list[tuple[Agency, list[str]]], provinces: list[str]) -> None:
        self._places = sorted({tuple(words(p)) for p in provinces if words(p)}, key=len, reverse=True)
        self._by_key: dict[str, Agency] = {}
        self.codes: set[str] = set()
        for agency, aliases in agencies:
            self.codes.add(agency.code)
            for alias in (agency.name, *aliases, agency.code):
                k = self.key(alias)
                if k:
                    self._by_key[k] = agency
        self._made: dict[str, Agency] = {}

    def key(self, name: str) -> str:
        ws = [w for w in words(name) if w != "va"]
        changed = True
        while changed and len(ws) > 1:
            changed = False
            for place in self._places:
                if len(ws) > len(place) and tuple(ws[-len(place) :]) == place:
                    ws, changed = ws[: -len(place)], True
                    break
            if len(ws) > 1 and ws[-1] == "tinh":
                ws, changed = ws[:-1], True
        return "".join(ws)

    def _trim(self, tokens: list[str]) -> list[str]:
        """Original words without a trailing "tỉnh" / province name (for made-up codes)."""
        changed = True
        while changed and len(tokens) > 1:
            changed = False
            folded = ["".join(words(t)) for t in tokens]
            for place in self._places:
                if len(tokens) > len(place) and tuple(folded[-len(place) :]) == place:
                    tokens, changed = tokens[: -len(place)], True
                    break
            if len(tokens) > 1 and fold(tokens[-1]) == "tinh":
                tokens, changed = tokens[:-1], True
        return tokens

    def find(self, name: str) -> Agency | None:
        """The registered (or already made-up) agency `name` names, else None."""
        k = self.key(name)
        return self._by_key.get(k) or self._made.get(k)

    def local_government(self, name: str) -> Agency | None:
        """ "UBND huyện Nam Đàn" → UBND-NAMDAN by rule (any district, town or city)."""
        m = _LOCAL.match(fold(name))
        if m is None or fold(m.group(2)).startswith("cac "):
            return None
        kind, place = m.group(1), _strip_place_tail(name, m.group(2))
        code = f"UBND-{ascii_code(place, 20)}"
        return Agency(code, f"UBND {_LOCAL_KIND[kind]} {place}", f"{place} People's Committee")

    def make(self, name: str) -> Agency:
        """A code for a name the registry does not know: its initials, made unique."""
        known = self.find(name)
        if known is not None:
            return known
        ws = words(name)
        parts = []
        for orig in self._trim(re.findall(r"[\wĐđ]+", name)):
            folded = "".join(words(orig))
            if not folded:
                continue
            parts.append(folded.upper() if orig.isupper() and len(orig) > 1 else folded[0].upper())
        base = ("".join(parts) or ascii_code(name) or "CQ")[:10]
        code, n = base, 2
        while code in self.codes:
            code, n = f"{base}{n}", n + 1
        self.codes.add(code)
        agency = Agency(code, clean(name).replace("\n", " "), "")
        self._made[self.key(name) or "".join(ws)] = agency
        return agency

    # -- one cell ---------------------------------------------------------------------------
    def read_cell(self, text: str) -> CellAgencies:
        out = CellAgencies()
        for chunk in _STRONG.split(clean(text)):
            chunk = _LEAD_BULLET.sub("", chunk.strip()).strip(" .,:")
            if chunk:
                self._read_chunk(chunk, out)
        unique: dict[str, Agency] = {}
        for a in out.agencies:
            unique.setdefault(a.code, a)  # the first of each code, in order
        out.agencies = list(unique.values())
        return out

    def _read_chunk(self, chunk: str, out: CellAgencies) -> None:
        tokens = _WEAK.split(chunk)  # piece, separator, piece, …
        pieces = tokens[0::2]
        seps = tokens[1::2]
        i, pending_unknown = 0, ""
        while i < len(pieces):
            match = None
            for j in range(len(pieces) - 1, i - 1, -1):
                text = _join(pieces, seps, i, j)
                agency = self.find(text) or (self.local_government(text) if j == i else None)
                if agency is not None:
                    match = (j, agency)
                    break
            if match is not None:
                if pending_unknown:
                    self._unknown(pending_unknown, out)
                    pending_unknown = ""
                out.agencies.append(match[1])
                i = match[0] + 1
                continue
            piece = pieces[i].strip(" .:")
            folded = fold(piece)
            if _is_vague(folded):
                if pending_unknown:
                    self._unknown(pending_unknown, out)
                    pending_unknown = ""
                out.vague.append(_join(pieces, seps, i, len(pieces) - 1).strip(" .:"))
                return
            if pending_unknown and not _starts_like_agency(folded):
                pending_unknown = pending_unknown + seps[i - 1] + piece  # "Trung tâm Văn hóa, Điện ảnh"
            else:
                if pending_unknown:
                    self._unknown(pending_unknown, out)
                pending_unknown = piece
            i += 1
        if pending_unknown:
            self._unknown(pending_unknown, out)

    def _unknown(self, name: str, out: CellAgencies) -> None:
        name = name.strip(" .,:")
        if not words(name):
            return
        agency = self.make(name)
        out.agencies.append(agency)
        out.unknown.append(name)


def _join(pieces: list[str], seps: list[str], i: int, j: int) -> str:
    text = pieces[i]
    for k in range(i + 1, j + 1):
        text += seps[k - 1] + pieces[k]
    return text


def _strip_place_tail(name: str, folded_place: str) -> str:
    """The place as written in `name` ("UBND huyện Nam Đàn" → "Nam Đàn"), without a trailing "tỉnh …"."""
    ws = name.split()
    n = len(folded_place.split())
    place = " ".join(ws[-n:]) if n <= len(ws) else folded_place
    return re.split(r"\s+tỉnh\b", place, flags=re.IGNORECASE)[0].strip(" ,.")


def _is_vague(folded: str) -> bool:
    return (
        folded.startswith("cac ")
        or folded in ("cac", "lien quan")
        or "lien quan" in folded
        or folded.startswith("nhung ")
        or " cac " in f" {folded} "
        and not folded.startswith("ban ")
    )


def _starts_like_agency(folded: str) -> bool:
    return any(folded == h or folded.startswith(h + " ") for h in _HEADS)


def load_registry(folder: Path | None = None) -> Registry:
    """Every `*.toml` in `folder` (default: the bundled registry), files in name order."""
    folder = folder or registry_dir()
    agencies: list[tuple[Agency, list[str]]] = []
    provinces: list[str] = []
    for f in sorted(Path(folder).glob("*.toml")):
        data = tomllib.loads(f.read_text(encoding="utf-8"))
        provinces += list((data.get("registry") or {}).get("provinces") or [])
        for a in data.get("agencies") or []:
            agencies.append((Agency(a["code"], a["name"], a.get("name_en", "")), list(a.get("aliases") or [])))
    return Registry(agencies, provinces)
