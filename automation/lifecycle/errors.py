"""The errors of the lifecycle and the exit code each one means (see DESIGN.md)."""

from __future__ import annotations

PULUMI_INSTALL_HINT = (
    "install it from https://www.pulumi.com/docs/install/ and put 'pulumi' on PATH"
)


class LifecycleError(Exception):
    """An expected failure with a message fit for the user; ``exit_code`` says which kind."""

    exit_code = 1


class BadInput(LifecycleError):
    """Bad input or configuration, found before anything was created (exit 2)."""

    exit_code = 2


class PulumiCliMissing(BadInput):
    """The Pulumi CLI the Automation API drives is not installed (exit 2)."""

    def __init__(self, detail: str = "") -> None:
        reason = f" ({detail})" if detail else ""
        super().__init__(f"the Pulumi CLI was not found{reason}; {PULUMI_INSTALL_HINT}")


class OperationFailed(LifecycleError):
    """An update, smoke test, destroy or remote call failed (exit 1)."""


class StackMissing(LifecycleError):
    """The stack does not exist in the backend."""


class StackLocked(LifecycleError):
    """Another update holds the stack's lock (Pulumi's ConcurrentUpdateError)."""


class LockTimeout(OperationFailed):
    """The stack stayed locked through every retry; nothing was changed (exit 1)."""
