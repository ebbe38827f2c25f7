"""Credentials written in plain text where the state, the logs and the cluster show them."""

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

connection = command.remote.ConnectionArgs(host="staging.example.com", user="deploy")

# A secret in a ConfigMap.
k8s.core.v1.ConfigMap(
    "app-config",
    metadata={"namespace": "apps", "name": "app-config"},
    data={"LOG_LEVEL": "info", "DB_PASSWORD": "hunter2-but-longer"},
)

# A Secret registered as a raw object, so the SDK cannot mark its data secret...
pulumi.CustomResource(
    "kubernetes:core/v1:Secret",
    "raw-secret",
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"namespace": "apps", "name": "raw"},
        "stringData": {"password": "hunter2-but-longer"},
    },
)

# ...and one pasted in as YAML.
k8s.yaml.v2.ConfigGroup(
    "pasted",
    yaml="""
apiVersion: v1
kind: Secret
metadata:
  name: pasted
  namespace: apps
stringData:
  password: hunter2-but-longer
""",
)

# Credentials in a remote command's script and stdin, in clear.
command.remote.Command(
    "migrate",
    connection=connection,
    create="export PGPASSWORD=hunter2-but-longer && psql -h db -U app -c 'select 1'",
    stdin="API_TOKEN=glpat-abcdefghijklmnopqrst\n",
)

# A secret, correctly marked, but inside the command text that failures echo.
db_password = pulumi.Output.secret("s3cr3t-from-config")
command.remote.Command(
    "login",
    connection=connection,
    create=db_password.apply(lambda p: f"docker login -u ci -p {p} registry.example.com"),
)

# A Helm release with a password in its values.
k8s.helm.v3.Release(
    "db",
    chart="postgresql",
    namespace="apps",
    values={"auth": {"username": "app", "password": "hunter2-but-longer"}},
)

# A workload with a literal password in its environment.
k8s.apps.v1.Deployment(
    "api",
    metadata={"namespace": "apps", "name": "api"},
    spec={
        "selector": {"match_labels": {"app": "api"}},
        "template": {
            "metadata": {"labels": {"app": "api"}},
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "image": "registry.example.com/api:1.2.3",
                        "env": [{"name": "DB_PASSWORD", "value": "hunter2-but-longer"}],
                    }
                ]
            },
        },
    },
)
