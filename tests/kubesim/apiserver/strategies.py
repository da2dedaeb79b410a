"""Per-kind defaulting and validation (the apiserver's "registry strategies").

Only what clients of this project can observe is modelled; every rule names the
field and message form the real API uses (pkg/apis/core/validation, apimachinery field.Error).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Optional

from . import errors as E
from . import builtin_schema, cel_rules, list_types, structural
from ..util import DNS1123_LABEL, DNS1123_SUBDOMAIN

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_PATH_SEGMENT_BAD = re.compile(r"[/%]")


def validate_name(rt, name: str, causes: list) -> None:
    if not name:
        return
    if rt.group == "rbac.authorization.k8s.io":
        if name in (".", "..") or _PATH_SEGMENT_BAD.search(name):
            causes.append(E.invalid_value("metadata.name", name, "may not contain '/' or '%'"))
        return
    if rt.plural == "namespaces":
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            causes.append(E.invalid_value(
                "metadata.name", name,
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
        return
    if rt.plural == "services":
        if len(name) > 63 or not _DNS1035.match(name):
            causes.append(E.invalid_value(
                "metadata.name", name,
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"))
        return
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        causes.append(E.invalid_value(
            "metadata.name", name,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
            "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))


def _validate_labels(obj, causes):
    md = obj.get("metadata") or {}
    for fld in ("labels", "annotations"):
        v = md.get(fld)
        if v is None:
            continue
        if not isinstance(v, dict):
            causes.append(E.invalid_value(f"metadata.{fld}", str(v), "must be a map of strings"))
            continue
        for k, val in v.items():
            if not isinstance(val, str):
                raise E.bad_request(f"json: cannot unmarshal {type(val).__name__} into Go struct field "
                                    f"ObjectMeta.metadata.{fld} of type string")
        if fld == "labels":
            for k, val in v.items():
                if len(val) > 63 or (val and not re.match(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", val)):
                    causes.append(E.invalid_value("metadata.labels", val,
                                                  "a valid label must be an empty string or consist of alphanumeric "
                                                  "characters, '-', '_' or '.', and must start and end with an "
                                                  "alphanumeric character"))


# ------------------------------------------------------------------ kinds


def _secret_prepare(obj, old):
    sd = obj.pop("stringData", None)
    data = obj.get("data")
    if data is not None and not isinstance(data, dict):
        raise E.bad_request("Secret in version \"v1\" cannot be handled as a Secret: data must be a map")
    if data:
        for k, v in data.items():
            if not isinstance(v, str):
                raise E.bad_request('Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal '
                                    f'{type(v).__name__} into Go struct field Secret.data of type []uint8')
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                raise E.bad_request('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at '
                                    'input byte 0')
    if sd:
        if not isinstance(sd, dict):
            raise E.bad_request("Secret in version \"v1\" cannot be handled as a Secret: stringData must be a map")
        data = dict(data or {})
        for k, v in sd.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data
    if not obj.get("type"):
        obj["type"] = "Opaque"


def _secret_validate(rt, obj, old, causes):
    for k in (obj.get("data") or {}):
        if not _CONFIG_KEY.match(k) or len(k) > 253:
            causes.append(E.invalid_value(f"data[{k}]", k, "a valid config key must consist of alphanumeric "
                                          "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                                          "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))
    if obj.get("type") == "kubernetes.io/tls":
        for k in ("tls.crt", "tls.key"):
            if k not in (obj.get("data") or {}):
                causes.append(E.required(f"data[{k}]"))
    if old is not None:
        if obj.get("type") != old.get("type"):
            causes.append(E.invalid_value("type", obj.get("type"), "field is immutable"))
        _immutable_data(obj, old, causes)


def _immutable_data(obj, old, causes):
    if old.get("immutable") is True:
        if obj.get("data") != old.get("data"):
            causes.append(E.forbidden_field("data", "field is immutable when `immutable` is set"))
        if obj.get("binaryData") != old.get("binaryData"):
            causes.append(E.forbidden_field("binaryData", "field is immutable when `immutable` is set"))
        if obj.get("immutable") is not True:
            causes.append(E.forbidden_field("immutable", "field is immutable when `immutable` is set"))


def _configmap_validate(rt, obj, old, causes):
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise E.bad_request("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: data must be a map")
    for k, v in data.items():
        if not isinstance(v, str):
            raise E.bad_request('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot '
                                f'unmarshal {type(v).__name__} into Go struct field ConfigMap.data of type string')
        if not _CONFIG_KEY.match(k):
            causes.append(E.invalid_value(f"data[{k}]", k, "a valid config key must consist of alphanumeric "
                                          "characters, '-', '_' or '.'"))
    if old is not None:
        _immutable_data(obj, old, causes)


def _namespace_prepare(obj, old):
    name = obj["metadata"].get("name")
    labels = obj["metadata"].setdefault("labels", {})
    if name:
        labels["kubernetes.io/metadata.name"] = name
    if old is None:
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
    else:
        obj["spec"] = old.get("spec") or {"finalizers": ["kubernetes"]}


def _containers_validate(spec, prefix, causes):
    containers = spec.get("containers")
    if not containers:
        causes.append(E.required(f"{prefix}.containers"))
        return
    if not isinstance(containers, list):
        causes.append(E.invalid_value(f"{prefix}.containers", str(containers), "must be a list"))
        return
    seen = set()
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            causes.append(E.invalid_value(f"{prefix}.containers[{i}]", str(c), "must be an object"))
            continue
        n = c.get("name")
        if not n:
            causes.append(E.required(f"{prefix}.containers[{i}].name"))
        elif n in seen:
            causes.append((f"{prefix}.containers[{i}].name", "FieldValueDuplicate", f'Duplicate value: "{n}"'))
        seen.add(n)
        if not c.get("image"):
            causes.append(E.required(f"{prefix}.containers[{i}].image"))


def _pod_spec_defaults(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for c in spec.get("containers") or []:
        if isinstance(c, dict):
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("imagePullPolicy", "Always" if str(c.get("image", "")).endswith(":latest")
                         or ":" not in str(c.get("image", "")).rsplit("/", 1)[-1] else "IfNotPresent")
            c.setdefault("resources", {})
            for p in c.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")


def _pod_prepare(obj, old):
    spec = obj.setdefault("spec", {})
    if old is None:
        _pod_spec_defaults(spec)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec.get("serviceAccountName"))
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def _pod_validate(rt, obj, old, causes):
    spec = obj.get("spec") or {}
    _containers_validate(spec, "spec", causes)
    if old is not None and not causes:
        def strip(s):
            s = dict(s or {})
            s["containers"] = [{k: v for k, v in c.items() if k != "image"} for c in s.get("containers") or []
                               if isinstance(c, dict)]
            s["initContainers"] = [{k: v for k, v in c.items() if k != "image"}
                                   for c in s.get("initContainers") or [] if isinstance(c, dict)]
            s.pop("activeDeadlineSeconds", None)
            s.pop("tolerations", None)
            return s
        a, b = strip(spec), strip(old.get("spec"))
        if not b.get("nodeName"):  # binding a pod to a node
            a.pop("nodeName", None)
            b.pop("nodeName", None)
        if a != b:
            causes.append(E.forbidden_field(
                "spec", "pod updates may not change fields other than `spec.containers[*].image`,"
                "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                "previously negative)"))


_ip_counter = [0]


def _service_prepare(obj, old, cluster):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            if "port" in p:
                p.setdefault("targetPort", p["port"])
    if old is not None:
        ospec = old.get("spec") or {}
        for k in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
            if k in ospec and k not in spec:
                spec[k] = ospec[k]
    if spec.get("clusterIP") != "None" and not spec.get("clusterIP") and spec["type"] != "ExternalName":
        ip = cluster.allocate_service_ip()
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if old is None:
        obj["status"] = {"loadBalancer": {}}


def _service_validate(rt, obj, old, causes):
    spec = obj.get("spec") or {}
    if spec.get("type", "ClusterIP") != "ExternalName" and not spec.get("ports") and spec.get("clusterIP") != "None":
        causes.append(E.required("spec.ports"))
    if old is not None:
        oip = (old.get("spec") or {}).get("clusterIP")
        if oip and spec.get("clusterIP") != oip:
            causes.append(E.invalid_value("spec.clusterIP", spec.get("clusterIP"), "field is immutable"))


def _deployment_prepare(obj, old):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault("strategy", {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    tmpl = spec.get("template")
    if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
        _pod_spec_defaults(tmpl["spec"])
        tmpl.setdefault("metadata", {})
        tmpl["metadata"].pop("creationTimestamp", None)


def _statefulset_prepare(obj, old):
    """pkg/apis/apps/v1/defaults.go SetDefaults_StatefulSet (apps/v1: the selector is required, not defaulted)."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    _template_defaults(spec)


