"""Each URL rule's builder compiled once per test run, not once per app.

Werkzeug compiles two Python functions for every rule when an app registers it (its
URL builders, from an AST): for the portal's 130-odd routes that is 90% of
create_app(), about 0.1 s, paid again by each of the 1,300 tests that make an app.
Every app the tests make has the same rules, and a builder is a pure function of the
rule's text, its parsed parts, its defaults and whether it appends unknown arguments
(werkzeug.routing.rules.Rule._compile_builder), so the tests share them. The app is
built as in production; only the compiling is remembered. Without the private method
(another werkzeug), nothing is changed.
"""

from werkzeug.routing.rules import Rule

_compile = getattr(Rule, "_compile_builder", None)
_builders: dict = {}


def _compile_once(self: Rule, append_unknown: bool = True):
    defaults = tuple((key, repr(value)) for key, value in (self.defaults or {}).items())
    key = (self.rule, tuple(self._trace), defaults, append_unknown)
    if key not in _builders:
        _builders[key] = _compile(self, append_unknown)
    return _builders[key]


def install() -> None:
    if _compile is not None:
        Rule._compile_builder = _compile_once
