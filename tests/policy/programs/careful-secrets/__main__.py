"""Credentials as Pulumi secrets, through stdin, or by reference to a Kubernetes Secret."""

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

connection = command.remote.ConnectionArgs(host="staging.example.com", user="deploy")
db_password = pulumi.Output.secret("s3cr3t-from-config")

# Plain settings only; the password is referenced by the Secret's name.
k8s.core.v1.ConfigMap(
    "app-config",
    metadata={"namespace": "apps", "name": "app-config"},
    data={"LOG_LEVEL": "info", "DB_PASSWORD_SECRET_NAME": "db-creds", "existingSecret": "db"},
)

# The typed Secret marks its data secret.
k8s.core.v1.Secret(
    "db-creds",
    metadata={"namespace": "apps", "name": "db-creds"},
    string_data={"password": db_password},
)

# The script references variables; the values arrive through stdin, marked secret.
command.remote.Command(
    "migrate",
    connection=connection,
    create='umask 077; read -r PGPASSWORD; export PGPASSWORD; psql -h db -U app -c "select 1"',
    stdin=db_password.apply(lambda p: f"{p}\n"),
)
command.remote.Command(
    "login",
    connection=connection,
    create='docker login -u ci --password-stdin "$REGISTRY"',
    stdin=db_password,
)

# The release reads the password from an existing Secret, or gets it as a secret value.
k8s.helm.v3.Release(
    "db",
    chart="postgresql",
    namespace="apps",
    values={"auth": {"username": "app", "existingSecret": "db-creds", "password": db_password}},
)

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
                        "env": [
                            {
                                "name": "DB_PASSWORD",
                                "value_from": {
                                    "secret_key_ref": {"name": "db-creds", "key": "password"}
                                },
                            },
                            {"name": "TOKEN_TTL_SECONDS", "value": "3600"},
                        ],
                    }
                ]
            },
        },
    },
)

# Look-alikes that are not credentials: a working directory, public and lookup keys, and
# commands that prompt for or read their passwords.
k8s.core.v1.ConfigMap(
    "look-alikes",
    metadata={"namespace": "apps", "name": "look-alikes"},
    data={
        "PWD": "/srv/app",
        "CACHE_BYPASS": "enabled",
        "CACHE_KEY": "tasks:v1",
        "SORT_KEY": "created_at",
        "IMAGE_KEY": "draft-feature-x-cbaa909",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_TYooMQauvdEDq54NiTphI7jx",
        "mysql.sh": 'mysql -h db -u app -p tasks\nmysql -h db -u app -p"$DB_PASSWORD" tasks\n',
        "login.sh": 'docker login -u ci --password-stdin "$REGISTRY"\n',
        "probe.sh": 'curl -fsS --user-agent "probe: 1" -u "$PROBE_USER:$PROBE_PASSWORD" "$URL"\n',
        "ssh.sh": "sshpass -e ssh deploy@staging.example.com true\n",
        "redis.sh": 'redis-cli -h cache -a "$REDIS_PASSWORD" ping\n',
    },
)
