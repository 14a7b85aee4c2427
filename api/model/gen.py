#!/usr/bin/env python3
"""Generate ecslocal's operation and shape tables from botocore models.

This is ecslocal's equivalent of Redis's generate-command-code.py.  It has
two stages, and the build needs neither (their outputs are committed):

  1. --botocore DIR: read each service's service-2.json(.gz) from a botocore
     data directory, keep only what the emulated operations (api/model/ops/*.list)
     reach, strip the documentation, and write api/model/<service>.json.  The
     valid EC2 Describe filter names live only in documentation text, so they
     are extracted here, before the text is dropped, into "x-filters".
  2. Always: read the trimmed api/model/<service>.json files and write the C
     tables under api/gen/ (shapes, members, enums, operations, errors).

An ops list line is "<service> <Operation> <c_handler>"; '#' starts a comment.
"""
import argparse
import glob
import gzip
import html
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = os.path.join(ROOT, "api", "gen")

# key, botocore name, C prefix
SERVICES = [
    ("ec2", "ec2", "EC2"),
    ("ecs", "ecs", "ECS"),
    ("elbv2", "elbv2", "ELBV2"),
    ("servicediscovery", "servicediscovery", "SD"),
    ("sts", "sts", "STS"),
    ("logs", "logs", "LOGS"),
]

# The signing name in the SigV4 credential scope, when it differs from the key.
SIGNING = {"elbv2": "elasticloadbalancing"}

KEEP_SHAPE = {"type", "members", "required", "member", "key", "value", "enum",
              "min", "max", "pattern", "locationName", "queryName",
              "flattened", "xmlNamespace", "timestampFormat", "error",
              "exception", "fault", "document", "union"}
KEEP_MEMBER = {"shape", "locationName", "queryName", "flattened",
               "timestampFormat", "jsonvalue", "xmlAttribute"}


def die(msg):
    sys.stderr.write("gen.py: %s\n" % msg)
    sys.exit(1)


