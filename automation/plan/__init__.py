"""The offline plan: run a Pulumi program under the mock runtime and record what it registers."""
