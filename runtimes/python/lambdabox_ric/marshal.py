"""JSON marshalling of events and results, as AWS's Python runtime does it.

AWS encodes with simplejson; this reproduces its observable output with the standard
library's ``json``:
- ``bytes`` results are sent as they are, with content type ``application/unknown``;
- ``decimal.Decimal`` is written as the number it spells (``Decimal("1.10")`` -> ``1.10``),
  a NaN decimal as ``NaN``;
- non-ASCII characters are escaped, except on the python3.12+ runtimes (``AWS_EXECUTION_ENV``);
- anything else that is not JSON-serialisable is ``Runtime.MarshalError`` with
  ``Unable to marshal response: Object of type set is not JSON serializable``.

An event whose content type is not JSON is handed to the handler as ``bytes``. A missing
content type is taken as JSON (Lambda always sends ``application/json``).
"""

from . import fastjson as json
import os

from .faults import FaultException


def _ensure_ascii(execution_env):
    prefix = "AWS_Lambda_python3."
    if execution_env and execution_env.startswith(prefix):
        try:
            return int(execution_env[len(prefix):]) < 12
        except ValueError:
            pass
    return True


class _RawNumbers(object):
    """Swaps Decimals for unique placeholder strings, then writes them back as raw numbers."""

    def __init__(self):
        self.values = []
        self.tag = None

    def default(self, obj):
        if type(obj).__name__ == "Decimal" and type(obj).__module__ == "decimal":
            if obj.is_nan():
                return float("nan")
            if self.tag is None:
                self.tag = "\u0000lambdabox-decimal-%s-" % os.urandom(8).hex()
            self.values.append(str(obj))
            return "%s%d" % (self.tag, len(self.values) - 1)
        raise TypeError(
            "Object of type {} is not JSON serializable".format(type(obj).__name__)
        )

    def restore(self, text, ensure_ascii):
        if self.tag is None:
            return text
        quoted = json.dumps(self.tag, ensure_ascii=ensure_ascii)[:-1]
        for i, value in enumerate(self.values):
            text = text.replace('%s%d"' % (quoted, i), value, 1)
        return text


def to_json(obj, ensure_ascii=True):
    raw = _RawNumbers()
    text = json.dumps(obj, default=raw.default, ensure_ascii=ensure_ascii)
    return raw.restore(text, ensure_ascii)


class LambdaMarshaller(object):
    def __init__(self, execution_env=None):
        if execution_env is None:
            execution_env = os.environ.get("AWS_EXECUTION_ENV")
        self.ensure_ascii = _ensure_ascii(execution_env)

    def unmarshal_request(self, body, content_type="application/json"):
        if content_type is not None and content_type != "application/json":
            return body
        try:
            return json.loads(body)
        except Exception as e:
            raise FaultException(
                FaultException.UNMARSHAL_ERROR,
                "Unable to unmarshal input: {}".format(e),
            )

    def marshal_response(self, response):
        """``(body bytes, content type)`` of a handler's result."""
        if isinstance(response, bytes):
            return response, "application/unknown"
        try:
            text = to_json(response, self.ensure_ascii)
        except Exception as e:
            raise FaultException(
                FaultException.MARSHAL_ERROR,
                "Unable to marshal response: {}".format(e),
            )
        return text.encode("utf-8", "surrogatepass"), "application/json"
