"""OpenAPI v3 schemas of cert-manager's ``cert-manager.io`` CRDs, per cert-manager release.

Written from cert-manager's Go API types (pkg/apis/certmanager/v1/types_*.go,
pkg/apis/meta/v1/types.go) as controller-gen renders them into deploy/crds/: a Go field
without ``omitempty`` or with ``+required`` is ``required``, ``+kubebuilder:validation:Enum``
is ``enum``, ``+listType=atomic`` is ``x-kubernetes-list-type: atomic`` (markers cert-manager's
types carry from v1.19), and
``metav1.Time`` is ``format: date-time``. Descriptions are left out: the API server neither
validates nor prunes by them.
"""

from .versions import release  # noqa: F401
