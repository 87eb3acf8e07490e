"""One typed parser for option and hyperparameter values. Standard library only.

A value arrives as command-line text (``--data-option include_sensitive=False``), as JSON (a
sweep file) or as a Python object (the API). `coerce` turns it into the type a loader's
signature or a hyperparameter's default declares, and refuses anything else with a message
naming the option:

- booleans: ``true/false``, ``yes/no``, ``1/0`` in any case (never Python truthiness);
- integers: ``3``, ``3.0``; never a boolean;
- floats: any finite number; never a boolean;
- strings: the text verbatim (a number from JSON becomes its text);
- sequences: a JSON list ``[a, b]`` or comma-separated text ``a,b``;
- ``None`` (where allowed and no string is): ``none`` / ``null``.
"""

from __future__ import annotations

import collections.abc
import inspect
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

TRUE = ("true", "yes", "1")
FALSE = ("false", "no", "0")


class OptionValueError(ValueError):
    """A value that does not fit the type of the option it is given to."""


def parse_bool(value: Any, name: str) -> bool:
    """``true/false/yes/no/1/0`` (any case), a bool, or the integers 0 and 1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise OptionValueError(f"{name} expects true/false (or yes/no, 1/0), got {value!r}")


def parse_int(value: Any, name: str) -> int:
    """An integer (``3``, ``"3"``, ``3.0``); a bool or a fraction is an error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = _number(value, name, "an integer")
    if not number.is_integer():
        raise OptionValueError(f"{name} expects an integer, got {value!r}")
    return int(number)


def parse_float(value: Any, name: str) -> float:
    """A finite number; a bool, text that is no number, or inf/NaN is an error."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        number = _number(value, name, "a number")
    return number


def _number(value: Any, name: str, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OptionValueError(f"{name} expects {kind}, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise OptionValueError(f"{name} expects {kind}, got {value!r}") from None
    if not math.isfinite(number):
        raise OptionValueError(f"{name} expects a finite number, got {value!r}")
    return number


def _kinds(annotation: Any) -> list[Any]:
    """The alternatives of a (possibly union) annotation, in declaration order."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [k for arg in typing.get_args(annotation) for k in _kinds(arg)]
    return [annotation]


def _is_sequence(kind: Any) -> bool:
    origin = typing.get_origin(kind) or kind
    return origin in (list, tuple, collections.abc.Sequence)


def _as_list(value: Any, kind: Any, name: str) -> list:
    if isinstance(value, str):
        text = value.strip()
        items = json.loads(text) if text.startswith("[") else text.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise OptionValueError(f"{name} expects a list (a,b or [a, b]), got {value!r}")
    element = (typing.get_args(kind) or (Any,))[0]
    return [coerce(item, element, f"{name}[{i}]") for i, item in enumerate(items)]


_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    bool: parse_bool,
    int: parse_int,
    float: parse_float,
}


def coerce(value: Any, annotation: Any, name: str) -> Any:
    """`value` converted to `annotation` (bool, int, float, str, a sequence, unions of them
    with None); `name` (e.g. ``"data option 'download'"``) goes into the error message.

    Raises
    ------
    OptionValueError
        When the value fits none of the annotation's alternatives.
    """
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    kinds = _kinds(annotation)
    if value is None and type(None) in kinds:
        return None
    text = isinstance(value, str)
    if text and type(None) in kinds and str not in kinds and value.lower() in ("none", "null"):
        return None
    if text and str in kinds and not (value.lstrip().startswith("[") and _any_seq(kinds)):
        return value
    if any(_is_instance_of_object_kind(value, k) for k in kinds):
        return value  # a Python object the loader accepts as is (a DataFrame, a mapping)
    errors = []
    for kind in sorted(kinds, key=_is_sequence):  # a scalar before a list of them
        try:
            if kind in _SCALARS:
                return _SCALARS[kind](value, name)
            if _is_sequence(kind):
                return _as_list(value, kind, name)
            if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
        except (OptionValueError, json.JSONDecodeError) as err:
            errors.append(str(err))
    if len(errors) == 1:
        raise OptionValueError(errors[0])
    expected = " or ".join(_kind_name(k) for k in kinds)
    raise OptionValueError(f"{name} expects {expected}, got {value!r}")


def _is_instance_of_object_kind(value: Any, kind: Any) -> bool:
    """Whether `kind` is a class other than the parsed scalars and sequences (``DataFrame``,
    ``Mapping[str, str]``) and `value` is an instance of it."""
    origin = typing.get_origin(kind) or kind
    if not isinstance(origin, type) or origin in (*_SCALARS, str, type(None)):
        return False
    return not _is_sequence(kind) and isinstance(value, origin)


def _any_seq(kinds: list[Any]) -> bool:
    return any(_is_sequence(k) for k in kinds)


def _kind_name(kind: Any) -> str:
    if kind is type(None):
        return "none"
    if _is_sequence(kind):
        return "a list"
    return getattr(kind, "__name__", str(kind))


def coerce_to_default(value: Any, default: Any, name: str) -> Any:
    """`value` converted to the type of `default` (a hyperparameter's declared default)."""
    if default is None or not isinstance(default, bool | int | float | str):
        return value
    return coerce(value, type(default), name)


def typed_options(
    function: Callable[..., Any], options: Mapping[str, Any], what: str
) -> dict[str, Any]:
    """`options` converted to the annotated types of `function`'s keyword parameters.

    Unknown names pass through unchanged (the caller reports them with the valid list).
    """
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):  # an annotation that does not evaluate: leave values be
        hints = {}
    return {
        key: coerce(value, hints.get(key, Any), f"{what} {key!r}")
        for key, value in options.items()
    }
