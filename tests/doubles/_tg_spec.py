"""Bot API spec loading and request validation for the Telegram double.

The official method/type list (``api.min.json``) is compiled once into per-method field
maps of small checker functions, so validating a request costs a dict lookup and one call
per parameter.  Top-level parameters are coerced the way the real Bot API server does
(every parameter arrives as a string in form/multipart bodies: ``"123"`` is an Integer,
``"true"`` a Boolean, objects and arrays are JSON-serialized); nested JSON is checked
strictly: unknown fields, missing required fields and wrong basic types are rejected.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_ENV = "DUTYBOT_TG_API_SPEC"
DEFAULT_SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared/data/telegram-bot-api/api.min.json"


class ApiError(Exception):
    """An error answer of the Bot API (``{"ok": false, ...}``).

    ``violation`` marks errors caused by a request that breaks the spec or Telegram's rules
    (recorded in ``TelegramDouble.validation_errors``), as opposed to state-dependent
    answers such as a blocked user, a flood wait or "message is not modified".
    """

    def __init__(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool = False,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.violation = violation

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(message: str, *, violation: bool = True) -> ApiError:
    return ApiError(400, f"Bad Request: {message}", violation=violation)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class Mismatch(Exception):
    """Internal: a value does not match its declared type."""


Checker = Callable[[Any, str, bool], Any]

_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOL_STRINGS = {"true": True, "false": False, "1": True, "0": False}
_CONST_RE = re.compile(r'(?:must be|always) "?([a-z_]+)"?\s*$')
_DISCRIMINATORS = ("type", "source", "status")


def _loads(value: str, path: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise Mismatch(f"can't parse {path} JSON object") from None


def _check_int(v: Any, path: str, top: bool) -> int:
    if type(v) is int:
        return v
    if isinstance(v, str) and _INT_RE.fullmatch(v.strip()):
        return int(v)
    raise Mismatch(f"{path} must be an Integer")


def _check_float(v: Any, path: str, top: bool) -> float:
    if type(v) in (int, float):
        return v
    if isinstance(v, str) and _FLOAT_RE.fullmatch(v.strip()):
        return float(v)
    raise Mismatch(f"{path} must be a Float")


def _check_str(v: Any, path: str, top: bool) -> str:
    if isinstance(v, str):
        return v
    if type(v) in (int, float):  # the Bot API stringifies JSON numbers
        return json.dumps(v)
    raise Mismatch(f"{path} must be a String")


def _check_bool(v: Any, path: str, top: bool) -> bool:
    if type(v) is bool:
        return v
    if top and isinstance(v, str) and v.lower() in _BOOL_STRINGS:
        return _BOOL_STRINGS[v.lower()]
    raise Mismatch(f"{path} must be a Boolean")


def _check_true(v: Any, path: str, top: bool) -> bool:
    if _check_bool(v, path, top) is not True:
        raise Mismatch(f"{path} must be True")
    return True


def _check_file(v: Any, path: str, top: bool) -> UploadedFile:
    if isinstance(v, UploadedFile):
        return v
    raise Mismatch(f"{path} must be a file uploaded with multipart/form-data")


_PRIMITIVES: dict[str, Checker] = {
    "Integer": _check_int,
    "Int": _check_int,
    "Float": _check_float,
    "String": _check_str,
    "Boolean": _check_bool,
    "True": _check_true,
    "InputFile": _check_file,
}


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, tuple[bool, Checker]]
    required: tuple[str, ...]


class Spec:
    """The compiled Bot API spec."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version", "?")
        self._types: dict[str, dict[str, Any]] = data["types"]
        self._objects: dict[str, Checker] = {}
        self._fieldmaps: dict[str, tuple[dict[str, tuple[bool, Checker, str | None]], tuple[str, ...]]] = {}
        self._dispatch: dict[str, tuple[str | None, dict[str, str]]] = {}
        self.methods: dict[str, MethodSpec] = {}
        for name, method in data["methods"].items():
            fields = {
                f["name"]: (bool(f["required"]), self._union(tuple(f["types"]))) for f in method.get("fields", ())
            }
            required = tuple(n for n, (req, _) in fields.items() if req)
            self.methods[name.lower()] = MethodSpec(name, fields, required)

    # -- public -------------------------------------------------------------------------------
    def method(self, name: str) -> MethodSpec | None:
        return self.methods.get(name.lower())

    def type_fields(self, type_name: str) -> list[str]:
        return [f["name"] for f in self._types[type_name].get("fields", ())]

    def validate(self, method: MethodSpec, raw: dict[str, Any]) -> dict[str, Any]:
        """Checks and coerces the parameters of one call; raises ``ApiError(400)``."""
        fields = method.fields
        out: dict[str, Any] = {}
        for key, value in raw.items():
            entry = fields.get(key)
            if entry is None:
                raise bad_request(f'unknown parameter "{key}" for method {method.name}')
            try:
                out[key] = entry[1](value, key, True)
            except Mismatch as exc:
                raise bad_request(str(exc)) from None
        for key in method.required:
            if key not in out:
                raise bad_request(_missing_message(key))
        return out

    def check_object(self, type_name: str, value: Any, path: str = "") -> Any:
        """Validates a JSON value against a named type (e.g. the updates the double emits)."""
        return self._named(type_name)(value, path or type_name, False)

    # -- compilation --------------------------------------------------------------------------
    def _union(self, types: tuple[str, ...]) -> Checker:
        checkers = [self._one(t) for t in types]
        if len(checkers) == 1:
            return checkers[0]
        names = [t.replace("Array of ", "") for t in types]

        def check_union(v: Any, path: str, top: bool) -> Any:
            errors = []
            for checker in checkers:
                try:
                    return checker(v, path, top)
                except Mismatch as exc:
                    errors.append(exc)
            if top and isinstance(v, str) and v[:1] in "[{":
                _loads(v, path)  # raises "can't parse ... JSON object" for broken JSON
            best = self._best_candidate(names, v, top)
            raise errors[best] if best is not None else Mismatch(f"{path} must be one of {', '.join(types)}")

        return check_union

    def _best_candidate(self, names: list[str], v: Any, top: bool) -> int | None:
        if top and isinstance(v, str) and v[:1] in "[{":
            try:
                v = json.loads(v)
            except ValueError:
                return None
        if not isinstance(v, dict):
            return None
        scores = []
        for name in names:
            td = self._types.get(name, {})
            keys = {f["name"] for f in td.get("fields", ())}
            scores.append(len(keys & v.keys()))
        top_score = max(scores)
        return scores.index(top_score) if top_score else None

    def _one(self, type_str: str) -> Checker:
        if type_str.startswith("Array of "):
            inner = self._one(type_str[len("Array of ") :])

            def check_array(v: Any, path: str, top: bool) -> list[Any]:
                if top and isinstance(v, str):
                    v = _loads(v, path)
                if not isinstance(v, list):
                    raise Mismatch(f"{path} must be an Array")
                return [inner(x, f"{path}[{i}]", False) for i, x in enumerate(v)]

            return check_array
        if type_str in _PRIMITIVES:
            return _PRIMITIVES[type_str]
        if type_str not in self._types:
            raise KeyError(f"unknown type {type_str!r} in the Bot API spec")
        return self._named(type_str)

    def _named(self, name: str) -> Checker:
        cached = self._objects.get(name)
        if cached is not None:
            return cached
        if name in _PRIMITIVES:
            return _PRIMITIVES[name]

        def check_object(v: Any, path: str, top: bool) -> Any:
            if top and isinstance(v, str):
                v = _loads(v, path)
            return self._object(name, v, path)

        self._objects[name] = check_object
        return check_object

    def _object(self, name: str, v: Any, path: str) -> Any:
        td = self._types[name]
        subtypes = td.get("subtypes")
        if subtypes:
            return self._subtype(name, subtypes, v, path)
        if not isinstance(v, dict):
            raise Mismatch(f"{path} must be a JSON object ({name})")
        if "fields" not in td:  # placeholder types such as CallbackGame
            return v
        fieldmap, required = self._fieldmap(name)
        out = {}
        for key, value in v.items():
            entry = fieldmap.get(key)
            if entry is None:
                raise Mismatch(f'{path}: unknown field "{key}" in {name}')
            checked = entry[1](value, f"{path}.{key}", False)
            if entry[2] is not None and checked != entry[2]:
                raise Mismatch(f'{path}.{key} must be "{entry[2]}" in {name}')
            out[key] = checked
        for key in required:
            if key not in out:
                raise Mismatch(f'{path}: field "{key}" of {name} is required')
        return out

    def _fieldmap(self, name: str):
        cached = self._fieldmaps.get(name)
        if cached is None:
            fmap = {}
            for f in self._types[name]["fields"]:
                const = None
                if f["name"] in _DISCRIMINATORS and f["required"]:
                    m = _CONST_RE.search(f.get("description", ""))
                    const = m.group(1) if m else None
                fmap[f["name"]] = (bool(f["required"]), self._union(tuple(f["types"])), const)
            cached = (fmap, tuple(n for n, e in fmap.items() if e[0]))
            self._fieldmaps[name] = cached
        return cached

    def _subtype(self, name: str, subtypes: list[str], v: Any, path: str) -> Any:
        disc = self._dispatch.get(name)
        if disc is None:
            key, mapping = None, {}
            for sub in subtypes:
                if "fields" not in self._types.get(sub, {}):
                    continue
                fmap, _ = self._fieldmap(sub)
                for field in _DISCRIMINATORS:
                    if field in fmap and fmap[field][2] is not None:
                        key = field
                        mapping[fmap[field][2]] = sub
            disc = self._dispatch[name] = (key, mapping)
        key, mapping = disc
        if key is not None and isinstance(v, dict) and v.get(key) in mapping:
            return self._object(mapping[v[key]], v, path)
        if key is not None and isinstance(v, dict):
            raise Mismatch(f'{path}: unsupported {name} {key} "{v.get(key)}"')
        errors = []
        for sub in subtypes:
            try:
                return self._named(sub)(v, path, False)
            except Mismatch as exc:
                errors.append(str(exc))
        raise Mismatch(f"{path} is not a valid {name}: {errors[0] if errors else ''}")


def _missing_message(key: str) -> str:
    if key == "chat_id":
        return "chat_id is empty"
    if key == "text":
        return "message text is empty"
    return f'parameter "{key}" is required'


def spec_path() -> Path:
    env = os.environ.get(SPEC_ENV)
    return Path(env) if env else DEFAULT_SPEC_PATH


def load_spec(path: str | os.PathLike[str] | None = None) -> Spec:
    """The compiled spec (``path``, else $DUTYBOT_TG_API_SPEC, else shared/data/...), cached."""
    return _load_spec(str(Path(path) if path else spec_path()))


@lru_cache(maxsize=4)
def _load_spec(path: str) -> Spec:
    with open(path, encoding="utf-8") as fh:
        return Spec(json.load(fh))