def _daemonset_prepare(obj, old):
    """pkg/apis/apps/v1/defaults.go SetDefaults_DaemonSet."""
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", 1)
        ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template_defaults(spec)


def _job_prepare(obj, old):
    """pkg/apis/batch/v1/defaults.go SetDefaults_Job, and pkg/registry/batch/job/strategy.go
    generateSelector: unless ``manualSelector``, the selector is the Job's uid and the template gets
    the controller-uid and job-name labels (legacy and ``batch.kubernetes.io/`` forms)."""
    spec = obj.setdefault("spec", {})
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    tmpl = spec.setdefault("template", {})
    tmd = tmpl.setdefault("metadata", {})
    md = obj["metadata"]
    if old is None and not spec.get("manualSelector"):
        uid, name = md.get("uid"), md.get("name")
        labels = dict(tmd.get("labels") or {})
        labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                       "controller-uid": uid, "job-name": name})
        tmd["labels"] = labels
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    elif old is not None:
        ospec = old.get("spec") or {}
        spec.setdefault("selector", ospec.get("selector"))
    if tmd.get("labels") and not md.get("labels"):
        md["labels"] = dict(tmd["labels"])
    _template_defaults(spec)


def _template_defaults(spec):
    tmpl = spec.get("template")
    if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
        _pod_spec_defaults(tmpl["spec"])
        tmpl.setdefault("metadata", {})
        tmpl["metadata"].pop("creationTimestamp", None)


