# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""A role argument that fails validation, explained in one line: the argument, what it accepts, one example.

Why: Ansible's role argument validation (the ``validate_argument_spec`` task it prepends to a role) fails with
the whole argument spec in its result (``argument_spec_data``), which the default callback prints: 376 lines for
one missing variable (issue 18). The same specs (``roles/*/meta/argument_specs.yml``) and Ansible's own
validator give the short form here, used by ``check_variables`` before any role runs and by the ``fleet``
callback for a role used on its own.
"""

from __future__ import annotations

import os
import re

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

_EXAMPLE_OF_TYPE = {"bool": "true", "int": "60", "float": "1.5", "list": "'[\"a\", \"b\"]'", "dict": "'{\"key\": \"value\"}'",
                    "path": "/path/on/the/controller", "raw": "<value>", "str": "<value>"}


def role_options(root, role, entry_point="main"):
    """The options of one entry point of one of this collection's roles."""
    with open(os.path.join(root, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
    return ((specs.get(entry_point) or {}).get("options")) or {}


def _validator_spec(options):
    """The argument spec keys Ansible's validator takes (the docs-only keys removed), as Role argument validation does."""
    keep = ("type", "elements", "choices", "required", "default", "options", "no_log")
    return {name: {key: value for key, value in (option or {}).items() if key in keep}
            for name, option in options.items()}


def explain(name, option, problem, where=""):
    """``name (where): problem. Accepts: ... Example: -e name=value``."""
    option = option or {}
    choices = option.get("choices")
    kind = option.get("type", "str")
    if choices:
        accepts = "one of %s" % ", ".join(str(choice) for choice in choices)
        example = choices[0]
    else:
        accepts = "type %s%s" % (kind, " of %s" % option["elements"] if option.get("elements") else "")
        example = _EXAMPLE_OF_TYPE.get(kind, "<value>")
    description = option.get("description") or ""
    if isinstance(description, list):
        description = description[0] if description else ""
    text = "%s%s: %s. Accepts %s, for example -e %s=%s" % (
        name, " (%s)" % where if where else "", problem, accepts, name, example)
    return text + (" (%s)" % description.rstrip(".") if description else "")


def explain_errors(errors, options, where=""):
    """One line per argument named in Ansible's validation error messages (unnamed errors are kept as they are)."""
    lines = []
    for error in errors:
        error = str(error)
        named = [name for name in options if re.search(r"\b%s\b" % re.escape(name), error)]
        if not named:
            lines.append(error)
        for name in named:
            problem = "missing, it is required" if error.startswith("missing required") else error
            lines.append(explain(name, options[name], problem, where))
    return lines


def check_role_arguments(root, role, provided, entry_point="main"):
    """Validate the ``provided`` values of one role's entry point as Ansible will; the explained problems."""
    options = role_options(root, role, entry_point)
    given = {name: value for name, value in provided.items() if name in options}
    result = ArgumentSpecValidator(_validator_spec(options)).validate(given)
    return explain_errors(result.error_messages, options, "role %s" % role)
