"""Declarative options, in the spirit of Flink's and Paimon's ``ConfigOption``.

A ``ConfigOption`` declares one key: its type, its default (as text, the way a user writes it),
a description, older keys read when it is not set (``fallback_keys``) and checks (allowed values,
a minimum, a pattern). An ``OptionSet`` groups the declarations of one place (a table's options,
a source's ``--postgres_conf``, a catalog's options) and reads a ``Mapping[str, str]`` into typed
values. Every bad value raises ``OptionError`` with one line::

    <key>=<value> is <what> — <how to fix>

(``missing ...`` and ``<key> is not a ... option`` for missing and unknown keys). The same
declarations render the Markdown tables of the README (``OptionSet.markdown``), so the documented
keys, defaults and descriptions are the ones the code reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

from paimon_py.exceptions import OptionError

MEMORY_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
                "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}
DURATION_UNITS_MS = {"": 1, "ms": 1, "s": 1000, "sec": 1000, "min": 60_000, "m": 60_000,
                     "h": 3_600_000, "d": 86_400_000}


class Invalid(ValueError):
    """Raised by a type's parser or a check: what the value is, and how to fix it. The option
    set turns it into an ``OptionError`` naming the key and the value."""

    def __init__(self, what: str, fix: str):
        super().__init__(f"is {what} — {fix}")
        self.what = what
        self.fix = fix


# ---- types --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OptionType:
    """How a value's text becomes a typed value; ``parse`` raises ``Invalid``."""
    name: str
    parse: Callable[[str], Any]


def parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid("not an integer", "give a whole number") from None


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise Invalid("not a boolean", "use true or false")
    return value == "true"


