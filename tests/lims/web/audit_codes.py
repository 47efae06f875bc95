"""The action codes the code base writes to the audit trail, read from its source.

An event is written by ``lims.audit``'s ``record``, ``store`` or ``AuditEntry``; the action is
their argument. Each call's action is followed to the codes it can be:

- a string (or ``a if ... else b`` of strings);
- a member of a vocabulary enum (``Transition.refer``);
- a parameter of the function the call is in (a wrapper such as ``_audit(..., action, ...)``):
  what every call of that function passes there, followed the same way;
- a field of a parameter (``attempt.failed``) or of a module's constant built from a class
  of the module (``_SIGN_IN = _Attempt("login_refused_locked", "login_failed", ...)``);
- a call site whose action is computed otherwise is declared in ``COMPUTED`` with the codes it
  can write, read from their definition.

A call that none of these resolves is reported (``Unresolved``), so that a new way of writing
an event cannot go unnoticed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from lims import vocabulary
from lims.vocabulary import CaseTransition, Transition

#: What ``lims.audit`` exports that writes an event, and the position of the action argument.
WRITERS = {"record": 2, "store": 2, "AuditEntry": 0}

#: Functions whose audit calls take their action from a computed value: the codes they write.
COMPUTED: dict[tuple[str, str], Callable[[], set[str]]] = {
    ("lims.workflow", "apply_transition"): lambda: {t.value for t in Transition},
    ("lims.workflow", "apply_transitions"): lambda: {t.value for t in Transition},
    ("lims.followup.machine", "apply_case_transition"): lambda: {t.value for t in CaseTransition},
}


class Unresolved(Exception):
    """An audit call whose action the scan cannot follow to its codes."""


@dataclass
class _Module:
    name: str
    path: Path
    tree: ast.Module
    #: local name -> (module, name) imported
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: local alias -> module imported as a whole
    modules: dict[str, str] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)


def _load(root: Path, package: str) -> dict[str, _Module]:
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        module = _Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
        for node in module.tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    local = alias.asname or alias.name
                    module.imports[local] = (node.module, alias.name)
                    module.modules[local] = f"{node.module}.{alias.name}"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                module.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                module.classes[node.name] = node
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                module.constants[node.targets[0].id] = node.value
        out[name] = module
    return out


def _params(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]


def _argument(call: ast.Call, position: int | None, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if position is not None and position < len(call.args):
        return call.args[position]
    return None


@dataclass(frozen=True)
class Site:
    """Where an audit call (or a call of a wrapper) is, for the messages."""

    module: str
    line: int


class AuditCodes:
    """The codes the package at ``root / package`` writes, each with a place that writes it."""

    def __init__(self, root: Path, package: str = "lims") -> None:
        self.modules = _load(root, package)
        self.codes: dict[str, str] = {}
        self._following: set[tuple[str, str, str]] = set()
        for module, function, call in self._writer_calls():
            position = WRITERS[self._callee(module, call.func) or ""]
            action = _argument(call, position, "action")
            site = Site(module.name, call.lineno)
            if action is None:
                raise Unresolved(f"{module.name}:{call.lineno}: an audit call without action")
            for code in self._resolve(module, function, action, site):
                self.codes.setdefault(code, f"{module.name}:{call.lineno}")

    # ---- the calls -------------------------------------------------------------------------

    def _callee(self, module: _Module, func: ast.expr) -> str | None:
        """The name of ``lims.audit``'s writer that ``func`` is, if it is one."""
        if isinstance(func, ast.Name):
            if module.name == "lims.audit" and func.id in WRITERS:
                return func.id
            origin = module.imports.get(func.id)
            if origin is not None and origin[0] == "lims.audit" and origin[1] in WRITERS:
                return origin[1]
        return None

    def _walk(
        self, module: _Module
    ) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, ast.Call]]:
        """Every call of the module with the top-level function (or None) that holds it."""
        for node in module.tree.body:
            holder = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call):
                    yield holder, inner

    def _writer_calls(
        self,
    ) -> Iterator[tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef | None, ast.Call]]:
        for module in self.modules.values():
            for function, call in self._walk(module):
                if self._callee(module, call.func) is None:
                    continue
                if (
                    module.name == "lims.audit"
                    and function is not None
                    and (function.name in WRITERS or function.name == "record_many")
                ):
                    continue  # the writers themselves
                yield module, function, call

    def _calls_of(
        self, target: str, function: str
    ) -> Iterator[tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef | None, ast.Call]]:
        """Every call of ``target``'s top-level ``function``, in any module."""
        for module in self.modules.values():
            for holder, call in self._walk(module):
                func = call.func
                if isinstance(func, ast.Name):
                    hit = (module.name == target and func.id == function) or module.imports.get(
                        func.id
                    ) == (target, function)
                elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    hit = func.attr == function and module.modules.get(func.value.id) == target
                else:
                    hit = False
                if hit:
                    yield module, holder, call

    # ---- the values ------------------------------------------------------------------------

    def _resolve(
        self,
        module: _Module,
        function: ast.FunctionDef | ast.AsyncFunctionDef | None,
        value: ast.expr,
        site: Site,
        fields: tuple[str, ...] = (),
    ) -> set[str]:
        where = f"{site.module}:{site.line}"
        if function is not None and (module.name, function.name) in COMPUTED:
            return COMPUTED[(module.name, function.name)]()
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and not fields:
            return {value.value}
        if isinstance(value, ast.IfExp):
            return self._resolve(module, function, value.body, site, fields) | self._resolve(
                module, function, value.orelse, site, fields
            )
        if isinstance(value, ast.Attribute):
            enum = self._enum(module, value)
            if enum is not None and not fields:
                return {enum}
            return self._resolve(module, function, value.value, site, (value.attr, *fields))
        if isinstance(value, ast.Name):
            if function is not None and value.id in _params(function):
                return self._from_callers(module, function, value.id, site, fields)
            if value.id in module.constants and fields:
                return self._field(module, module.constants[value.id], site, fields)
        raise Unresolved(
            f"{where}: the audit action {ast.unparse(value)}"
            f"{''.join('.' + f for f in fields)} cannot be followed to its codes; "
            "write it as a string or declare it in COMPUTED"
        )

    def _enum(self, module: _Module, value: ast.Attribute) -> str | None:
        if not isinstance(value.value, ast.Name):
            return None
        origin = module.imports.get(value.value.id)
        if origin is None or origin[0] != "lims.vocabulary":
            return None
        enum = getattr(vocabulary, origin[1], None)
        if isinstance(enum, type) and issubclass(enum, StrEnum) and value.attr in enum.__members__:
            return str(enum[value.attr].value)
        return None

    def _from_callers(
        self,
        module: _Module,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        param: str,
        site: Site,
        fields: tuple[str, ...],
    ) -> set[str]:
        key = (module.name, function.name, ".".join((param, *fields)))
        if key in self._following:  # a call of itself adds nothing new
            return set()
        self._following.add(key)
        try:
            return self._callers_pass(module, function, param, site, fields)
        finally:
            self._following.discard(key)

    def _callers_pass(
        self,
        module: _Module,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        param: str,
        site: Site,
        fields: tuple[str, ...],
    ) -> set[str]:
        params = function.args.posonlyargs + function.args.args
        names = [a.arg for a in params]
        position = names.index(param) if param in names else None
        codes: set[str] = set()
        callers = list(self._calls_of(module.name, function.name))
        if not callers:
            raise Unresolved(
                f"{site.module}:{site.line}: {function.name} writes its {param} "
                "but nothing calls it"
            )
        for caller, holder, call in callers:
            argument = _argument(call, position, param)
            if argument is None:
                raise Unresolved(
                    f"{caller.name}:{call.lineno}: {function.name} is called without {param}"
                )
            codes |= self._resolve(
                caller,
                holder,
                argument,
                Site(caller.name, call.lineno),
                fields,
            )
        return codes

    def _field(
        self, module: _Module, built: ast.expr, site: Site, fields: tuple[str, ...]
    ) -> set[str]:
        """A field of a module constant built by calling a class of the module."""
        if (
            len(fields) == 1
            and isinstance(built, ast.Call)
            and isinstance(built.func, ast.Name)
            and built.func.id in module.classes
        ):
            names = [
                n.target.id
                for n in module.classes[built.func.id].body
                if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            ]
            if fields[0] in names:
                argument = _argument(built, names.index(fields[0]), fields[0])
                if argument is not None:
                    return self._resolve(module, None, argument, site)
        raise Unresolved(
            f"{site.module}:{site.line}: the audit action's field "
            f"{'.'.join(fields)} cannot be followed to its codes"
        )
