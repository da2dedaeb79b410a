# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Go's ``net/mail.ParseAddress``, as cert-manager's webhook uses it for ``spec.emailAddresses``.

The webhook (internal/apis/certmanager/validation/certificate.go, validateEmailAddresses) refuses an
address when ParseAddress fails (the error text is shown to the user) or when the parsed address is not
the whole string (``Alice <alice@example.com>``). Python's ``email.utils`` follows a different grammar
(it accepts ``mailto:a@b`` and ``a.example.com``), so this follows Go's addrParser (src/net/mail/message.go,
Go 1.24): addr-spec first, then display-name + angle-addr, groups (``name: a@b;``), comments and
domain-literals. RFC 2047 encoded words in display names are taken as plain words; such an address always
fails the "only the email address" check anyway.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


class MailError(Exception):
    pass


def _go_quote(text):
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append("\\x%02x" % ord(char))
        else:
            out.append(char)
    return "".join(out) + '"'


def _go_rune(char):
    return "'\\''" if char == "'" else "'%s'" % char


def _is_vchar(char):
    return "!" <= char <= "~" or ord(char) >= 0x80


def _is_atext(char, dot):
    if char == ".":
        return dot
    if char in '()<>[]:;@\\,"':
        return False
    return _is_vchar(char)


def _is_wsp(char):
    return char in " \t"


def _is_qtext(char):
    return char not in '\\"' and _is_vchar(char)


def _is_dtext(char):
    return char not in "[]\\" and _is_vchar(char)


