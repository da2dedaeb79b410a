"""The OpenAPI v2 document as protobuf, the form kubectl ≤ 1.28 asks ``/openapi/v2`` for
(``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf``) before ``explain`` or
client-side validation.

The messages are google/gnostic ``openapiv2/OpenAPIv2.proto`` (``openapi.v2.Document``), the package
k8s.io/kube-openapi serves them from; only the parts a schema document uses are encoded: Document
(swagger, info, paths, definitions), NamedSchema and Schema with the JSON-Schema keywords, and vendor
extensions as ``NamedAny`` whose ``Any.yaml`` holds the value (gnostic keeps extension and default/enum
values as YAML text; JSON is YAML). The field numbers below are that file's. The wire format is
protobuf's: varint keys ``field << 3 | wire type``, length-delimited strings and messages, 64-bit doubles.
"""

from __future__ import annotations

import json
import struct

MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
# the response's Content-Type: kube-openapi pkg/handler answers with the name Go's mime package can parse
RESPONSE_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

# Schema (gnostic openapi.v2.Schema) fields: keyword -> (number, kind)
_SCHEMA_FIELDS = {
    "$ref": (1, "str"), "format": (2, "str"), "title": (3, "str"), "description": (4, "str"),
    "default": (5, "any"), "multipleOf": (6, "double"), "maximum": (7, "double"),
    "exclusiveMaximum": (8, "bool"), "minimum": (9, "double"), "exclusiveMinimum": (10, "bool"),
    "maxLength": (11, "int"), "minLength": (12, "int"), "pattern": (13, "str"), "maxItems": (14, "int"),
    "minItems": (15, "int"), "uniqueItems": (16, "bool"), "maxProperties": (17, "int"),
    "minProperties": (18, "int"), "required": (19, "strs"), "enum": (20, "anys"),
    "additionalProperties": (21, "addl"), "type": (22, "type"), "items": (23, "items"), "allOf": (24, "schemas"),
    "properties": (25, "props"), "readOnly": (27, "bool"), "example": (30, "any"),
}
_SCHEMA_VENDOR_EXTENSION = 31


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _str(field: int, s: str) -> bytes:
    return _bytes(field, s.encode())


def _any(value) -> bytes:
    """gnostic openapi.v2.Any: field 2 ``yaml``."""
    return _str(2, json.dumps(value, separators=(",", ":")))


def _named(name: str, value: bytes) -> bytes:
    return _str(1, name) + _bytes(2, value)


def schema(s: dict) -> bytes:
    out = bytearray()
    for kw, value in s.items():
        if kw.startswith("x-"):
            out += _bytes(_SCHEMA_VENDOR_EXTENSION, _named(kw, _any(value)))
            continue
        spec = _SCHEMA_FIELDS.get(kw)
        if spec is None:
            continue  # OpenAPI v3-only keywords (nullable, anyOf, oneOf, not) have no v2 field
        num, kind = spec
        if kind == "str":
            out += _str(num, str(value))
        elif kind == "bool":
            if value:
                out += _key(num, 0) + _varint(1)
        elif kind == "int":
            out += _key(num, 0) + _varint(int(value))
        elif kind == "double":
            out += _key(num, 1) + struct.pack("<d", float(value))
        elif kind == "any":
            out += _bytes(num, _any(value))
        elif kind == "anys":
            for v in value:
                out += _bytes(num, _any(v))
        elif kind == "strs":
            for v in value:
                out += _str(num, v)
        elif kind == "type":
            out += _bytes(num, b"".join(_str(1, t) for t in ([value] if isinstance(value, str) else value)))
        elif kind == "items":
            items = value if isinstance(value, list) else [value]
            out += _bytes(num, b"".join(_bytes(1, schema(i)) for i in items))
        elif kind == "schemas":
            for v in value:
                out += _bytes(num, schema(v))
        elif kind == "props":
            out += _bytes(num, b"".join(_bytes(1, _named(k, schema(v))) for k, v in value.items()))
        elif kind == "addl":
            out += _bytes(num, _bytes(1, schema(value)) if isinstance(value, dict)
                          else _key(2, 0) + _varint(1 if value else 0))
    return bytes(out)


def document(doc: dict) -> bytes:
    """A Swagger 2.0 document with ``definitions`` (no paths) as gnostic openapi.v2.Document."""
    out = bytearray(_str(1, doc.get("swagger", "2.0")))
    info = doc.get("info") or {}
    out += _bytes(2, _str(1, info.get("title", "")) + _str(2, info.get("version", "")))
    out += _bytes(8, b"")
    defs = b"".join(_bytes(1, _named(name, schema(s))) for name, s in sorted((doc.get("definitions") or {}).items()))
    out += _bytes(9, defs)
    return bytes(out)
