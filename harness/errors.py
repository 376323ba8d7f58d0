"""Errors the CLI turns into exit codes (see README, "Exit codes")."""

from __future__ import annotations


class StwbenchError(Exception):
    """A failure the user can act on; printed without a traceback.

    exit_code 2 is "usage or environment error": bad flags, a patch that does not
    apply, a toolchain that is not what it claims to be, a missing tool.
    """

    exit_code = 2


class UsageError(StwbenchError):
    """The request itself is wrong (flags, files, versions)."""


class EnvironmentProblem(StwbenchError):
    """Something the machine lacks or refuses (Docker, debootstrap, network)."""


class PatchError(StwbenchError):
    """A patch is unsafe or does not apply; nothing has been written."""


class BuildError(StwbenchError):
    """A toolchain build or its verification failed; the cache is unchanged."""
