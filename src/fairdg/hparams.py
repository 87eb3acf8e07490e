"""Hyperparameters: a default next to a declarative search space, resolved and sampled.

Resolution order (later wins): algorithm defaults, dataset overrides, values sampled from the
search spaces (``hparams_seed > 0``; seed 0 means defaults), explicit overrides. Each knob is
drawn from its own random stream seeded by ``(hparams_seed, name)``, so adding a knob does not
change the draws of the others.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairdg.parsing import coerce_to_default


@dataclass(frozen=True)
class LogUniform:
    """``base ** U(low, high)``; rounded to an int when ``integer``."""

    low: float
    high: float
    base: float = 10.0
    integer: bool = False

    def sample(self, rng: np.random.Generator) -> float | int:
        value = self.base ** rng.uniform(self.low, self.high)
        return int(round(value)) if self.integer else float(value)

    def __str__(self) -> str:
        kind = "int " if self.integer else ""
        return f"{kind}{self.base:g}^U({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class Uniform:
    """``U(low, high)``; rounded to an int when ``integer``."""

    low: float
    high: float
    integer: bool = False

    def sample(self, rng: np.random.Generator) -> float | int:
        value = rng.uniform(self.low, self.high)
        return int(round(value)) if self.integer else float(value)

    def __str__(self) -> str:
        kind = "int " if self.integer else ""
        return f"{kind}U({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values, uniformly."""

    values: tuple

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def __str__(self) -> str:
        return "{" + ", ".join(map(str, self.values)) + "}"


@dataclass(frozen=True)
class Fixed:
    """Not searched: sampling returns the default."""

    def sample(self, rng: np.random.Generator) -> None:
        return None

    def __str__(self) -> str:
        return "fixed"


Space = LogUniform | Uniform | Choice | Fixed


@dataclass(frozen=True)
class Interval:
    """Valid values: numbers between `low` and `high` (None: unbounded), ends included unless
    open; integers only when ``integer``."""

    low: float | None = None
    high: float | None = None
    integer: bool = False
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return False
        if self.integer and not float(value).is_integer():
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{kind} in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{kind} {'<' if self.high_open else '<='} {self.high:g}"
        return kind


@dataclass(frozen=True)
class OneOf:
    """Valid values: one of a fixed set."""

    values: tuple

    def contains(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))


Valid = Interval | OneOf | None


@dataclass(frozen=True)
class HParam:
    """A hyperparameter: its default, its search space, a one-line help and its valid values
    (checked once, by `resolve`, whatever their source)."""

    default: Any
    space: Space = Fixed()
    help: str = ""
    valid: Valid = None


class ResolvedHParams(dict):
    """The final values of every declared hyperparameter, as `resolve` returns them; an
    algorithm given one uses it as is instead of resolving again."""


def declared_subset(declared: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `values` whose key is declared (a sweep's shared overrides keep, per
    algorithm, only the knobs that algorithm has)."""
    return {k: v for k, v in values.items() if k in declared}


def check_valid(name: str, hp: HParam, value: Any) -> None:
    """Raise a one-line ValueError when `value` is not among the valid values of `hp`."""
    if hp.valid is not None and not hp.valid.contains(value):
        raise ValueError(f"hyperparameter {name!r} must be {hp.valid}; got {value!r}")


def _knob_rng(hparams_seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(hparams_seed), zlib.crc32(name.encode())])


def sample(declared: Mapping[str, HParam], hparams_seed: int) -> dict[str, Any]:
    """Draw every knob from its space; seed 0 returns the defaults."""
    values = {}
    for name, hp in declared.items():
        drawn = None if hparams_seed == 0 else hp.space.sample(_knob_rng(hparams_seed, name))
        values[name] = hp.default if drawn is None else drawn
    return values


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Cast a user value to the default's type (`fairdg.parsing`: ints stay ints, bools stay
    bools, a bad value is an error naming the hyperparameter)."""
    return coerce_to_default(value, default, f"hyperparameter {name!r}")


def resolve(
    declared: Mapping[str, HParam],
    overrides: Mapping[str, Any] | None = None,
    *,
    hparams_seed: int = 0,
    dataset_overrides: Mapping[str, Any] | None = None,
) -> ResolvedHParams:
    """Resolve the final hyperparameter values (the one place where they are checked).

    Raises
    ------
    ValueError
        For an override key that is not declared (the message lists the valid keys), or a
        final value outside the knob's declared valid values (one line: name, valid, value).
    """
    values = {name: hp.default for name, hp in declared.items()}
    for name, value in (dataset_overrides or {}).items():
        if name in declared:  # a dataset may tune knobs only some algorithms have
            values[name] = value
    if hparams_seed:  # a fixed knob is not searched: it keeps the dataset's value
        drawn = sample(declared, hparams_seed)
        values.update({k: v for k, v in drawn.items() if not isinstance(declared[k].space, Fixed)})
    check_keys(declared, overrides)
    for name, value in (overrides or {}).items():
        values[name] = _coerce(name, value, declared[name].default)
    for name, hp in declared.items():
        check_valid(name, hp, values[name])
    return ResolvedHParams(values)


def check_keys(declared: Mapping[str, HParam], overrides: Mapping[str, Any] | None) -> None:
    """Raise for override keys that are not declared (the message lists the valid keys)."""
    unknown = sorted(set(overrides or {}) - set(declared))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {', '.join(map(repr, unknown))}; "
            f"valid keys: {', '.join(sorted(declared))}"
        )


def check_overrides(declared: Mapping[str, HParam], overrides: Mapping[str, Any] | None) -> None:
    """The checks `resolve` makes on explicit overrides (keys, types, valid values), without
    the dataset's defaults: run before loading any data."""
    check_keys(declared, overrides)
    for name, value in (overrides or {}).items():
        check_valid(name, declared[name], _coerce(name, value, declared[name].default))


def parse_value(text: str) -> Any:
    """Parse a command-line value: JSON when it parses (numbers, true/false, lists), else text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignments(items: Sequence[str] | None, what: str) -> dict[str, Any]:
    """Parse repeated ``KEY=VALUE`` flags into a dict; `what` names the flag in errors."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = parse_value(value.strip())
    return out


def describe(declared: Mapping[str, HParam]) -> list[tuple[str, str, str, str]]:
    """Rows (name, default, space, help) for listings."""
    return [(n, repr(hp.default), str(hp.space), hp.help) for n, hp in declared.items()]