def go_parse_ip(text):
    """Go's net.ParseIP: dotted IPv4 or IPv6 text, no zone (``fe80::1%eth0`` is not an IP for Go)."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class _Parser(object):
    def __init__(self, text):
        self.s = text

    def empty(self):
        return not self.s

    def peek(self):
        return self.s[0]

    def consume(self, char):
        if self.s and self.s[0] == char:
            self.s = self.s[1:]
            return True
        return False

    def skip_space(self):
        self.s = self.s.lstrip(" \t")

    def skip_cfws(self):
        self.skip_space()
        while self.consume("("):
            if self.consume_comment() is None:
                return False
            self.skip_space()
        return True

    def consume_comment(self):
        depth, comment = 1, ""
        while self.s and depth:
            if self.s[0] == "\\" and len(self.s) > 1:
                self.s = self.s[1:]
            elif self.s[0] == "(":
                depth += 1
            elif self.s[0] == ")":
                depth -= 1
            if depth > 0:
                comment += self.s[0]
            self.s = self.s[1:]
        return comment if depth == 0 else None

    def single_address(self):
        addresses = self.parse_address(True)
        if not self.skip_cfws():
            raise MailError("mail: misformatted parenthetical comment")
        if self.s:
            raise MailError("mail: expected single address, got %s" % _go_quote(self.s))
        if not addresses:
            raise MailError("mail: empty group")
        if len(addresses) > 1:
            raise MailError("mail: group with multiple addresses")
        return addresses[0]

    def parse_address(self, handle_group):
        self.skip_space()
        if self.empty():
            raise MailError("mail: no address")
        try:
            spec = self.consume_addr_spec()
        except MailError:
            spec = None
        if spec is not None:
            self.skip_space()
            name = ""
            if self.s and self.peek() == "(":
                name = self.consume_display_name_comment()
            return [(name, spec)]
        name = ""
        if self.peek() != "<":
            name = self.consume_phrase()
        self.skip_space()
        if handle_group and self.consume(":"):
            return self.consume_group_list()
        if not self.consume("<"):
            if all(_is_atext(char, True) for char in name):
                raise MailError("mail: missing '@' or angle-addr")
            raise MailError("mail: no angle-addr")
        spec = self.consume_addr_spec()
        if not self.consume(">"):
            raise MailError("mail: unclosed angle-addr")
        return [(name, spec)]

    def consume_group_list(self):
        group = []
        self.skip_space()
        if self.consume(";"):
            self.skip_cfws()
            return group
        while True:
            self.skip_space()
            group.extend(self.parse_address(False))
            if not self.skip_cfws():
                raise MailError("mail: misformatted parenthetical comment")
            if self.consume(";"):
                self.skip_cfws()
                return group
            if not self.consume(","):
                raise MailError("mail: expected comma")

    def consume_addr_spec(self):
        saved = self.s
        try:
            self.skip_space()
            if self.empty():
                raise MailError("mail: no addr-spec")
            if self.peek() == '"':
                local = self.consume_quoted_string()
                if local == "":
                    raise MailError("mail: empty quoted string in addr-spec")
            else:
                local = self.consume_atom(True, False)
            if not self.consume("@"):
                raise MailError("mail: missing @ in addr-spec")
            self.skip_space()
            if self.empty():
                raise MailError("mail: no domain in addr-spec")
            if self.peek() == "[":
                domain = self.consume_domain_literal()
            else:
                domain = self.consume_atom(True, False)
            return local + "@" + domain
        except MailError:
            self.s = saved
            raise

    def consume_domain_literal(self):
        if not self.consume("["):
            raise MailError('mail: missing "[" in domain-literal')
        dtext = ""
        while True:
            if self.empty():
                raise MailError("mail: unclosed domain-literal")
            if self.peek() == "]":
                break
            char = self.peek()
            if not _is_dtext(char):
                raise MailError("mail: bad character in domain-literal: %s" % _go_rune(char))
            dtext += char
            self.s = self.s[1:]
        if not self.consume("]"):
            raise MailError("mail: unclosed domain-literal")
        if go_parse_ip(dtext) is None:
            raise MailError("mail: invalid IP address in domain-literal: %s" % _go_quote(dtext))
        return "[" + dtext + "]"

    def consume_phrase(self):
        words, error = [], None
        while True:
            self.skip_space()
            if self.empty():
                break
            try:
                if self.peek() == '"':
                    word = self.consume_quoted_string()
                else:
                    word = self.consume_atom(True, True)
            except MailError as exc:
                error = exc
                break
            words.append(word)
        if error is not None and not words:
            raise MailError("mail: missing word in phrase: %s" % error)
        return " ".join(words)

    def consume_quoted_string(self):
        i, out, escaped = 1, [], False
        while True:
            if i >= len(self.s):
                raise MailError("mail: unclosed quoted-string")
            char = self.s[i]
            if escaped:
                if not _is_vchar(char) and not _is_wsp(char):
                    raise MailError("mail: bad character in quoted-string: %s" % _go_rune(char))
                out.append(char)
                escaped = False
            elif _is_qtext(char) or _is_wsp(char):
                out.append(char)
            elif char == '"':
                break
            elif char == "\\":
                escaped = True
            else:
                raise MailError("mail: bad character in quoted-string: %s" % _go_rune(char))
            i += 1
        self.s = self.s[i + 1:]
        return "".join(out)

    def consume_atom(self, dot, permissive):
        i = 0
        while i < len(self.s) and _is_atext(self.s[i], dot):
            i += 1
        if i == 0:
            raise MailError("mail: invalid string")
        atom, self.s = self.s[:i], self.s[i:]
        if not permissive:
            if atom.startswith("."):
                raise MailError("mail: leading dot in atom")
            if ".." in atom:
                raise MailError("mail: double dot in atom")
            if atom.endswith("."):
                raise MailError("mail: trailing dot in atom")
        return atom

    def consume_display_name_comment(self):
        if not self.consume("("):
            raise MailError("mail: comment does not start with (")
        comment = self.consume_comment()
        if comment is None:
            raise MailError("mail: misformatted parenthetical comment")
        return " ".join(w for w in comment.replace("\t", " ").split(" ") if w)


def parse_address(text):
    """(name, address) as Go's mail.ParseAddress returns them; MailError with Go's text on failure."""
    return _Parser(text).single_address()
