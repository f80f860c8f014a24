"""The context object: AWS's attributes, parsed headers and remaining time."""

import json
import time
import unittest

import support  # noqa: F401  (import path)

from lambdabox_ric.context import create_lambda_context
from lambdabox_ric.faults import FaultException
from lambdabox_ric.runtime_api import Invocation

ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "my-function",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/my-function",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abc",
}
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function"


class ContextTest(unittest.TestCase):
    def test_fields_from_environment_and_headers(self):
        headers = {
            "lambda-runtime-aws-request-id": "8f507cfc-2b63-4fbd-a1a9-f0d7b2cbb9bf",
            "lambda-runtime-deadline-ms": str(int(time.time() * 1000) + 3000),
            "lambda-runtime-invoked-function-arn": ARN,
        }
        context = create_lambda_context(Invocation.from_response(headers, b"{}"), ENV)
        self.assertEqual(context.function_name, "my-function")
        self.assertEqual(context.function_version, "$LATEST")
        self.assertEqual(context.memory_limit_in_mb, "256")  # a string, as in AWS's runtime
        self.assertEqual(context.log_group_name, "/aws/lambda/my-function")
        self.assertEqual(context.log_stream_name, "2024/01/01/[$LATEST]abc")
        self.assertEqual(context.aws_request_id, "8f507cfc-2b63-4fbd-a1a9-f0d7b2cbb9bf")
        self.assertEqual(context.invoked_function_arn, ARN)
        self.assertIsNone(context.client_context)
        self.assertIsNone(context.identity.cognito_identity_id)
        self.assertIsNone(context.identity.cognito_identity_pool_id)
        remaining = context.get_remaining_time_in_millis()
        self.assertTrue(2000 < remaining <= 3000, remaining)

    def test_remaining_time_never_negative(self):
        context = create_lambda_context(Invocation("id", b"", deadline_ms=1000), ENV)
        self.assertEqual(context.get_remaining_time_in_millis(), 0)

    def test_client_context_and_identity_are_parsed(self):
        client_context = {
            "client": {"installation_id": "inst", "app_title": "title", "app_package_name": "pkg"},
            "custom": {"k": "v"},
            "env": {"locale": "en"},
        }
        identity = {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
        invocation = Invocation(
            "id", b"{}", deadline_ms=0,
            client_context=json.dumps(client_context),
            cognito_identity=json.dumps(identity),
        )
        context = create_lambda_context(invocation, ENV)
        self.assertEqual(context.client_context.custom, {"k": "v"})
        self.assertEqual(context.client_context.env, {"locale": "en"})
        self.assertEqual(context.client_context.client.installation_id, "inst")
        self.assertEqual(context.client_context.client.app_title, "title")
        self.assertIsNone(context.client_context.client.app_version_code)
        self.assertEqual(context.identity.cognito_identity_id, "id-1")
        self.assertEqual(context.identity.cognito_identity_pool_id, "pool-1")

    def test_bad_client_context_is_a_context_unmarshal_error(self):
        invocation = Invocation("id", b"{}", client_context="{not json")
        with self.assertRaises(FaultException) as caught:
            create_lambda_context(invocation, ENV)
        self.assertEqual(caught.exception.exception_type, "Runtime.LambdaContextUnmarshalError")
        self.assertTrue(caught.exception.msg.startswith("Unable to parse Client Context JSON: "))

    def test_repr_names_fields(self):
        context = create_lambda_context(Invocation("id", b"{}"), ENV)
        self.assertIn("aws_request_id=id", repr(context))
        self.assertIn("function_name=my-function", repr(context))


if __name__ == "__main__":
    unittest.main()
