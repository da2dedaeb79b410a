"""The simulated kube-apiserver, one module per concern.

``server`` (HTTP/1.1 connections, TLS from ``tls``) → ``routing`` (URL → verb, discovery,
subresources, the ``/_kubesim`` admin endpoint; first ``authentication`` with
``serviceaccount_tokens``, then ``authorization`` — impersonation, ``system:masters``, ``rbac`` —
on the attributes ``requestinfo`` derives) → the verbs on ``kubesim.Cluster``, which is composed from the
mixins here: ``store``, ``crds``, ``verbs`` (with ``patch``, ``ssa`` and per-kind ``strategies``),
``garbage_collection``, ``namespaces``, ``watch`` (with ``selectors``) and ``internal_access``.
``registry`` holds the served resource types, ``errors`` the Status bodies, ``table`` the
server-side printing kubectl asks for, ``openapi`` the OpenAPI document, ``faults`` the
injected failures and the request log.
"""
