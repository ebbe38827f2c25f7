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

# Marked secret, but a ConfigMap is not a secret store: the cluster shows it to any reader.
k8s.core.v1.ConfigMap(
    "marked-secret",
    metadata={"namespace": "apps", "name": "marked-secret"},
    data={"LOG_LEVEL": "info", "DB_PASSWORD": pulumi.Output.secret("hunter2-but-longer")},
)
k8s.core.v1.ConfigMap(
    "all-secret",
    metadata={"namespace": "apps", "name": "all-secret"},
    data=pulumi.Output.secret({"settings": "mode=fast"}),
)

# Credentials under the names people give them.
k8s.core.v1.ConfigMap(
    "named-credentials",
    metadata={"namespace": "apps", "name": "named-credentials"},
    data={
        "DB_PASS": "hunter2-but-longer",
        "MYSQL_PWD": "hunter2-but-longer",
        "pwd": "hunter2-but-longer",
        "SECRET_KEY_BASE": "9f3b2c1d8e7a6b5c4d3e2f1a0b9c8d7e",
        "ssh_key": "AAAAC3NzaC1lZDI1NTE5AAAAIhunter2",
        "private_key_pem": "MIIEvQIBADANBgkqhkiG9w0BAQEFAAS",
        "smtp_pass": "hunter2-but-longer",
        "STRIPE_KEY": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    },
)

# Passwords on command lines, in a script ConfigMap and in a remote command.
k8s.core.v1.ConfigMap(
    "scripts",
    metadata={"namespace": "apps", "name": "scripts"},
    data={
        "mysql.sh": "mysql -h db -u app -phunter2-but-longer tasks < dump.sql\n",
        "login.sh": "docker login -u ci -p hunter2-but-longer registry.example.com\n",
        "probe.sh": "curl -fsS -u admin:hunter2-but-longer https://app.example.com/healthz\n",
        "ssh.sh": "sshpass -p hunter2-but-longer ssh deploy@staging.example.com true\n",
        "redis.sh": "redis-cli -h cache -a hunter2-but-longer ping\n",
    },
)
command.remote.Command(
    "backup",
    connection=connection,
    create="mysqldump -u backup -phunter2-but-longer tasks > /backup/tasks.sql",
)
