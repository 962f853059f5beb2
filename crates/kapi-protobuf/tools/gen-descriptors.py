#!/usr/bin/env python3
"""Writes src/descriptors.txt, the message table the transcoder walks.

Usage: gen-descriptors.py API_DIR APIMACHINERY_DIR > src/descriptors.txt
where API_DIR is a checkout of k8s.io/api and APIMACHINERY_DIR one of k8s.io/apimachinery (same minor version as
the served API). Field numbers and proto types come from each package's generated.proto; the Go-side facts the
JSON form depends on (field order, JSON name, pointer or value, omitempty/omitzero, inline) come from the Go
struct tags in types.go. Only messages reachable from ROOTS are written.
"""
import os
import re
import sys

PACKAGES = {  # short prefix -> (which checkout, package dir, Go files holding the structs)
    "core.v1": ("api", "core/v1", ["types.go"]),
    "coordination.v1": ("api", "coordination/v1", ["types.go"]),
    "rbac.v1": ("api", "rbac/v1", ["types.go"]),
    "events.v1": ("api", "events/v1", ["types.go"]),
    "authentication.v1": ("api", "authentication/v1", ["types.go"]),
    "authorization.v1": ("api", "authorization/v1", ["types.go"]),
    "meta.v1": ("am", "pkg/apis/meta/v1", ["types.go", "watch.go"]),
    "runtime": ("am", "pkg/runtime", ["types.go"]),
    "intstr": ("am", "pkg/util/intstr", []),
    "resource": ("am", "pkg/api/resource", []),
}
PROTO_PACKAGE_PREFIXES = {
    "k8s.io.api.": "",
    "k8s.io.apimachinery.pkg.apis.": "",
    "k8s.io.apimachinery.pkg.util.": "",
    "k8s.io.apimachinery.pkg.api.": "",
    "k8s.io.apimachinery.pkg.": "",
}
# Messages whose JSON form is not their proto structure; the transcoder implements them by hand.
SPECIAL = {"meta.v1.Time", "meta.v1.MicroTime", "meta.v1.FieldsV1", "runtime.RawExtension",
           "intstr.IntOrString", "resource.Quantity"}
ROOTS = """
core.v1.ConfigMap core.v1.ConfigMapList core.v1.Secret core.v1.SecretList core.v1.Namespace core.v1.NamespaceList
core.v1.ServiceAccount core.v1.ServiceAccountList core.v1.Event core.v1.EventList
events.v1.Event events.v1.EventList coordination.v1.Lease coordination.v1.LeaseList
rbac.v1.Role rbac.v1.RoleList rbac.v1.RoleBinding rbac.v1.RoleBindingList rbac.v1.ClusterRole rbac.v1.ClusterRoleList
rbac.v1.ClusterRoleBinding rbac.v1.ClusterRoleBindingList
meta.v1.Status meta.v1.DeleteOptions meta.v1.WatchEvent meta.v1.PartialObjectMetadata meta.v1.PartialObjectMetadataList

authentication.v1.TokenRequest authentication.v1.TokenReview authentication.v1.SelfSubjectReview
authorization.v1.SubjectAccessReview authorization.v1.SelfSubjectAccessReview authorization.v1.LocalSubjectAccessReview
authorization.v1.SelfSubjectRulesReview
""".split()
SCALARS = {"string", "int32", "int64", "bool", "bytes", "double", "float", "uint32", "uint64"}


def short_name(proto_pkg, type_name):
    if type_name in SCALARS:
        return type_name
    full = type_name.lstrip(".") if "." in type_name else proto_pkg + "." + type_name
    for prefix, repl in PROTO_PACKAGE_PREFIXES.items():
        if full.startswith(prefix):
            return repl + full[len(prefix):]
    raise SystemExit(f"unknown proto package in {full}")