def parse_memory(text: str) -> int:
    """``"128 mb"`` -> bytes (Paimon's MemorySize syntax)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in MEMORY_UNITS:
        raise Invalid("not a memory size", "write it like '128 mb' or '1 gb'")
    return int(match.group(1)) * MEMORY_UNITS[match.group(2).lower()]


def parse_duration_ms(text: str) -> int:
    """``"1 h"`` -> milliseconds (Paimon's Duration syntax)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in DURATION_UNITS_MS:
        raise Invalid("not a duration", "write it like '1 h', '30 min' or '10 s'")
    return int(match.group(1)) * DURATION_UNITS_MS[match.group(2).lower()]


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as e:
        raise Invalid(f"not a valid regex ({e})", "fix the pattern") from None
    return text


STRING = OptionType("string", str)
INT = OptionType("int", parse_int)
BOOLEAN = OptionType("boolean", parse_bool)
MEMORY = OptionType("memory size", parse_memory)
DURATION = OptionType("duration", parse_duration_ms)
LIST = OptionType("list", parse_list)
REGEX = OptionType("regex", parse_regex)


def enum(*choices: str, ignore_case: bool = True, what: str = "unknown",
         fix: Optional[str] = None) -> OptionType:
    """One of ``choices`` (lower-cased and stripped first unless ``ignore_case=False``)."""
    fix = fix or f"use one of {', '.join(choices)}"

    def parse(text: str) -> str:
        value = text.strip().lower() if ignore_case else text
        if value not in choices:
            raise Invalid(what, fix)
        return value
    return OptionType("enum", parse)


# ---- checks on parsed values ----------------------------------------------------------------------

@dataclass(frozen=True)
class AtLeast:
    minimum: int

    def __call__(self, value: Any) -> None:
        if value < self.minimum:
            raise Invalid("too small", f"give at least {self.minimum}")

    def __str__(self) -> str:
        return f"at least {self.minimum}"


def at_least(minimum: int) -> AtLeast:
    return AtLeast(minimum)


def matching(pattern: str, what: str, fix: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not re.fullmatch(pattern, value):
            raise Invalid(what, fix)
    return check


# ---- declarations -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConfigOption:
    key: str
    type: OptionType = STRING
    default: Optional[str] = None
    """The default as text, parsed like a given value; ``None``: no value (or one derived from
    other options, which ``description`` and ``default_doc`` say)."""
    description: str = ""
    fallback_keys: tuple[str, ...] = ()
    """Older keys read when ``key`` is not set, in order."""
    checks: tuple[Callable[[Any], None], ...] = ()
    """Checks of the parsed value; each raises ``Invalid``."""
    required: bool = False
    default_doc: Optional[str] = None
    """What the documentation shows as the default when ``default`` is ``None``."""

    def parse(self, text: str, key: Optional[str] = None) -> Any:
        """``text`` (the value of ``key``, by default this option's key) as a typed, checked value."""
        try:
            value = self.type.parse(text)
            for check in self.checks:
                check(value)
            return value
        except Invalid as e:
            raise OptionError(f"{key or self.key}={text} is {e.what} — {e.fix}") from None

    def find(self, conf: Mapping[str, str]) -> Optional[str]:
        """The key under which ``conf`` holds this option (its own key, else a fallback key)."""
        return next((k for k in (self.key, *self.fallback_keys) if k in conf), None)

    def get(self, conf: Mapping[str, str]) -> Any:
        """This option's typed value in ``conf``: the given value, else the default, else ``None``."""
        found = self.find(conf)
        text = self.default if found is None else conf[found]
        return None if text is None else self.parse(text, found or self.key)


class OptionSet:
    """The options of one place; ``name`` is how messages call them (``--postgres_conf``)."""

    def __init__(self, name: str, options: Iterable[ConfigOption], see: str = ""):
        self.name = name
        self.options: dict[str, ConfigOption] = {}
        for option in options:
            if option.key in self.options:
                raise ValueError(f"option {option.key} declared twice")
            self.options[option.key] = option
        self.see = see
        """Where the descriptions are, for the unknown-key message."""

    def __getitem__(self, key: str) -> ConfigOption:
        return self.options[key]

    def __contains__(self, key: object) -> bool:
        return key in self.options

    def __iter__(self):
        return iter(self.options.values())

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.options)

    def known_keys(self) -> set[str]:
        return {k for o in self for k in (o.key, *o.fallback_keys)}

    def check_known(self, conf: Mapping[str, str]) -> None:
        """Refuses keys no option declares (neither as key nor as fallback key)."""
        unknown = sorted(set(conf) - self.known_keys())
        if unknown:
            see = f" (descriptions: {self.see})" if self.see else ""
            verb = f"is not a {self.name} option" if len(unknown) == 1 else f"are not {self.name} options"
            raise OptionError(f"{', '.join(unknown)} {verb} — known: {', '.join(self.keys)}{see}")

    def check_required(self, conf: Mapping[str, str], also_required: Iterable[str] = ()) -> None:
        """Refuses missing or empty required options (declared ``required`` or in ``also_required``)."""
        required = [o.key for o in self if o.required or o.key in set(also_required)]
        missing = [k for k in required if not conf.get(k)]
        if missing:
            raise OptionError(f"missing {self.name} " + ", ".join(f"{k}=..." for k in missing)
                              + (" — add it" if len(missing) == 1 else " — add them"))

    def parse(self, conf: Mapping[str, str], also_required: Iterable[str] = (),
              allow_unknown: bool = False) -> dict[str, Any]:
        """Every declared option's typed value (``None`` when neither given nor defaulted), after
        refusing unknown keys (unless ``allow_unknown``), missing required ones and bad values."""
        if not allow_unknown:
            self.check_known(conf)
        self.check_required(conf, also_required)
        return {o.key: o.get(conf) for o in self}

    def markdown(self) -> str:
        """The options as a Markdown table (key, default, description), for the README."""
        lines = ["| key | default | description |", "|---|---|---|"]
        for o in self:
            if o.default is not None:
                default = f"`{o.default}`" if o.default else "(empty)"
            else:
                default = o.default_doc or ("required" if o.required else "—")
            description = o.description.replace("|", "\\|")
            limits = [str(c) for c in o.checks if isinstance(c, AtLeast)]
            if limits:
                description += f" ({', '.join(limits)})"
            if o.fallback_keys:
                description += f" (also read from {', '.join(f'`{k}`' for k in o.fallback_keys)})"
            lines.append(f"| `{o.key}` | {default} | {description} |")
        return "\n".join(lines) + "\n"
