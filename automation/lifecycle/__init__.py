"""The CI lifecycle of drafts and staging on the Pulumi Automation API."""
