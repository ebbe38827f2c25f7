"""The per-branch draft environment on Kubernetes."""
