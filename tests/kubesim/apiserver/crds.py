"""CustomResourceDefinitions become served resource types (and go away with their objects).

Follows apiextensions-apiserver's customresource_handler.go: a CRD's served versions, scope,
names and subresources define what the API serves; deleting the CRD deletes its objects.
"""

from __future__ import annotations

from .registry import ResourceType

class CrdRegistration:
    """Mixin of ``kubesim.Cluster``: keep the registry in step with stored CRDs."""

    def _register_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        versions = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served", True)]
        if not versions or not spec.get("group") or not names.get("plural"):
            return
        versions.sort(key=lambda v: 0 if v.get("storage") else 1)
        subs = []
        schemas = {}
        for v in versions:
            sr = v.get("subresources") or {}
            if "status" in sr and "status" not in subs:
                subs.append("status")
            if "scale" in sr and "scale" not in subs:
                subs.append("scale")
            sch = (v.get("schema") or {}).get("openAPIV3Schema")
            if sch:
                schemas[v["name"]] = sch
        rt = ResourceType(group=spec["group"], versions=[v["name"] for v in versions], plural=names["plural"],
                          singular=names.get("singular") or names.get("kind", "").lower(), kind=names.get("kind", ""),
                          namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                          short_names=list(names.get("shortNames") or []),
                          categories=list(names.get("categories") or []), subresources=tuple(subs), builtin=False,
                          has_generation=True, crd_name=crd["metadata"]["name"], schemas=schemas)
        self.registry.add(rt)

    def _unregister_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        rt = self.registry.by_rid.get((spec.get("group", ""), (spec.get("names") or {}).get("plural", "")))
        if rt is None or rt.builtin:
            return
        for ns, bucket in list(self._objects.get(rt.rid, {}).items()):
            for name, obj in list(bucket.items()):
                gone = dict(obj)
                gone["metadata"] = dict(obj["metadata"])
                self._commit(rt, rt.storage_version, ns, name, "DELETED", gone, obj)
        self._objects.pop(rt.rid, None)
        self.registry.remove(rt)
