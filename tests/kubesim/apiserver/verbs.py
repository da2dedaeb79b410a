"""The write verbs: create, update (and status), patch (JSON, merge, strategic, apply), delete.

Follows the generic registry of kube-apiserver (staging/src/k8s.io/apiserver/pkg/registry/
generic/registry/store.go: Create, Update, Delete with preconditions, graceful deletion with
finalizers) and the endpoint handlers (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
create.go, update.go, patch.go). Defaulting and validation per kind are in ``strategies``;
managedFields in ``ssa``.
"""

from __future__ import annotations

import json
import uuid
from typing import Optional, Tuple

from . import admission
from . import errors as E
from . import graceful_deletion as GD
from . import ssa as SSA
from . import strategies, structural
from ..controllers.base import ApiError
from .patch import json_patch, merge_patch, strategic_merge_patch
from .registry import ResourceType
from ..util import deep_copy, rand_suffix

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)

_SERVER_META = ("uid", "creationTimestamp", "resourceVersion", "generation", "managedFields",
                "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink")


def _spec_view(obj: dict) -> dict:
    """What generation tracks: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _client_managed(old: dict, given) -> Optional[list]:
    """managedFields a client sent on a non-apply write: None to keep the live ones.

    Like the apiserver: an absent or empty list keeps the live entries, ``[{}]`` resets
    them, and a different list replaces them (kubectl uses this to migrate ownership
    from client-side to server-side apply).
    """
    if not given or not isinstance(given, list):
        return None
    if all(isinstance(e, dict) and not e for e in given):
        return []
    entries = [e for e in given if isinstance(e, dict) and e.get("manager") is not None
               and e.get("operation") in ("Apply", "Update") and isinstance(e.get("fieldsV1", {}), dict)]

    def ident(entries_):
        return sorted((e.get("manager", ""), e.get("operation", ""), e.get("subresource", ""),
                       e.get("apiVersion", ""), json.dumps(e.get("fieldsV1") or {}, sort_keys=True))
                      for e in entries_ if isinstance(e, dict))
    live = (old.get("metadata") or {}).get("managedFields") or []
    if ident(entries) == ident(live):
        return None
    return entries


class Verbs:
    """Mixin of ``kubesim.Cluster``: the API verbs as the HTTP layer and internal writers call them."""

    def _check_body(self, rt: ResourceType, version: str, body) -> dict:
        if not isinstance(body, dict):
            raise E.bad_request(f"the body of the request must be a {rt.kind} object")
        kind = body.get("kind")
        api_version = body.get("apiVersion")
        if kind is not None and kind != rt.kind:
            raise E.bad_request(f"the kind in the body ({kind}) does not match the kind on the URL ({rt.kind})"
                                if kind else "Object 'Kind' is missing")
        if api_version is not None and api_version != rt.api_version(version):
            group = api_version.rpartition("/")[0]
            if group != rt.group or api_version.rpartition("/")[2] not in rt.versions:
                raise E.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                    f"API version ({rt.api_version(version)})")
        md = body.get("metadata")
        if md is not None and not isinstance(md, dict):
            raise E.bad_request("json: cannot unmarshal metadata into Go struct field of type v1.ObjectMeta")
        return body

    def _check_namespace_for_create(self, rt: ResourceType, ns: str) -> None:
        nsobj = self._stored(self.registry.by_rid[("", "namespaces")], None, ns)
        if nsobj is None:
            raise E.namespace_not_found(ns)
        if (nsobj.get("status") or {}).get("phase") == "Terminating" or (nsobj.get("metadata") or {}).get(
                "deletionTimestamp"):
            raise E.forbidden(rt, (nsobj["metadata"]["name"]),
                              f"unable to create new content in namespace {ns} because it is being terminated",
                              causes=[{"reason": "NamespaceTerminating",
                                       "message": f"namespace {ns} is being terminated",
                                       "field": "metadata.namespace"}])

    def _keys_for(self, rt: ResourceType, version: str):
        if rt.builtin:
            return SSA.builtin_list_keys
        return SSA.crd_list_keys(rt.schemas.get(version) or rt.schemas.get(rt.storage_version))

    def _create(self, rt, version, ns, body, *, dry_run, manager, admit, internal, managed=None,
                owned=False) -> dict:
        obj = self._check_body(rt, version, body)
        if not owned:
            obj = deep_copy(obj)
        obj["apiVersion"] = rt.api_version(version)
        obj["kind"] = rt.kind
        md = obj.setdefault("metadata", {})
        if rt.namespaced:
            bns = md.get("namespace")
            if bns and ns and bns != ns:
                raise E.bad_request("the namespace of the provided object does not match the namespace sent on "
                                    "the request")
            ns = ns or bns
            if not ns:
                raise E.bad_request("an empty namespace may not be set during creation")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
            ns = None
        for k in _SERVER_META:
            md.pop(k, None)
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + rand_suffix(5, self.rng)
        now = self.now_str()
        md["uid"] = str(uuid.UUID(int=self._uid_rng.getrandbits(128), version=4))
        md["creationTimestamp"] = now
        if rt.has_generation:
            md["generation"] = 1
        if rt.has_status and not internal:
            obj.pop("status", None)
        with self._writing():
            if ns:
                self._check_namespace_for_create(rt, ns)
            if admit:
                admission.admit(self, "CREATE", rt, obj)  # mutating admission runs before the strategy
            strategies.prepare(self, rt, obj, None)
            if rt.rid == ("apiextensions.k8s.io", "customresourcedefinitions"):
                obj["status"] = strategies.crd_status(obj, now)
            strategies.validate(self, rt, obj, None, version)
            if managed is not None:
                mf = managed
            else:
                mf = SSA.record_update(None, obj, manager, obj["apiVersion"], now, self._keys_for(rt, version),
                                       None, rt.has_status)
            if mf:
                md["managedFields"] = mf
            if admit:
                self._admit("CREATE", rt, version, obj, None, dry_run)
            name = md["name"]
            if self._stored(rt, ns, name) is not None:
                raise E.already_exists(rt, name)
            if dry_run:
                return obj
            return self._commit(rt, version, ns, name, "ADDED", obj, None)

    def _updated_object(self, rt, version, old, body, subresource, internal) -> dict:
        if subresource == "status":
            new = deep_copy(old)
            if "status" in body and body["status"] is not None:
                new["status"] = deep_copy(body["status"])
            else:
                new.pop("status", None)
            if internal:
                pass
            return new
        new = deep_copy(body)
        new["apiVersion"] = old.get("apiVersion") or rt.api_version(version)
        new["kind"] = rt.kind
        md = new.setdefault("metadata", {})
        omd = old["metadata"]
        client_mf = md.get("managedFields")
        for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds",
                  "name", "namespace", "resourceVersion", "managedFields"):
            if k in omd:
                md[k] = deep_copy(omd[k])
            else:
                md.pop(k, None)
        if "generateName" in omd and "generateName" not in md:
            md["generateName"] = omd["generateName"]
        if client_mf:
            md["managedFields"] = client_mf  # judged in _finish_update (_client_managed)
        if rt.has_status:
            if "status" in old:
                new["status"] = deep_copy(old["status"])
            else:
                new.pop("status", None)
        return new

    def _finish_update(self, rt, version, ns, name, old, new, *, subresource, dry_run, manager, admit, managed=None,
                       op="UPDATE") -> Tuple[dict, bool]:
        """Defaulting, generation, managedFields, validation, admission, commit. Returns (obj, changed)."""
        now = self.now_str()
        strategies.prepare(self, rt, new, old)
        if rt.rid == ("apiextensions.k8s.io", "customresourcedefinitions"):
            new["status"] = strategies.crd_status(dict(new, status=old.get("status")), now)
        md = new["metadata"]
        if rt.has_generation:
            gen = old["metadata"].get("generation", 1)
            if subresource != "status" and _spec_view(new) != _spec_view(old):
                gen += 1
            md["generation"] = gen
        sub = "status" if subresource == "status" else None
        base = _client_managed(old, md.get("managedFields"))
        if managed is not None:
            mf = managed
        else:
            mf = SSA.record_update(old, new, manager, rt.api_version(version), now, self._keys_for(rt, version),
                                   sub, rt.has_status, base=base)
        if mf:
            md["managedFields"] = mf
        else:
            md.pop("managedFields", None)
        strategies.validate(self, rt, new, old, version)
        if admit:
            self._admit(op, rt, version, new, old, dry_run)
        # finalizers drained on an object being deleted: it goes away now
        if md.get("deletionTimestamp") and not md.get("finalizers") and rt.rid != ("", "namespaces"):
            if dry_run:
                return new, True
            self._commit(rt, version, ns, name, "DELETED", new, old)
            return new, True
        comparable_old = dict(old)
        comparable_old["metadata"] = {k: v for k, v in old["metadata"].items() if k != "resourceVersion"}
        comparable_new = dict(new)
        comparable_new["metadata"] = {k: v for k, v in md.items() if k != "resourceVersion"}
        comparable_new["apiVersion"] = old.get("apiVersion")
        if comparable_new == comparable_old:
            return old, False
        if dry_run:
            md["resourceVersion"] = old["metadata"].get("resourceVersion")
            return new, True
        return self._commit(rt, version, ns, name, "MODIFIED", new, old), True

    def _update(self, rt, version, ns, name, body, *, subresource, dry_run, manager, admit, internal) -> dict:
        body = self._check_body(rt, version, body)
        md = body.get("metadata") or {}
        if md.get("name") and md["name"] != name:
            raise E.bad_request(f"the name of the object ({md['name']}) does not match the name on the URL ({name})")
        if rt.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise E.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                "request")
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                raise E.not_found(rt, name)
            want_rv = md.get("resourceVersion")
            if want_rv:
                if want_rv != old["metadata"].get("resourceVersion"):
                    raise E.conflict(rt, name)
            elif not rt.builtin and not internal:
                raise E.invalid(rt, name, [("metadata.resourceVersion", "FieldValueInvalid",
                                            "Invalid value: 0x0: must be specified for an update")])
            new = self._updated_object(rt, version, old, body, subresource, internal)
            obj, _ = self._finish_update(rt, version, ns, name, old, new, subresource=subresource, dry_run=dry_run,
                                         manager=manager, admit=admit)
            return obj

    def _patch(self, rt, version, ns, name, ptype, patch, *, subresource, dry_run, manager, force,
               admit, field_validation: Optional[str] = "Ignore") -> Tuple[int, dict]:
        """``field_validation``: the request's ``fieldValidation`` (HTTP PATCH passes it, default Warn);
        in-process callers ignore unknown fields."""
        if ptype not in PATCH_TYPES:
            raise E.unsupported_media_type(
                (JSON_PATCH, MERGE_PATCH, APPLY_PATCH) if not rt.builtin else
                (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH))
        if ptype == STRATEGIC_PATCH and not rt.builtin:
            raise E.unsupported_media_type()
        if force and ptype != APPLY_PATCH:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be '
                           'specified for non-apply patch',
                           {"group": "meta.k8s.io", "kind": "PatchOptions",
                            "causes": [{"reason": "FieldValueForbidden",
                                        "message": "Forbidden: may not be specified for non-apply patch",
                                        "field": "force"}]})
        if ptype == APPLY_PATCH:
            return self._apply_patch(rt, version, ns, name, patch, subresource=subresource, dry_run=dry_run,
                                     manager=manager, force=force, admit=admit)
        if ptype == JSON_PATCH:
            if not isinstance(patch, list):
                raise E.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        elif not isinstance(patch, dict):
            raise E.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                raise E.not_found(rt, name)
            base = self.present(rt, version, old)
            if ptype == JSON_PATCH:
                body = json_patch(base, patch)
            elif ptype == MERGE_PATCH:
                body = merge_patch(base, patch)
            else:
                body = strategic_merge_patch(base, patch)
            if not isinstance(body, dict):
                raise E.bad_request("the patch produced a non-object document")
            if not rt.builtin:
                structural.check_patched_unknown_fields(self, rt, version, body, field_validation)
            bmd = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            body_rv = bmd.get("resourceVersion")
            if body_rv and body_rv != old["metadata"].get("resourceVersion"):
                raise E.conflict(rt, name)
            if bmd.get("name") not in (None, name):
                raise E.bad_request(f"the name of the object ({bmd.get('name')}) does not match the name on the URL "
                                    f"({name})")
            body = self._check_body(rt, version, body)
            new = self._updated_object(rt, version, old, body, subresource, False)
            obj, _ = self._finish_update(rt, version, ns, name, old, new, subresource=subresource, dry_run=dry_run,
                                         manager=manager, admit=admit)
            return 200, obj

    def _apply_patch(self, rt, version, ns, name, applied, *, subresource, dry_run, manager, force, admit):
        if not manager:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                           'is required for apply patch',
                           {"group": "meta.k8s.io", "kind": "PatchOptions",
                            "causes": [{"reason": "FieldValueRequired",
                                        "message": "Required value: is required for apply patch",
                                        "field": "fieldManager"}]})
        if not isinstance(applied, dict):
            raise E.bad_request("error decoding YAML: the applied configuration must be an object")
        if not applied.get("apiVersion") or not applied.get("kind"):
            raise E.bad_request("invalid object type: " + ("Object 'Kind' is missing" if not applied.get("kind")
                                                          else "Object 'apiVersion' is missing"))
        self._check_body(rt, version, applied)
        if not rt.builtin:
            structural.check_applied_unknown_fields(rt, version, applied)
        amd = applied.get("metadata") or {}
        if amd.get("name") and amd["name"] != name:
            raise E.bad_request(f"the name of the object ({amd['name']}) does not match the name on the URL ({name})")
        if rt.namespaced and amd.get("namespace") and amd["namespace"] != ns:
            raise E.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                "request")
        applied = deep_copy(applied)
        amd = applied.setdefault("metadata", {})
        want_rv = amd.get("resourceVersion")
        for k in _SERVER_META:
            amd.pop(k, None)
        amd["name"] = name
        if rt.namespaced:
            amd["namespace"] = ns
        api_version = rt.api_version(version)
        sub = "status" if subresource == "status" else None
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                if sub:
                    raise E.not_found(rt, name)
                merged, mf = SSA.apply(None, applied, manager, force, api_version, self.now_str(),
                                       self._keys_for(rt, version), None, rt.has_status)
                obj = self._create(rt, version, ns, merged, dry_run=dry_run, manager=manager, admit=admit,
                                   internal=False, managed=mf, owned=True)
                return 201, obj
            if want_rv and want_rv != old["metadata"].get("resourceVersion"):
                raise E.conflict(rt, name)
            base = self.present(rt, version, old)
            merged, mf = SSA.apply(base, applied, manager, force, api_version, self.now_str(),
                                   self._keys_for(rt, version), sub, rt.has_status)
            if sub:
                new = self._updated_object(rt, version, old, merged, "status", False)
            else:
                new = self._updated_object(rt, version, old, merged, None, False)
            obj, _ = self._finish_update(rt, version, ns, name, old, new, subresource=subresource, dry_run=dry_run,
                                         manager=manager, admit=admit, managed=mf)
            return 200, obj

    def _delete(self, rt, version, ns, name, *, dry_run, options=None, admit=True) -> Tuple[int, dict]:
        options = options or {}
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                raise E.not_found(rt, name)
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
                raise E.conflict(rt, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object "
                                           f"meta: {old['metadata'].get('uid')}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"].get("resourceVersion"):
                raise E.conflict(rt, name, f"Precondition failed: ResourceVersion in precondition: "
                                           f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                           f"{old['metadata'].get('resourceVersion')}")
            if admit:
                self._admit("DELETE", rt, version, None, old, dry_run)
            md = old["metadata"]
            if options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents") is True:
                if not dry_run and md.get("uid"):
                    self._orphaning.add(md["uid"])
            is_ns = rt.rid == ("", "namespaces")
            is_pod = rt.rid == ("", "pods")
            # graceful_deletion.py: a pod's grace period (CheckGracefulDelete); GC's deletion finalizers
            period = GD.pod_grace_period(old, options) if is_pod else 0
            finalizers = list(md.get("finalizers") or [])
            if GD.wants_foreground(options) and not is_ns and GD.FOREGROUND not in finalizers:
                finalizers.append(GD.FOREGROUND)
            if md.get("deletionTimestamp"):
                # rest.BeforeDelete on an object already being deleted: a pod's grace period may only
                # shrink (0 with no finalizers left removes it now); anything else is answered as it is.
                if not is_pod or not GD.shortens(md, period):
                    return 200, old
                if period > 0 or md.get("finalizers"):
                    new = deep_copy(old)
                    new["metadata"]["deletionTimestamp"] = GD.deletion_timestamp(self.now(), period)
                    new["metadata"]["deletionGracePeriodSeconds"] = period
                    if dry_run:
                        return 200, new
                    return 200, self._commit(rt, version, ns, name, "MODIFIED", new, old)
            elif is_ns or finalizers or period > 0:
                new = deep_copy(old)
                new["metadata"]["deletionTimestamp"] = GD.deletion_timestamp(self.now(), period)
                new["metadata"]["deletionGracePeriodSeconds"] = period
                if finalizers:
                    new["metadata"]["finalizers"] = finalizers
                if is_ns:
                    new.setdefault("status", {})["phase"] = "Terminating"
                if dry_run:
                    return 200, new
                obj = self._commit(rt, version, ns, name, "MODIFIED", new, old)
                if is_ns:
                    self.schedule(self.namespace_termination_delay, lambda n=name: self._terminate_namespace(n),
                                  key=f"__nsterminate__/{name}")
                elif GD.FOREGROUND in finalizers:
                    self.schedule_foreground_sweep(rt, ns, name, md.get("uid"))
                return 200, obj
            if dry_run:
                gone = old
            else:
                gone = dict(old)
                gone["metadata"] = dict(old["metadata"])
                self._commit(rt, version, ns, name, "DELETED", gone, old)
            if rt.return_deleted_object:
                return 200, gone
            details = {"name": name}
            if rt.group:
                details["group"] = rt.group
            details["kind"] = rt.plural
            details["uid"] = md.get("uid")
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": details}
