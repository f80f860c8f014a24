"""Marshalling of events and results, including AWS's Runtime.MarshalError."""

import decimal
import unittest

import support  # noqa: F401  (import path)

from lambdabox_ric.faults import FaultException
from lambdabox_ric.marshal import LambdaMarshaller, to_json


class MarshalTest(unittest.TestCase):
    def setUp(self):
        self.marshaller = LambdaMarshaller(execution_env="AWS_Lambda_python3.11")

    def test_json_result(self):
        body, content_type = self.marshaller.marshal_response({"statusCode": 200, "body": "hi"})
        self.assertEqual(body, b'{"statusCode": 200, "body": "hi"}')
        self.assertEqual(content_type, "application/json")

    def test_none_is_null(self):
        self.assertEqual(self.marshaller.marshal_response(None), (b"null", "application/json"))

    def test_bytes_are_sent_raw(self):
        self.assertEqual(
            self.marshaller.marshal_response(b"\x00raw"), (b"\x00raw", "application/unknown")
        )

    def test_unserialisable_result_is_a_marshal_error(self):
        with self.assertRaises(FaultException) as caught:
            self.marshaller.marshal_response({"s": {1, 2}})
        self.assertEqual(caught.exception.exception_type, "Runtime.MarshalError")
        self.assertEqual(
            caught.exception.msg,
            "Unable to marshal response: Object of type set is not JSON serializable",
        )

    def test_circular_result_is_a_marshal_error(self):
        loop = []
        loop.append(loop)
        with self.assertRaises(FaultException) as caught:
            self.marshaller.marshal_response(loop)
        self.assertEqual(caught.exception.msg, "Unable to marshal response: Circular reference detected")

    def test_decimals_are_raw_numbers(self):
        value = {"price": decimal.Decimal("1.10"), "n": [decimal.Decimal("3"), decimal.Decimal("NaN")]}
        self.assertEqual(to_json(value), '{"price": 1.10, "n": [3, NaN]}')

    def test_decimal_placeholders_do_not_collide(self):
        values = [decimal.Decimal(i) for i in range(12)]
        self.assertEqual(to_json(values), "[" + ", ".join(str(i) for i in range(12)) + "]")

    def test_non_ascii_is_escaped_before_python312(self):
        self.assertEqual(self.marshaller.marshal_response("é")[0], b'"\\u00e9"')
        later = LambdaMarshaller(execution_env="AWS_Lambda_python3.12")
        self.assertEqual(later.marshal_response("é")[0], '"é"'.encode())

    def test_event_json(self):
        self.assertEqual(self.marshaller.unmarshal_request(b'{"a": [1, 2.5]}', "application/json"), {"a": [1, 2.5]})
        self.assertEqual(self.marshaller.unmarshal_request(b'"x"', None), "x")

    def test_non_json_event_is_passed_as_bytes(self):
        self.assertEqual(self.marshaller.unmarshal_request(b"<xml/>", "application/xml"), b"<xml/>")

    def test_bad_event_is_an_unmarshal_error(self):
        with self.assertRaises(FaultException) as caught:
            self.marshaller.unmarshal_request(b"{", "application/json")
        self.assertEqual(caught.exception.exception_type, "Runtime.UnmarshalError")
        self.assertEqual(
            caught.exception.msg,
            "Unable to unmarshal input: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        )


if __name__ == "__main__":
    unittest.main()