def read_ops_lists():
    ops = {}
    for path in sorted(glob.glob(os.path.join(HERE, "ops", "*.list"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split()
                if len(parts) != 3:
                    die("%s:%d: expected '<service> <Operation> <handler>'" % (path, n))
                svc, op, handler = parts
                if svc not in dict((s[0], s) for s in SERVICES):
                    die("%s:%d: unknown service %s" % (path, n, svc))
                if not re.match(r"^[a-z_][a-z0-9_]*$", handler):
                    die("%s:%d: handler %s is not a C identifier" % (path, n, handler))
                key = (svc, op)
                if key in ops:
                    die("%s:%d: %s %s listed twice" % (path, n, svc, op))
                ops[key] = handler
    return ops


def load_botocore(datadir, name):
    base = os.path.join(datadir, name)
    if not os.path.isdir(base):
        die("no model for %s under %s" % (name, datadir))
    version = sorted(os.listdir(base))[-1]
    for fn in ("service-2.json", "service-2.json.gz"):
        p = os.path.join(base, version, fn)
        if os.path.exists(p):
            opener = gzip.open if fn.endswith(".gz") else open
            with opener(p, "rt") as f:
                return json.load(f)
    die("no service-2.json for %s" % name)


def filters_from_doc(doc):
    names = re.findall(r"<li>\s*<p>\s*<code>([^<]+)</code>", doc or "")
    # "tag:<key>" (HTML-escaped in some operations' docs) means "tag".
    names = [html.unescape(n.strip()) for n in names]
    return sorted(set("tag" if n.startswith("tag:") else n for n in names))


def trim(model, emulated):
    shapes = model["shapes"]
    keep = set()

    def reach(name):
        if name in keep:
            return
        if name not in shapes:
            die("shape %s referenced but missing" % name)
        keep.add(name)
        s = shapes[name]
        for m in s.get("members", {}).values():
            reach(m["shape"])
        for k in ("member", "key", "value"):
            if k in s:
                reach(s[k]["shape"])

    out_ops = {}
    for opname in sorted(model["operations"]):
        op = model["operations"][opname]
        entry = {"name": opname}
        if opname in emulated:
            for k in ("input", "output"):
                if k in op:
                    entry[k] = {kk: vv for kk, vv in op[k].items()
                                if kk in ("shape", "resultWrapper")}
                    reach(op[k]["shape"])
            entry["errors"] = [e["shape"] for e in op.get("errors", [])]
            for e in entry["errors"]:
                reach(e)
            inp = shapes.get(op.get("input", {}).get("shape", ""), {})
            fdoc = inp.get("members", {}).get("Filters", {}).get("documentation")
            if fdoc is not None:
                entry["x-filters"] = filters_from_doc(fdoc)
        out_ops[opname] = entry
    # Every error shape of the service, so handlers can raise any of them.
    for name, s in shapes.items():
        if s.get("exception"):
            reach(name)
    out_shapes = {}
    for name in sorted(keep):
        s = shapes[name]
        t = {k: v for k, v in s.items() if k in KEEP_SHAPE}
        if "members" in t:
            t["members"] = {mn: {k: v for k, v in m.items() if k in KEEP_MEMBER}
                            for mn, m in s["members"].items()}
        for k in ("member", "key", "value"):
            if k in t:
                t[k] = {kk: vv for kk, vv in s[k].items() if kk in KEEP_MEMBER}
        out_shapes[name] = t
    meta = {k: v for k, v in model["metadata"].items()
            if k in ("apiVersion", "endpointPrefix", "protocol", "jsonVersion",
                     "targetPrefix", "xmlNamespace", "signingName", "serviceId")}
    return {"metadata": meta, "operations": out_ops, "shapes": out_shapes}


def refresh_models(datadir, ops):
    import importlib
    version = "unknown"
    init = os.path.join(os.path.dirname(datadir.rstrip("/")), "__init__.py")
    if os.path.exists(init):
        m = re.search(r"__version__ = '([^']+)'", open(init).read())
        if m:
            version = m.group(1)
    for key, bname, _ in SERVICES:
        emulated = {op for (s, op) in ops if s == key}
        model = load_botocore(datadir, bname)
        missing = emulated - set(model["operations"])
        if missing:
            die("%s has no operation(s) %s" % (key, ", ".join(sorted(missing))))
        t = trim(model, emulated)
        t["metadata"]["x-botocore"] = version
        write(os.path.join(HERE, key + ".json"),
              json.dumps(t, indent=1, sort_keys=True) + "\n")


def write(path, text):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def cstr(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ident(s):
    return re.sub(r"[^A-Za-z0-9_]", "_", s)


TYPES = {"structure": "T_STRUCT", "list": "T_LIST", "map": "T_MAP",
         "string": "T_STRING", "integer": "T_INTEGER", "long": "T_LONG",
         "boolean": "T_BOOLEAN", "double": "T_DOUBLE", "float": "T_DOUBLE",
         "timestamp": "T_TIMESTAMP", "blob": "T_BLOB"}


def generate_c(ops):
    models = {}
    for key, _, _ in SERVICES:
        p = os.path.join(HERE, key + ".json")
        if not os.path.exists(p):
            die("missing %s; run with --botocore first" % p)
        models[key] = json.load(open(p))
    stamp = "/* Automatically generated by api/model/gen.py from botocore %s; do not edit. */\n"
    version = models["ec2"]["metadata"].get("x-botocore", "unknown")
    head = stamp % version

    # Check: every emulated op exists in the trimmed models (Redis-style
    # checks before writing anything).
    for (svc, op) in ops:
        entry = models[svc]["operations"].get(op)
        if entry is None or ("input" not in entry and "output" not in entry and
                             "errors" not in entry):
            die("%s %s is listed but not in the trimmed model; run make models" % (svc, op))

    shape_ids = []       # (svc, name)
    index = {}
    for key, _, prefix in SERVICES:
        for name in sorted(models[key]["shapes"]):
            index[(key, name)] = len(shape_ids)
            shape_ids.append((key, name))

    def sid(svc, name):
        if (svc, name) not in index:
            die("shape %s/%s missing" % (svc, name))
        pfx = dict((s[0], s[2]) for s in SERVICES)[svc]
        return "SH_%s_%s" % (pfx, ident(name))

    lines_h = [head, "#ifndef ECSL_GEN_SHAPES_H\n#define ECSL_GEN_SHAPES_H\n\nenum shape_id {\n"]
    for i, (svc, name) in enumerate(shape_ids):
        lines_h.append("    %s = %d,\n" % (sid(svc, name), i))
    lines_h.append("    SH__COUNT\n};\n\n#endif\n")
    write(os.path.join(GEN, "shape_ids.h"), "".join(lines_h))

    members = []   # rows
    enums = []     # strings
    shape_rows = []
    for svc, name in shape_ids:
        s = models[svc]["shapes"][name]
        t = TYPES.get(s["type"])
        if t is None:
            die("unsupported type %s in %s" % (s["type"], name))
        if s.get("document"):
            t = "T_DOCUMENT"
        required = set(s.get("required", []))
        moff = len(members)
        for mn in sorted(s.get("members", {})):
            m = s["members"][mn]
            flags = []
            if mn in required:
                flags.append("MF_REQUIRED")
            if m.get("xmlAttribute"):
                flags.append("MF_XMLATTR")
            members.append("    { %s, %s, %s, %s, %s },\n" % (
                cstr(mn), sid(svc, m["shape"]), cstr(m.get("locationName")),
                cstr(m.get("queryName")), "|".join(flags) or "0"))
        nmem = len(members) - moff
        eoff = len(enums)
        for e in s.get("enum", []):
            enums.append("    %s,\n" % cstr(e))
        nen = len(enums) - eoff
        inner = "0"
        inner_loc = None
        key_loc = val_loc = None
        if s["type"] == "list":
            inner = sid(svc, s["member"]["shape"])
            inner_loc = s["member"].get("locationName")
        value = "0"
        if s["type"] == "map":
            inner = sid(svc, s["key"]["shape"])
            value = sid(svc, s["value"]["shape"])
            key_loc = s["key"].get("locationName")
            val_loc = s["value"].get("locationName")
        sflags = []
        if s.get("flattened"):
            sflags.append("SF_FLATTENED")
        if "min" in s:
            sflags.append("SF_HAS_MIN")
        if "max" in s:
            sflags.append("SF_HAS_MAX")
        if s.get("exception"):
            sflags.append("SF_EXCEPTION")
        ts = s.get("timestampFormat")
        tsfmt = {"iso8601": "TS_ISO8601", "unixTimestamp": "TS_EPOCH",
                 "rfc822": "TS_RFC822"}.get(ts, "TS_DEFAULT")
        shape_rows.append(
            "    [%s] = { %s, %s, %s, %s, %d, %d, %d, %d, %s, %s, %s, %s, %s, %s, %dLL, %dLL },\n" % (
                sid(svc, name), cstr(name), t, "|".join(sflags) or "0",
                tsfmt, moff, nmem, eoff, nen, inner, value,
                cstr(inner_loc), cstr(key_loc), cstr(val_loc),
                cstr(s.get("pattern")),
                int(s.get("min", 0)), int(s.get("max", 0))))

    c = [head, '#include "../model.h"\n\n']
    c.append("const struct member model_members[] = {\n")
    c.extend(members or ["    { 0 }\n"])
    c.append("};\n\nconst char *const model_enums[] = {\n")
    c.extend(enums or ["    NULL\n"])
    c.append("};\n\nconst struct shape model_shapes[SH__COUNT] = {\n")
    c.extend(shape_rows)
    c.append("};\n")
    write(os.path.join(GEN, "shapes.c"), "".join(c))

    # services.def
    sv = [head]
    for key, _, prefix in SERVICES:
        md = models[key]["metadata"]
        proto = {"json": "PROTO_JSON", "query": "PROTO_QUERY", "ec2": "PROTO_EC2"}[md["protocol"]]
        ns = md.get("xmlNamespace")
        if ns and proto == "PROTO_EC2" and not ns.endswith("/"):
            ns += "/"  # what EC2 really sends
        sv.append("SVC(SVC_%s, %s, %s, %s, %s, %s, %s)\n" % (
            prefix, cstr(key), proto, cstr(md.get("targetPrefix")),
            cstr(md["apiVersion"]), cstr(ns), cstr(SIGNING.get(key, md.get("endpointPrefix", key)))))
    write(os.path.join(GEN, "services.def"), "".join(sv))

    # ops.def: emulated ops; noops.def: the rest, named for the error.
    od = [head]
    nd = [head]
    fd = [head]
    hd = [head, "#ifndef ECSL_GEN_HANDLERS_H\n#define ECSL_GEN_HANDLERS_H\nstruct call;\n"
          "/* Weak, so an operation listed before its handler is written links\n"
          " * and answers NotImplemented; tests/unit checks none is missing. */\n"]
    for key, _, prefix in SERVICES:
        for opname in sorted(models[key]["operations"]):
            entry = models[key]["operations"][opname]
            handler = ops.get((key, opname))
            if handler is None:
                nd.append("NOOP(SVC_%s, %s)\n" % (prefix, cstr(opname)))
                continue
            inp = entry.get("input", {}).get("shape")
            out = entry.get("output", {}).get("shape")
            wrap = entry.get("output", {}).get("resultWrapper")
            od.append("OP(SVC_%s, %s, %s, %s, %s, %s)\n" % (
                prefix, cstr(opname), sid(key, inp) if inp else "SH__NONE",
                sid(key, out) if out else "SH__NONE", cstr(wrap), handler))
            hd.append("int %s(struct call *c) __attribute__((weak));\n" % handler)
            for f in entry.get("x-filters", []):
                fd.append("FILTER(SVC_%s, %s, %s)\n" % (prefix, cstr(opname), cstr(f)))
    hd.append("#endif\n")
    write(os.path.join(GEN, "ops.def"), "".join(od))
    write(os.path.join(GEN, "noops.def"), "".join(nd))
    write(os.path.join(GEN, "filters.def"), "".join(fd))
    write(os.path.join(GEN, "handlers.h"), "".join(hd))

    # errors.def: exception shapes with their wire code and status.
    ed = [head]
    for key, _, prefix in SERVICES:
        for name in sorted(models[key]["shapes"]):
            s = models[key]["shapes"][name]
            if not s.get("exception"):
                continue
            err = s.get("error", {})
            code = err.get("code", name)
            status = err.get("httpStatusCode", 500 if s.get("fault") else 400)
            sender = 0 if s.get("fault") else int(err.get("senderFault", True))
            ed.append("ERR(SVC_%s, %s, %s, %d, %d)\n" % (prefix, cstr(name), cstr(code), status, sender))
    write(os.path.join(GEN, "errors.def"), "".join(ed))


def find_botocore():
    cands = []
    try:
        import botocore
        cands.append(os.path.join(os.path.dirname(botocore.__file__), "data"))
    except ImportError:
        pass
    cands += glob.glob("/root/.pyenv/versions/*/lib/python3*/site-packages/botocore/data")
    cands += ["/usr/lib/python3/dist-packages/botocore/data"]
    for c in cands:
        if os.path.isdir(os.path.join(c, "ec2")):
            return c
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--botocore", metavar="DIR",
                    help="botocore data directory ('auto' to find one)")
    args = ap.parse_args()
    ops = read_ops_lists()
    if args.botocore:
        d = find_botocore() if args.botocore == "auto" else args.botocore
        if not d:
            die("no botocore data directory found")
        refresh_models(d, ops)
    os.makedirs(GEN, exist_ok=True)
    generate_c(ops)


if __name__ == "__main__":
    main()