def parse_proto(path):
    text = open(path).read()
    pkg = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    messages, current = {}, None
    for line in text.splitlines():
        line = line.split("//")[0].strip()
        if m := re.match(r"message (\w+) \{", line):
            current = short_name(pkg, m.group(1))
            messages[current] = []
        elif line == "}":
            current = None
        elif current and (m := re.match(r"(optional|repeated) ([\w.]+) (\w+) = (\d+);", line)):
            messages[current].append((m.group(3), int(m.group(4)), short_name(pkg, m.group(2)), m.group(1) == "repeated", None))
        elif current and (m := re.match(r"map<string, ([\w.]+)> (\w+) = (\d+);", line)):
            messages[current].append((m.group(2), int(m.group(3)), short_name(pkg, m.group(1)), False, "map"))
        elif current and line:
            raise SystemExit(f"{path}: cannot parse {line!r}")
    return messages


def parse_go(path):
    """struct name -> {proto field name: (go type, json name, json options)}; plus slice-typed names."""
    structs, slices, current = {}, set(), None
    for line in open(path):
        if m := re.match(r"type (\w+) struct \{", line):
            current = structs.setdefault(m.group(1), {})
        elif m := re.match(r"type (\w+) \[\]", line):
            slices.add(m.group(1))
        elif line.startswith("}"):
            current = None
        elif current is not None and (m := re.match(r"\s+(?:(\w+)\s+)?(\S+)\s+`(.*)`", line)):
            tags = dict(re.findall(r'(\w+):"([^"]*)"', m.group(3)))
            if "protobuf" not in tags:
                continue
            named = re.search(r"name=(\w+)", tags["protobuf"])
            if named is None:  # an embedded struct without a proto name; none of the served types has one
                continue
            proto_name = named.group(1)
            json_parts = tags.get("json", "").split(",")
            current[proto_name] = (m.group(2), json_parts[0], set(json_parts[1:]))
    return structs, slices


def main(api_dir, am_dir):
    roots = {"api": api_dir, "am": am_dir}
    protos, go_structs, go_slices = {}, {}, {}
    for prefix, (where, pkg_dir, go_files) in PACKAGES.items():
        protos.update(parse_proto(os.path.join(roots[where], pkg_dir, "generated.proto")))
        for go_file in go_files:
            structs, slices = parse_go(os.path.join(roots[where], pkg_dir, go_file))
            for name, fields in structs.items():
                go_structs[prefix + "." + name] = fields
            go_slices.update({prefix + "." + s: True for s in slices})
    wanted, queue = [], list(ROOTS)
    while queue:
        name = queue.pop(0)
        if name in wanted or name in SPECIAL:
            continue
        if name not in protos:
            raise SystemExit(f"no proto message {name}")
        wanted.append(name)
        queue.extend(t for (_, _, t, _, _) in protos[name] if t not in SCALARS)
    print("# The messages kapi-protobuf transcodes. Generated by tools/gen-descriptors.py from k8s.io/api and")
    print("# k8s.io/apimachinery v0.36.2 (generated.proto + Go struct tags); do not edit by hand.")
    print("# message <name> [array]; then one field a line: <jsonName> <number> <type> [ptr] [omitempty] [omitzero] [inline]")
    print("# <type> is a scalar, a message name, []<type> for repeated, map[<type>] for map<string, type>.")
    for name in sorted(wanted):
        proto_fields = protos[name]
        go = go_structs.get(name)
        if name in go_slices:
            print(f"\nmessage {name} array")
        else:
            print(f"\nmessage {name}")
        rows = []
        for (proto_name, number, type_name, repeated, kind) in proto_fields:
            go_type, json_name, opts = (go or {}).get(proto_name, ("", proto_name, {"omitempty"}))
            if go is not None and name not in go_slices and proto_name not in go:
                print(f"warning: {name}.{proto_name} has no Go field", file=sys.stderr)
            flags = []
            if go_type.startswith("*"):
                flags.append("ptr")
            flags += [o for o in ("omitempty", "omitzero", "inline") if o in opts]
            if json_name == "" and "inline" not in opts:
                json_name = proto_name
            if json_name == "-":
                continue
            type_text = ("[]" if repeated else "map[" if kind == "map" else "") + type_name + ("]" if kind == "map" else "")
            order = list(go.keys()).index(proto_name) if go and proto_name in go else number
            rows.append((order, f"  {json_name or '-'} {number} {type_text} {' '.join(flags)}".rstrip()))
        for _, row in sorted(rows):
            print(row)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
