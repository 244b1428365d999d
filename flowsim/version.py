"""The version of flowsim, as installed (``pyproject.toml`` declares it once)."""

from importlib import metadata

try:
    VERSION = metadata.version("flowsim")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "unknown"
