"""Parsing and importing the function's handler (``_HANDLER``) the way AWS's Python runtime does.

Accepted forms: ``module.function``, ``package.module.function`` and ``dir/module.function``
(the slash becomes a dot before the import). Failures raise ``FaultException`` with AWS's
error types and messages:

- ``Runtime.MalformedHandlerName``: ``Bad handler 'x': not enough values to unpack (expected 2, got 1)``
- ``Runtime.BuiltInModuleConflict``: ``Cannot use built-in module sys as a handler module``
- ``Runtime.ImportModuleError``: ``Unable to import module 'x': No module named 'x'``
- ``Runtime.UserCodeSyntaxError``: ``Syntax error in module 'x': invalid syntax (x.py, line 1)``
- ``Runtime.HandlerNotFound``: ``Handler 'fn' missing on module 'mod'``

Any other exception raised while the module runs propagates unchanged: the caller reports
it with the exception's own class name, as AWS does.
"""

import importlib
import os
import sys

from .faults import FaultException


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME,
            "Bad handler '{}': {}".format(handler, e),
        )

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, e),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, e),
            trace,
        )

    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
        )


def layer_paths(opt_root="/opt", version=None):
    """The layer directories of the python3.x runtimes, in the order they go on sys.path."""
    major, minor = version or sys.version_info[:2]
    return [
        os.path.join(opt_root, "python"),
        os.path.join(opt_root, "python", "lib", "python%d.%d" % (major, minor), "site-packages"),
    ]


# Where Lambdabox mounts the AWS SDK for Python (boto3), as AWS's runtimes
# include it: after the function's code, its layers and the runtime.
SDK_DIR = "/var/lang/lib/python-sdk"


def build_sys_path(task_root, runtime_dir, current, opt_root="/opt", version=None):
    """sys.path for user code: the task root, the layers, the runtime, the SDK, then the standard library.

    ``current`` is the interpreter's own sys.path (script directory first, then the stdlib).
    """
    front = [task_root] + layer_paths(opt_root, version) + [runtime_dir, SDK_DIR]
    rest = [p for p in current if p and p not in front]
    return front + rest


def add_site_dir_pth(site_dir):
    """Process ``.pth`` files of a layer's site-packages, which AWS treats as a site directory.

    Only when the directory holds ``.pth`` files, so that ``site`` is never imported otherwise.
    """
    try:
        names = os.listdir(site_dir)
    except OSError:
        return
    if any(name.endswith(".pth") for name in names):
        import site

        site.addsitedir(site_dir)