def _job_validate(rt, obj, old, causes):
    spec = obj.get("spec") or {}
    tmpl = spec.get("template") or {}
    _deployment_validate(rt, obj, old, causes)
    policy = (tmpl.get("spec") or {}).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        causes.append(("spec.template.spec.restartPolicy", "FieldValueNotSupported",
                       f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"'))
    for key in ("parallelism", "completions", "backoffLimit"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            causes.append(E.invalid_value(f"spec.{key}", value, "must be greater than or equal to 0"))
    if old is not None:
        ospec = old.get("spec") or {}
        for key in ("completions", "selector", "template", "completionMode"):
            if spec.get(key) != ospec.get(key):
                causes.append(E.invalid_value(f"spec.{key}", str(spec.get(key)), "field is immutable"))


def _fmt_map(m):
    inner = ", ".join(f'"{k}":"{v}"' for k, v in sorted((m or {}).items()))
    return "map[string]string{" + inner + "}"


def _deployment_validate(rt, obj, old, causes):
    spec = obj.get("spec") or {}
    sel = spec.get("selector")
    if not sel:
        causes.append(E.required("spec.selector"))
    tmpl = spec.get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    if sel:
        match = selector_matcher(sel)
        if not labels or not match(labels):
            causes.append(E.invalid_value("spec.template.metadata.labels", _fmt_map(labels),
                                          "`selector` does not match template `labels`"))
    _containers_validate(tmpl.get("spec") or {}, "spec.template.spec", causes)
    r = spec.get("replicas")
    if r is not None and (not isinstance(r, int) or r < 0):
        causes.append(E.invalid_value("spec.replicas", r, "must be greater than or equal to 0"))
    if old is not None and sel and (old.get("spec") or {}).get("selector") != sel:
        causes.append(E.invalid_value("spec.selector", str(sel), "field is immutable"))


def selector_matcher(sel: dict):
    """Predicate for a metav1.LabelSelector (matchLabels + matchExpressions)."""
    ml = (sel or {}).get("matchLabels") or {}
    exprs = (sel or {}).get("matchExpressions") or []

    def match(labels):
        labels = labels or {}
        for k, v in ml.items():
            if labels.get(k) != v:
                return False
        for e in exprs:
            k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
            if op == "In" and labels.get(k) not in vals:
                return False
            if op == "NotIn" and k in labels and labels[k] in vals:
                return False
            if op == "Exists" and k not in labels:
                return False
            if op == "DoesNotExist" and k in labels:
                return False
        return True
    return match


def _crd_validate(rt, obj, old, causes):
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group")
    if not group:
        causes.append(E.required("spec.group"))
    if not names.get("plural"):
        causes.append(E.required("spec.names.plural"))
    if not names.get("kind"):
        causes.append(E.required("spec.names.kind"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(E.invalid_value("spec.scope", spec.get("scope") or "", 'supported values: "Cluster", '
                                      '"Namespaced"') if spec.get("scope") else E.required("spec.scope"))
    name = obj["metadata"].get("name")
    if group and names.get("plural") and name != f"{names['plural']}.{group}":
        causes.append(E.invalid_value("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(E.required("spec.versions", "must have exactly one version marked as storage version"))
    elif sum(1 for v in versions if isinstance(v, dict) and v.get("storage")) != 1:
        causes.append(E.invalid_value("spec.versions", str([v.get("name") for v in versions if isinstance(v, dict)]),
                                      "must have exactly one version marked as storage version"))
    if old is not None and group and (old.get("spec") or {}).get("group") != group:
        causes.append(E.invalid_value("spec.group", group, "field is immutable"))


def crd_status(obj, now: str) -> dict:
    spec = obj.get("spec") or {}
    names = dict(spec.get("names") or {})
    if names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    storage = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("storage")]
    old_status = obj.get("status") or {}
    stored = list(old_status.get("storedVersions") or [])
    for s in storage:
        if s not in stored:
            stored.append(s)
    conds = {c.get("type"): c for c in old_status.get("conditions") or [] if isinstance(c, dict)}
    def cond(t, reason, msg):
        prev = conds.get(t)
        if prev and prev.get("status") == "True":
            return prev
        return {"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": msg}
    return {"conditions": [cond("NamesAccepted", "NoConflicts", "no conflicts found"),
                           cond("Established", "InitialNamesAccepted", "the initial names have been accepted")],
            "acceptedNames": names, "storedVersions": stored}


# ------------------------------------------------------------------ CR schema validation

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _type_ok(t, v):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    py = _TYPES.get(t)
    return py is None or isinstance(v, py)


def validate_schema(schema: dict, value, path: str, causes: list) -> None:
    """The structural part of OpenAPI v3 validation: type, nullable, required, enum, items, properties.
    A null that survived pruning (an array item, or a property whose schema has neither ``nullable`` nor a
    default — those are dropped before) is kube-openapi's type error ``… must be of type string: "null"``
    (pkg/validation/validate/type.go ``typeValidator.Validate``)."""
    if not isinstance(schema, dict):
        return
    if value is None:
        t = schema.get("type")
        if t and not schema.get("nullable"):
            causes.append((path, "FieldValueTypeInvalid",
                           f'Invalid value: "null": {path} in body must be of type {t}: "null"'))
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            causes.append((path, "FieldValueTypeInvalid",
                           f'Invalid value: "{type(value).__name__}": {path} in body must be of type '
                           f'integer-or-string'))
        return
    t = schema.get("type")
    if t and not _type_ok(t, value):
        got = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
               float: "number"}.get(type(value), "null")
        causes.append((path, "FieldValueTypeInvalid",
                       f'Invalid value: "{got}": {path} in body must be of type {t}: "{got}"'))
        return
    structural.value_constraints(schema, value, path, causes)
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        shown = ", ".join(f'"{e}"' if isinstance(e, str) else str(e) for e in enum)
        causes.append((path, "FieldValueNotSupported", f'Unsupported value: {value!r}: supported values: {shown}'
                       .replace("'", '"')))
    if isinstance(value, dict):
        for r in schema.get("required") or []:
            if r not in value:
                causes.append(E.required(f"{path}.{r}" if path else r))
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if k in props:
                validate_schema(props[k], v, sub, causes)
            elif isinstance(addl, dict):
                validate_schema(addl, v, sub, causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            validate_schema(schema["items"], v, f"{path}[{i}]", causes)


# ------------------------------------------------------------------ dispatch


def prepare(cluster, rt, obj: dict, old: Optional[dict]) -> None:
    """Defaulting on create (old None) and update; may raise 400 for undecodable bodies."""
    p = rt.plural if not rt.group or rt.builtin else None
    if rt.builtin:
        # wrong JSON types fail decoding into the Go type (builtin_schema.py), before any defaulting
        version = (obj.get("apiVersion") or "").rsplit("/", 1)[-1]
        err = builtin_schema.decode_error(rt.group, version, rt.kind, obj)
        if err:
            raise E.bad_request(f'{rt.kind} in version "{version}" cannot be handled as a {rt.kind}: {err}')
    if not rt.builtin:
        # Custom resources are pruned, then defaulted, by their structural schema (structural.py).
        schema = structural.schema_for(rt, (obj.get("apiVersion") or "").rsplit("/", 1)[-1])
        if schema:
            structural.prune(schema, obj)
            structural.prune_nulls(schema, obj)
            structural.apply_defaults(schema, obj)
        return
    if p == "secrets":
        _secret_prepare(obj, old)
    elif p == "namespaces":
        _namespace_prepare(obj, old)
    elif p == "pods":
        _pod_prepare(obj, old)
    elif p == "services":
        _service_prepare(obj, old, cluster)
    elif p == "deployments" and rt.group == "apps":
        _deployment_prepare(obj, old)
    elif p == "statefulsets" and rt.group == "apps":
        _statefulset_prepare(obj, old)
    elif p == "daemonsets" and rt.group == "apps":
        _daemonset_prepare(obj, old)
    elif p == "jobs" and rt.group == "batch":
        _job_prepare(obj, old)


def validate(cluster, rt, obj: dict, old: Optional[dict], version: str) -> None:
    """Raise 422 Invalid with all causes found."""
    causes: list = []
    md = obj.get("metadata") or {}
    if not md.get("name"):
        causes.append(E.required("metadata.name", "name or generateName is required"))
    else:
        validate_name(rt, md["name"], causes)
    _validate_labels(obj, causes)
    if rt.builtin:
        p = rt.plural
        if p == "secrets":
            _secret_validate(rt, obj, old, causes)
        elif p == "configmaps":
            _configmap_validate(rt, obj, old, causes)
        elif p == "pods":
            _pod_validate(rt, obj, old, causes)
        elif p == "services":
            _service_validate(rt, obj, old, causes)
        elif p in ("deployments", "statefulsets", "daemonsets") and rt.group == "apps":
            _deployment_validate(rt, obj, old, causes)
        elif p == "jobs" and rt.group == "batch":
            _job_validate(rt, obj, old, causes)
        elif p == "customresourcedefinitions":
            _crd_validate(rt, obj, old, causes)
        reported = [c[0] for c in causes]
        for path in builtin_schema.missing_required(rt.group, version, rt.kind, obj):
            if not any(r == path or r.startswith(path + ".") or r.startswith(path + "[") for r in reported):
                causes.append(E.required(path))
    else:
        schema = rt.schemas.get(version) or rt.schemas.get(rt.storage_version)
        if schema:
            body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
            props = dict(schema.get("properties") or {})
            for k in ("apiVersion", "kind", "metadata"):
                props.pop(k, None)
            sub = dict(schema)
            sub["properties"] = props
            sub["required"] = [r for r in schema.get("required") or [] if r not in ("apiVersion", "kind", "metadata")]
            validate_schema(sub, body, "", causes)
            # then list-type invariants and CEL rules (pkg/registry/customresource/strategy.go ``Validate``)
            list_types.validate(sub, body, "", causes)
            cel_rules.validate(schema, obj, old, causes)
    if causes:
        raise E.invalid(rt, md.get("name") or "", causes)
