"""envctl: the offline plan and the CI lifecycle on the Pulumi Automation API."""

from pathlib import Path

PROJECT_NAME = "environments"  # Pulumi.yaml's name: stacks of it read only draft: and staging:

# The repository envctl is installed from (editable: Pulumi.yaml and policy/ sit next to
# automation/), the default program and policy pack of `envctl plan` and `envctl name`
# wherever the shell is; the current directory for an install without the repository.
_CHECKOUT = Path(__file__).resolve().parent.parent
PROJECT_ROOT = _CHECKOUT if (_CHECKOUT / "Pulumi.yaml").is_file() else Path(".")
