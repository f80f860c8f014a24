"""fastjson gives json's results and json's errors."""

import json
import unittest

import support  # noqa: F401  (import path)

from lambdabox_ric import fastjson


class Unserialisable(object):
    pass


class FastJsonTest(unittest.TestCase):
    def test_dumps_matches_json(self):
        values = [
            1, 1.5, -0.0, 1e300, float("nan"), float("inf"), 10 ** 30, "é\u2028\"\\", "", None, True,
            [1, {"a": [None, {}]}], {"k": "v", 1: 2, 2.5: 3, None: 4, True: 5}, [], {}, (1, 2),
        ]
        for value in values:
            for ensure_ascii in (True, False):
                self.assertEqual(
                    fastjson.dumps(value, ensure_ascii=ensure_ascii),
                    json.dumps(value, ensure_ascii=ensure_ascii),
                    value,
                )

    def test_dumps_calls_default_and_raises_what_json_raises(self):
        self.assertEqual(fastjson.dumps({"x": Unserialisable()}, default=lambda o: "D"), '{"x": "D"}')
        with self.assertRaises(TypeError) as caught:
            fastjson.dumps({"x": Unserialisable()})
        self.assertEqual(str(caught.exception), "Object of type Unserialisable is not JSON serializable")
        loop = []
        loop.append(loop)
        with self.assertRaises(ValueError) as caught:
            fastjson.dumps(loop)
        self.assertEqual(str(caught.exception), "Circular reference detected")

    def test_loads_matches_json_results_and_errors(self):
        texts = [
            "1", ' {"a": [1, 2.5, "x\\u00e9", null, true, false]} \n', '"s"', "NaN", "[-Infinity]",
            b'{"b": "\xc3\xa9"}', bytearray(b"[1]"), "\ufeff1", "", "{", "[1] x", '{"a" 1}', b"\xff",
            "1e5", "-0", '"\\ud800"', '{"a": 1, "a": 2}', "[1, 2]".encode("utf-16"),
        ]
        for text in texts:
            outcomes = []
            for loads in (json.loads, fastjson.loads):
                try:
                    outcomes.append(("ok", repr(loads(text))))
                except Exception as e:  # noqa: BLE001 - comparing whatever is raised
                    outcomes.append(("error", type(e).__name__, str(e)))
            self.assertEqual(outcomes[0], outcomes[1], text)


if __name__ == "__main__":
    unittest.main()
