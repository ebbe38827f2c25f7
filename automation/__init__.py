"""envctl: the offline plan and the CI lifecycle on the Pulumi Automation API."""
