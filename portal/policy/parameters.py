"""The parameters of a named condition, as a p2 line's fourth value carries them.

``p2, kestrel-river, approve, community_benefit_described, min_words=50``: the values
are ``key=value`` pairs joined by ``;``. Each condition declares its parameters (a
whole number with a minimum and a default); a line's text is checked against them by
`portal policy check` and by the Nation's rules page, and evaluated with the defaults
filled in. A condition without parameters takes an empty fourth value, or none.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Large enough for any sensible rule; small enough that a typo (a stray zero) stands out.
LARGEST = 100_000


@dataclass(frozen=True)
class Parameter:
    """One whole-number parameter of a condition."""

    name: str
    label: str  # what a person reads by its input: "Fewest words"
    minimum: int
    default: int
    maximum: int = LARGEST

    def check(self, value: object) -> str | None:
        """Why ``value`` (text from a line or a form, or a number) will not do, or None."""
        number = as_whole_number(value)
        if number is None:
            return f"{self.name} must be a whole number."
        if not self.minimum <= number <= self.maximum:
            return f"{self.name} must be between {self.minimum} and {self.maximum}."
        return None


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def as_whole_number(value: object) -> int | None:
    """The number ``value`` says (ASCII digits only), or None. A number too long to be
    sensible reads as one past the largest, so its message is the range's."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(text := value.strip()):
        return int(text) if len(text) <= len(str(LARGEST)) + 1 else LARGEST + 1
    return None


def parse(text: str) -> dict[str, str]:
    """``"min_words=50;count=2"`` -> {"min_words": "50", "count": "2"} (no checking).
    A pair without "=" keeps an empty value, so the checker can name it."""
    pairs: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in (text or "").split(";"))):
        key, _, value = pair.partition("=")
        pairs[key.strip()] = value.strip()
    return pairs


def unparse(params: Mapping[str, object]) -> str:
    """The canonical text of ``params`` (keys in order), as a line stores it."""
    return ";".join(f"{key}={params[key]}" for key in sorted(params))


def problems(declared: tuple[Parameter, ...], params: Mapping[str, object]) -> dict[str, str]:
    """{parameter: what is wrong} for unknown keys, wrong types and values out of range."""
    known = {parameter.name: parameter for parameter in declared}
    found = {
        key: f"{key or 'a parameter without a name'} is not a parameter of this condition."
        for key in params
        if key not in known
    }
    for key, value in params.items():
        if key in known and (message := known[key].check(value)):
            found[key] = message
    return found


def values(declared: tuple[Parameter, ...], params: Mapping[str, object]) -> dict[str, int]:
    """Every declared parameter's value: the one given, else its default. Call after
    ``problems()`` found none; a value that does not parse falls back to the default."""
    resolved = {}
    for parameter in declared:
        number = as_whole_number(params.get(parameter.name, parameter.default))
        resolved[parameter.name] = parameter.default if number is None else number
    return resolved
