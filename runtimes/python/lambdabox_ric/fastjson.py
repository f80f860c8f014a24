"""``json.loads`` and ``json.dumps`` on the standard library's C accelerator ``_json`` alone.

The ``json`` package imports ``re`` (and with it ``enum``) for its pure-Python fallbacks:
about 7 ms of every cold start on this project's machines, more than the rest of the client.
The C scanner and encoder are what ``json`` itself uses, so the results are the same; anything
this module does not handle itself (a decoding error, whose message must be ``json``'s, bytes
that are not UTF-8, a Python without ``_json``) goes to ``json`` proper, imported then.
"""

try:
    import _json
except ImportError:  # pragma: no cover - every CPython build has it
    _json = None

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context(object):
    # What the C scanner reads from a JSONDecoder: the defaults of json.loads.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__
    memo = None


_scan = _json.make_scanner(_Context()) if _json is not None else None


def _slow():
    import json

    return json


def loads(s):
    """``json.loads(s)``."""
    if _scan is None:
        return _slow().loads(s)
    text = s
    try:
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8")
        if not isinstance(text, str) or text.startswith("\ufeff"):
            raise ValueError
        n = len(text)
        i = 0
        while i < n and text[i] in _WHITESPACE:
            i += 1
        obj, end = _scan(text, i)
        if end != n and text[end:].strip(_WHITESPACE):
            raise ValueError
        return obj
    except (ValueError, StopIteration, TypeError):
        # json's own errors and messages ("Expecting value: line 1 column 1 (char 0)"),
        # and the encodings json detects beyond UTF-8.
        return _slow().loads(s)


def _no_default(obj):
    raise TypeError("Object of type {} is not JSON serializable".format(type(obj).__name__))


def dumps(obj, default=None, ensure_ascii=True):
    """``json.dumps(obj, default=default, ensure_ascii=ensure_ascii)``."""
    if _json is None:
        return _slow().dumps(obj, default=default, ensure_ascii=ensure_ascii)
    quote = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    if isinstance(obj, str):
        return quote(obj)
    encode = _json.make_encoder({}, default or _no_default, quote, None, ": ", ", ", False, False, True)
    return "".join(encode(obj, 0))
