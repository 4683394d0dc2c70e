#!/usr/bin/env python3
"""Validate OCSF findings (NDJSON, one event per line) with py-ocsf-models.

Usage: siem_check.py ocsf FILE.ndjson   (exit 0 = all lines valid, 1 = any error)

Strictness:
  * Model.model_validate_json(line, strict=True, extra="forbid"): pydantic >= 2.12
    applies the per-call `extra="forbid"` recursively to every nested model, so an
    unknown or misspelled key at any depth is an error (free-form dict fields such
    as `unmapped`, `resources[].data`, `evidences[].data` still accept anything).
    strict=True in JSON mode: no "4" -> 4 or "1" -> 1 coercion.
  * Checks the models do not do: class_uid (a plain int with a default in the
    models), category_uid, type_uid = class_uid*100 + activity_id,
    metadata.version == the OCSF version the package models, caption fields.
  * PROFILE_GAPS: OCSF 1.5 cloud-profile attributes that ComplianceFinding in
    py-ocsf-models 0.10.0 leaves out; they are taken off and validated with the
    package's own object models (Cloud, API), not a hand-written schema.
  * EVIDENCE_GAPS: `evidences[].actor` and `evidences[].src_endpoint` are OCSF 1.5
    attributes of the Evidence Artifacts object that the package marks TODO. The
    actor's `user` is validated with the package's User model; `src_endpoint` holds
    either an `ip`, which must parse as an IP address, or a `svc_name` (an AWS service
    calling for a user): the one check written here.
"""
import ipaddress
import inspect
import json
import sys

from pydantic import BaseModel, ValidationError

from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.objects.api import API
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.user import User

if "extra" not in inspect.signature(BaseModel.model_validate_json).parameters:
    sys.exit("validate.py needs pydantic >= 2.12 (per-call extra='forbid')")

CLASSES = {
    2003: (ComplianceFinding, "Compliance Finding"),
    2004: (DetectionFinding, "Detection Finding"),
}
PROFILE_GAPS = {2003: {"cloud": Cloud, "api": API}}
ACTIVITY_NAMES = {a.value: a.name for a in ActivityID}
SEVERITY_NAMES = {s.value: s.name for s in SeverityID}


def _fmt(prefix, err):
    loc = ".".join(str(p) for p in err["loc"])
    path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "<root>")
    return f"{path}: {err['msg']} [{err['type']}]"


def _validate(model, obj, prefix=""):
    try:
        model.model_validate_json(json.dumps(obj), strict=True, extra="forbid")
        return []
    except ValidationError as e:
        return [_fmt(prefix, err) for err in e.errors()]


def _int_ids(node, path=""):
    """strict JSON mode still lets 4.0 / true through for IntEnum fields: refuse
    them for every *_id key (free-form `data`/`unmapped` payloads are skipped)."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else k
            if k.endswith("_id") and isinstance(v, (bool, float)):
                out.append(f"{p}: {v!r} must be a JSON integer")
            elif k not in ("data", "unmapped"):
                out += _int_ids(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _int_ids(v, f"{path}.{i}")
    return out


def validate_event(obj):
    if not isinstance(obj, dict):
        return ["event is not a JSON object"]
    cuid = obj.get("class_uid")
    if type(cuid) is not int or cuid not in CLASSES:
        return [f"class_uid: {cuid!r} is not one of {sorted(CLASSES)}"]
    model, caption = CLASSES[cuid]
    obj = dict(obj)
    errors = _int_ids(obj)
    for attr, sub_model in PROFILE_GAPS.get(cuid, {}).items():
        if attr in obj:
            errors += _validate(sub_model, obj.pop(attr), attr)
    if isinstance(obj.get("evidences"), list):
        evidences = []
        for i, evidence in enumerate(obj["evidences"]):
            evidence = dict(evidence) if isinstance(evidence, dict) else evidence
            if isinstance(evidence, dict):
                actor = evidence.pop("actor", None)
                if actor is not None:
                    if not isinstance(actor, dict) or set(actor) != {"user"}:
                        errors.append(f"evidences.{i}.actor: only a user is expected")
                    else:
                        errors += _validate(User, actor["user"], f"evidences.{i}.actor.user")
                endpoint = evidence.pop("src_endpoint", None)
                if endpoint is not None:
                    if isinstance(endpoint, dict) and set(endpoint) == {"svc_name"}:
                        if not isinstance(endpoint["svc_name"], str) or not endpoint["svc_name"]:
                            errors.append(f"evidences.{i}.src_endpoint.svc_name: not a name")
                    elif not isinstance(endpoint, dict) or set(endpoint) != {"ip"}:
                        errors.append(f"evidences.{i}.src_endpoint: an ip or a svc_name is expected")
                    else:
                        try:
                            ipaddress.ip_address(endpoint["ip"])
                        except (TypeError, ValueError):
                            errors.append(f"evidences.{i}.src_endpoint.ip: {endpoint['ip']!r} is not an IP address")
            evidences.append(evidence)
        obj["evidences"] = evidences
    errors += _validate(model, obj)

    def expect(field, want):
        if field in obj and obj[field] != want:
            errors.append(f"{field}: {obj[field]!r} != expected {want!r}")

    if "category_uid" not in obj:  # the models default it; consumers need it
        errors.append("category_uid: missing")
    expect("category_uid", 2)
    expect("category_name", "Findings")
    expect("class_name", caption)
    act = obj.get("activity_id")
    if type(act) is int:
        expect("type_uid", cuid * 100 + act)
        if act in ACTIVITY_NAMES and act != 99:
            expect("activity_name", ACTIVITY_NAMES.get(act))
    sev = obj.get("severity_id")
    if sev in SEVERITY_NAMES and sev != 99:
        expect("severity", SEVERITY_NAMES.get(sev))
    md = obj.get("metadata")
    if isinstance(md, dict) and md.get("version") != OCSF_VERSION:
        errors.append(f"metadata.version: {md.get('version')!r} != {OCSF_VERSION!r}")
    comp = obj.get("compliance")
    if cuid == 2003 and isinstance(comp, dict) and "status_id" not in comp:
        errors.append("compliance.status_id: missing")
    return errors


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    n_bad = n = 0
    with open(argv[0], encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            n += 1
            try:
                errors = validate_event(json.loads(line))
            except json.JSONDecodeError as e:
                errors = [f"invalid JSON: {e}"]
            if errors:
                n_bad += 1
                for err in errors:
                    print(f"line {lineno}: {err}")
    if n == 0:
        print("no events found")
        return 1
    print(f"OCSF: {n - n_bad} events valid, {n_bad} invalid")
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
