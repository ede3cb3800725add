#!/usr/bin/env python3
"""Generate crates/trent-wire/src/generated.rs from botocore's KMS service model.

The model is read from the installed botocore package (it is not vendored);
only the Rust derived from it is committed.  Usage:

    python3 tools/gen_wire.py          # (re)write the generated file
    python3 tools/gen_wire.py --check  # exit 1 if the committed file is stale

The output is piped through rustfmt, so it is stable under `cargo fmt`.
The botocore version in the header line is ignored by --check (a warning is
printed instead), so a botocore upgrade that leaves the KMS model unchanged
does not fail CI.
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATE_DIR = os.path.join(ROOT, "crates", "trent-wire")
OUT_PATH = os.path.join(CRATE_DIR, "src", "generated.rs")
API_VERSION = "2014-11-01"
VERSION_LINE_PREFIX = "// Source: botocore "

RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do",
    "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
}


def load_model():
    try:
        import botocore  # noqa: PLC0415
    except ImportError:
        sys.exit("gen_wire.py: botocore is not installed (pip install botocore)")
    path = os.path.join(
        os.path.dirname(botocore.__file__), "data", "kms", API_VERSION, "service-2.json.gz"
    )
    if not os.path.exists(path):
        path = path[: -len(".gz")]
        with open(path, encoding="utf-8") as f:
            return botocore.__version__, json.load(f)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return botocore.__version__, json.load(f)


# ----------------------------------------------------------------------------- naming


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    return "r#" + s if s in RUST_KEYWORDS else s


def upper_snake(name):
    return snake(name).replace("r#", "").upper()


def lower_camel(name):
    """Coral member path segment: KeyId -> keyId, AWSAccountId -> awsAccountId."""
    m = re.match(r"^([A-Z]+)([A-Z][a-z].*)$", name)
    if m:
        return m.group(1).lower() + m.group(2)
    return name[:1].lower() + name[1:]


def rust_str(s):
    """A Rust string literal for s: plain when nothing needs escaping, else raw."""
    if "\\" not in s and '"' not in s and "\n" not in s:
        return '"' + s + '"'
    hashes = ""
    while '"' + hashes in s:
        hashes += "#"
    return "r" + hashes + '"' + s + '"' + hashes


# ----------------------------------------------------------------------------- patterns

_CLASS_ESCAPES_IN = {
    "d": "0-9",
    "w": "a-zA-Z0-9_",
    "s": "\\x{09}\\x{0A}\\x{0B}\\x{0C}\\x{0D}\\x{20}",
}


def translate_pattern(pat):
    """Translate a model (java.util.regex) pattern into regex-crate syntax.

    Coral matches the whole value (Pattern.matches), so the result is anchored.
    Java's \\d, \\w and \\s are ASCII-only; they are spelled out as ASCII classes.
    """
    out = []
    i = 0
    n = len(pat)
    in_class = False
    # In a class: kind of the previous item: None (start), "char", "range", "set".
    prev = None
    while i < n:
        c = pat[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("trailing backslash in pattern %r" % pat)
            e = pat[i + 1]
            if e == "u":
                hexdigits = pat[i + 2 : i + 6]
                if not re.fullmatch(r"[0-9A-Fa-f]{4}", hexdigits):
                    raise ValueError("bad \\u escape in %r" % pat)
                tok, kind, i = "\\x{%s}" % hexdigits, "char", i + 6
            elif e in _CLASS_ESCAPES_IN:
                body = _CLASS_ESCAPES_IN[e]
                tok = body if in_class else "[" + body + "]"
                kind, i = "set", i + 2
            elif e.isalnum():
                raise ValueError("unsupported escape \\%s in %r" % (e, pat))
            elif e == "/":
                tok, kind, i = "/", "char", i + 2
            else:
                tok, kind, i = "\\" + e, "char", i + 2
            out.append(tok)
            if in_class:
                prev = "range" if prev == "dash" else kind
            continue
        if in_class:
            if c == "]" and prev is not None:
                in_class = False
                out.append("]")
            elif c == "-":
                nxt = pat[i + 1] if i + 1 < n else ""
                if prev == "char" and nxt not in ("]", ""):
                    out.append("-")
                    prev = "dash"
                else:
                    out.append("\\-")
                    prev = "char"
            elif c in "[&~":
                out.append("\\" + c)
                prev = "range" if prev == "dash" else "char"
            else:
                out.append(c)
                prev = "range" if prev == "dash" else "char"
            i += 1
            continue
        if c == "[":
            in_class = True
            prev = None
            out.append("[")
            if i + 1 < n and pat[i + 1] == "^":
                out.append("^")
                i += 1
            i += 1
            continue
        out.append(c)
        i += 1
    if in_class:
        raise ValueError("unterminated class in %r" % pat)
    return "^(?:" + "".join(out) + ")$"


# ----------------------------------------------------------------------------- model walk


class Gen:
    def __init__(self, version, model):
        self.version = version
        self.model = model
        self.shapes = model["shapes"]
        self.ops = model["operations"]
        self.errors = sorted(n for n, s in self.shapes.items() if s.get("exception"))
        self.input_shapes = self.reachable(
            [op["input"]["shape"] for op in self.ops.values() if "input" in op]
        )
        self.output_shapes = self.reachable(
            [op["output"]["shape"] for op in self.ops.values() if "output" in op]
        )
        self._checks_cache = {}

    def reachable(self, roots):
        seen = set()
        stack = list(roots)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            s = self.shapes[name]
            if s["type"] == "structure":
                stack.extend(m["shape"] for m in s["members"].values())
            elif s["type"] == "list":
                stack.append(s["member"]["shape"])
            elif s["type"] == "map":
                stack.append(s["key"]["shape"])
                stack.append(s["value"]["shape"])
        return seen

    def rust_type(self, name):
        s = self.shapes[name]
        t = s["type"]
        if t == "string":
            return "String"
        if t == "blob":
            return "Blob"
        if t in ("integer", "long"):
            return "i64"
        if t == "boolean":
            return "bool"
        if t == "timestamp":
            return "Timestamp"
        if t == "list":
            return "Vec<%s>" % self.rust_type(s["member"]["shape"])
        if t == "map":
            k = self.rust_type(s["key"]["shape"])
            v = self.rust_type(s["value"]["shape"])
            if (k, v) != ("String", "String"):
                raise ValueError("unsupported map shape %s" % name)
            return "BTreeMap<String, String>"
        if t == "structure":
            return name
        raise ValueError("unsupported shape type %s for %s" % (t, name))

    def sensitive(self, name):
        return bool(self.shapes[name].get("sensitive"))

    def has_checks(self, name):
        if name in self._checks_cache:
            return self._checks_cache[name]
        self._checks_cache[name] = False  # cycle guard
        s = self.shapes[name]
        t = s["type"]
        if t == "string":
            r = any(k in s for k in ("max", "pattern", "enum")) or s.get("min", 0) > 0
        elif t in ("blob", "integer", "long"):
            r = "max" in s or "min" in s
        elif t == "list":
            r = "max" in s or "min" in s or self.has_checks(s["member"]["shape"])
        elif t == "map":
            r = (
                "max" in s
                or "min" in s
                or self.has_checks(s["key"]["shape"])
                or self.has_checks(s["value"]["shape"])
            )
        elif t == "structure":
            r = bool(s.get("required")) or any(
                self.has_checks(m["shape"]) for m in s["members"].values()
            )
        else:
            r = False
        self._checks_cache[name] = r
        return r

    # ------------------------------------------------------------------------- emit

    def emit(self):
        o = []
        w = o.append
        w("// @generated by tools/gen_wire.py -- DO NOT EDIT.")
        w(VERSION_LINE_PREFIX + "%s, KMS model %s." % (self.version, API_VERSION))
        w("// Regenerate with `python3 tools/gen_wire.py`; CI runs it with --check.")
        w("")
        w("use std::collections::BTreeMap;")
        w("use std::sync::LazyLock;")
        w("")
        w("use regex::Regex;")
        w("use serde::Serialize;")
        w("")
        w("use crate::blob::{Blob, Timestamp};")
        w("use crate::validate::{self as v, Validate, Violation};")
        w("")
        self.emit_operations(w)
        self.emit_errors(w)
        self.emit_enums(w)
        self.emit_patterns(w)
        for name in sorted(self.shapes):
            s = self.shapes[name]
            if s["type"] == "structure" and not s.get("exception"):
                if name in self.input_shapes or name in self.output_shapes:
                    self.emit_struct(w, name)
        for name in sorted(self.input_shapes):
            s = self.shapes[name]
            if s["type"] == "structure":
                self.emit_validate_impl(w, name)
            elif self.has_checks(name):
                self.emit_check_fn(w, name)
        self.emit_tests(w)
        return "\n".join(o) + "\n"

    def emit_operations(self, w):
        ops = list(self.ops)
        prefix = self.model["metadata"]["targetPrefix"]
        w("/// Target prefix of the `X-Amz-Target` header (`%s.<Operation>`)." % prefix)
        w("pub const TARGET_PREFIX: &str = %s;" % rust_str(prefix))
        w("")
        w("/// Every operation of the KMS API, named exactly as in the service model.")
        w("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        w("pub enum Operation {")
        for op in ops:
            w("    %s," % op)
        w("}")
        w("")
        w("impl Operation {")
        w("    /// All operations, in model order.")
        w("    pub const ALL: [Operation; %d] = [" % len(ops))
        for op in ops:
            w("        Operation::%s," % op)
        w("    ];")
        w("")
        w("    /// The model's operation name, e.g. `\"Encrypt\"`.")
        w("    pub fn name(self) -> &'static str {")
        w("        match self {")
        for op in ops:
            w('            Operation::%s => "%s",' % (op, op))
        w("        }")
        w("    }")
        w("")
        w("    /// Looks an operation up by its bare model name (`\"Encrypt\"`).")
        w("    pub fn from_name(name: &str) -> Option<Operation> {")
        w("        match name {")
        for op in ops:
            w('            "%s" => Some(Operation::%s),' % (op, op))
        w("            _ => None,")
        w("        }")
        w("    }")
        w("")
        w("    /// Parses an `X-Amz-Target` value; accepts exactly `%s.<Name>`." % prefix)
        w("    pub fn from_target(target: &str) -> Option<Operation> {")
        w("        target")
        w("            .strip_prefix(TARGET_PREFIX)")
        w("            .and_then(|rest| rest.strip_prefix('.'))")
        w("            .and_then(Operation::from_name)")
        w("    }")
        w("")
        w("    /// Name of the operation's input shape (e.g. `\"EncryptRequest\"`).")
        w("    pub fn input_shape(self) -> &'static str {")
        w("        match self {")
        for op, d in self.ops.items():
            w('            Operation::%s => "%s",' % (op, d["input"]["shape"]))
        w("        }")
        w("    }")
        w("")
        w("    /// Name of the operation's output shape, `None` when the response body is empty.")
        w("    pub fn output_shape(self) -> Option<&'static str> {")
        w("        match self {")
        for op, d in self.ops.items():
            if "output" in d:
                w('            Operation::%s => Some("%s"),' % (op, d["output"]["shape"]))
            else:
                w("            Operation::%s => None," % op)
        w("        }")
        w("    }")
        w("")
        w("    /// Modeled error shapes this operation may return, in model order.")
        w("    pub fn errors(self) -> &'static [&'static str] {")
        w("        match self {")
        for op, d in self.ops.items():
            errs = ", ".join('"%s"' % e["shape"] for e in d.get("errors", []))
            w("            Operation::%s => &[%s]," % (op, errs))
        w("        }")
        w("    }")
        w("}")
        w("")
        w("impl std::fmt::Display for Operation {")
        w("    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {")
        w("        f.write_str(self.name())")
        w("    }")
        w("}")
        w("")

    def emit_errors(self, w):
        w("/// Names of all modeled error shapes (the `__type` codes KMS returns), sorted.")
        w("pub const MODELED_ERRORS: &[&str] = &[")
        for e in self.errors:
            w('    "%s",' % e)
        w("];")
        w("")

    def emit_enums(self, w):
        for name in sorted(self.shapes):
            s = self.shapes[name]
            if s["type"] == "string" and "enum" in s:
                w("/// Allowed values of the `%s` enum, in model order." % name)
                vals = ", ".join(rust_str(x) for x in s["enum"])
                w("pub const %s_VALUES: &[&str] = &[%s];" % (upper_snake(name), vals))
                w("")

    def pattern_shapes(self):
        return sorted(n for n, s in self.shapes.items() if "pattern" in s)

    def emit_patterns(self, w):
        for name in self.pattern_shapes():
            if name not in self.input_shapes:
                continue
            s = self.shapes[name]
            w("/// Model pattern of `%s`: `%s`." % (name, s["pattern"].replace("`", "'")))
            w(
                "static %s_PATTERN: LazyLock<Result<Regex, regex::Error>> ="
                % upper_snake(name)
            )
            w("    LazyLock::new(|| Regex::new(%s));" % rust_str(translate_pattern(s["pattern"])))
            w("")

    def emit_struct(self, w, name):
        s = self.shapes[name]
        roles = []
        if name in self.input_shapes:
            roles.append("request")
        if name in self.output_shapes:
            roles.append("response")
        w("/// Wire shape `%s` (%s)." % (name, " and ".join(roles)))
        w("#[derive(Debug, Default, Clone, Serialize)]")
        w("pub struct %s {" % name)
        for mname, m in s["members"].items():
            w('    #[serde(rename = "%s", skip_serializing_if = "Option::is_none")]' % mname)
            w("    pub %s: Option<%s>," % (snake(mname), self.rust_type(m["shape"])))
        w("}")
        w("")
        fields = ", ".join('%s => "%s"' % (snake(mn), mn) for mn in s["members"])
        w("deserialize_structure!(%s { %s });" % (name, fields))
        w("")

    def check_call(self, shape, expr, path_expr):
        """Rust statement validating `expr` (a reference) of model shape `shape`."""
        s = self.shapes[shape]
        if s["type"] == "structure":
            return "%s.validate_into(%s, out);" % (expr, path_expr)
        return "check_%s(%s, %s, out);" % (snake(shape).replace("r#", ""), expr, path_expr)

    def emit_validate_impl(self, w, name):
        s = self.shapes[name]
        required = set(s.get("required", []))
        body = []
        for mname, m in s["members"].items():
            shape = m["shape"]
            field = snake(mname)
            seg = lower_camel(mname)
            checks = self.has_checks(shape)
            path = 'v::join(path, "%s")' % seg
            if mname in required and checks:
                body.append("match &self.%s {" % field)
                body.append("    None => v::null(out, %s)," % path)
                body.append("    Some(x) => { %s }" % self.check_call(shape, "x", "&" + path))
                body.append("}")
            elif mname in required:
                body.append("if self.%s.is_none() {" % field)
                body.append("    v::null(out, %s);" % path)
                body.append("}")
            elif checks:
                body.append("if let Some(x) = &self.%s {" % field)
                body.append("    %s" % self.check_call(shape, "x", "&" + path))
                body.append("}")
        w("impl Validate for %s {" % name)
        if body:
            w("    fn validate_into(&self, path: &str, out: &mut Vec<Violation>) {")
            for line in body:
                w("        " + line)
        else:
            w("    fn validate_into(&self, _path: &str, _out: &mut Vec<Violation>) {")
        w("    }")
        w("}")
        w("")

    def emit_check_fn(self, w, name):
        s = self.shapes[name]
        t = s["type"]
        fname = "check_%s" % snake(name).replace("r#", "")
        sens = "true" if self.sensitive(name) else "false"
        mn = "Some(%d)" % s["min"] if "min" in s else "None"
        mx = "Some(%d)" % s["max"] if "max" in s else "None"
        has_len = "min" in s or "max" in s
        body = []
        if t == "string":
            arg = "value: &str"
            if has_len:
                body.append("v::length_str(out, path, value, %s, %s, %s);" % (mn, mx, sens))
            if "pattern" in s:
                body.append(
                    "v::pattern(out, path, value, &%s_PATTERN, %s, %s);"
                    % (upper_snake(name), rust_str(s["pattern"]), sens)
                )
            if "enum" in s:
                body.append(
                    "v::one_of(out, path, value, %s_VALUES, %s);" % (upper_snake(name), sens)
                )
        elif t == "blob":
            arg = "value: &Blob"
            body.append("v::length_blob(out, path, value.as_bytes().len(), %s, %s);" % (mn, mx))
        elif t in ("integer", "long"):
            arg = "value: &i64"
            body.append("v::range(out, path, *value, %s, %s);" % (mn, mx))
        elif t == "list":
            member = s["member"]["shape"]
            arg = "value: &[%s]" % self.rust_type(member)
            if has_len:
                ms = self.shapes[member]
                if ms["type"] == "string" and not self.sensitive(member):
                    render = "Some(v::render_list(value))"
                else:
                    render = "None"
                body.append(
                    "v::length_list(out, path, value.len(), %s, %s, || %s);" % (mn, mx, render)
                )
            if self.has_checks(member):
                body.append("for (i, x) in value.iter().enumerate() {")
                body.append("    %s" % self.check_call(member, "x", "&v::member(path, i)"))
                body.append("}")
        elif t == "map":
            arg = "value: &BTreeMap<String, String>"
            if has_len:
                body.append(
                    "v::length_list(out, path, value.len(), %s, %s, || None);" % (mn, mx)
                )
            k, val = s["key"]["shape"], s["value"]["shape"]
            if self.has_checks(k) or self.has_checks(val):
                body.append("for (i, (k, x)) in value.iter().enumerate() {")
                if self.has_checks(k):
                    body.append("    %s" % self.check_call(k, "k", "&v::map_key(path, i)"))
                if self.has_checks(val):
                    body.append("    %s" % self.check_call(val, "x", "&v::map_value(path, i)"))
                body.append("}")
        else:
            raise ValueError("no checks for %s" % name)
        w("fn %s(%s, path: &str, out: &mut Vec<Violation>) {" % (fname, arg))
        for line in body:
            w("    " + line)
        w("}")
        w("")

    def emit_tests(self, w):
        w("#[cfg(test)]")
        w("mod tests {")
        w("    /// (shape, model pattern, translated pattern) for every pattern in the model.")
        w("    const MODEL_PATTERNS: &[(&str, &str, &str)] = &[")
        for name in self.pattern_shapes():
            p = self.shapes[name]["pattern"]
            w(
                "        (%s, %s, %s),"
                % (rust_str(name), rust_str(p), rust_str(translate_pattern(p)))
            )
        w("    ];")
        w("")
        w("    #[test]")
        w("    fn every_model_pattern_compiles() {")
        w("        assert_eq!(MODEL_PATTERNS.len(), %d);" % len(self.pattern_shapes()))
        w("        for (shape, model, translated) in MODEL_PATTERNS {")
        w("            if let Err(e) = regex::Regex::new(translated) {")
        w('                panic!("pattern of {shape} ({model}) does not compile: {e}");')
        w("            }")
        w("        }")
        w("    }")
        w("}")


# ----------------------------------------------------------------------------- driver


def rustfmt(text):
    try:
        proc = subprocess.run(
            ["rustfmt", "--edition", "2021", "--emit", "stdout"],
            input=text,
            capture_output=True,
            text=True,
            cwd=CRATE_DIR,
            check=False,
        )
    except FileNotFoundError:
        sys.exit("gen_wire.py: rustfmt not found on PATH")
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit("gen_wire.py: rustfmt failed on the generated code")
    return proc.stdout


def strip_version(text):
    return "\n".join(
        "<version>" if line.startswith(VERSION_LINE_PREFIX) else line
        for line in text.split("\n")
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--check", action="store_true", help="fail if the committed file is out of date"
    )
    args = ap.parse_args()
    version, model = load_model()
    text = rustfmt(Gen(version, model).emit())
    rel = os.path.relpath(OUT_PATH, ROOT)
    if args.check:
        try:
            with open(OUT_PATH, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            print("%s is missing; run python3 tools/gen_wire.py" % rel, file=sys.stderr)
            return 1
        if strip_version(current) != strip_version(text):
            print(
                "%s is out of date with botocore %s; run python3 tools/gen_wire.py"
                % (rel, version),
                file=sys.stderr,
            )
            return 1
        if current != text:
            print(
                "note: %s was generated from another botocore version; model unchanged"
                % rel,
                file=sys.stderr,
            )
        print("%s is up to date" % rel)
        return 0
    with open(OUT_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %s (botocore %s)" % (rel, version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
