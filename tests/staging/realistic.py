"""A test application shaped like a real one, in a local git repository (issue 13).

Many interpolated variables, some without defaults; a postgres that refuses to start
without POSTGRES_USER and POSTGRES_DB; fixed container names and a fixed subnet; the
production hosts in its Traefik labels and in a default; a ``.env.example``; its own
pull-agent that redeploys with ``docker compose -f docker-compose.yml``; a Dockerfile with
a ``RUN`` step and ``COPY . /srv`` (so anything in the checkout lands in the image).
Tags: ``v1``, ``v2`` (healthy), ``needs-smtp`` (one more variable without a default).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from tests.staging.services import BASE_IMAGE, TRAEFIK_IMAGE, Acme, AppRepo, Docker

PRODUCTION_HOSTS = ("scoliologic.example", "auth.scoliologic.example")
SUBNET = "10.123.45.0/24"

COMPOSE = """services:
  app:
    build: .
    container_name: scoliologic-app
    environment:
      NODE_ENV: production
      DATABASE_URL: postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@postgres:5432/${POSTGRES_DB}
      REDIS_URL: redis://redis:6379
      OLLAMA_URL: http://ollama:11434
      JWT_SECRET: ${JWT_SECRET}
      SESSION_SECRET: ${SESSION_SECRET}
      ESIA_CLIENT_ID: ${ESIA_CLIENT_ID}
      ESIA_CLIENT_SECRET: ${ESIA_CLIENT_SECRET}
      ESIA_REDIRECT_URI: ${ESIA_REDIRECT_URI}
      ESIA_ENVIRONMENT: ${ESIA_ENVIRONMENT:-test}
      OAUTH_SERVER_URL: ${OAUTH_SERVER_URL:-https://auth.scoliologic.example/oauth}
      MIS_API_URL: ${MIS_API_URL}
      MIS_API_KEY: ${MIS_API_KEY}
      PUBLIC_URL: ${PUBLIC_URL}
      LOG_LEVEL: ${LOG_LEVEL:-info}
      UPLOAD_LIMIT_MB: ${UPLOAD_LIMIT_MB:-20}
      @EXTRA@
    ports: ["3000:3000"]
    depends_on:
      postgres: {condition: service_healthy}
      redis: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "sh", "-c", "case $$DATABASE_URL in postgresql://:*|*/) exit 1;; esac; wget -q -O /dev/null http://127.0.0.1:3000/api/health"]
      interval: 1s
      timeout: 3s
      retries: 5
    labels:
      - "traefik.enable=true"
      - "traefik.http.routers.scoliologic.rule=Host(`scoliologic.example`)"
      - "traefik.http.routers.scoliologic.tls.certresolver=letsencrypt"
      - "traefik.http.services.scoliologic.loadbalancer.server.port=3000"
  postgres:
    image: @BASE@
    container_name: scoliologic-postgres
    command: ["sh", "-c", "test -n \\"$$POSTGRES_USER\\" && test -n \\"$$POSTGRES_DB\\" || { echo 'POSTGRES_USER and POSTGRES_DB must be set' >&2; exit 1; }; date >> /var/lib/postgresql/data/boots && exec httpd -f -p 5432 -h /var/lib/postgresql/data"]
    environment:
      POSTGRES_USER: ${POSTGRES_USER}
      POSTGRES_DB: ${POSTGRES_DB}
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
    volumes: ["postgres-data:/var/lib/postgresql/data"]
    ports: ["5432:5432"]
    healthcheck: {test: ["CMD", "test", "-f", "/var/lib/postgresql/data/boots"], interval: 1s, retries: 10}
  redis:
    image: @BASE@
    container_name: scoliologic-redis
    command: ["httpd", "-f", "-p", "6379", "-h", "/data"]
    volumes: ["redis-data:/data"]
    healthcheck: {test: ["CMD", "true"], interval: 1s, retries: 10}
  ollama:
    image: @BASE@
    container_name: scoliologic-ollama
    command: ["httpd", "-f", "-p", "11434", "-h", "/root"]
    volumes: ["ollama-data:/root"]
    ports: ["11434:11434"]
  traefik:
    image: traefik:v3.0
    container_name: scoliologic-traefik
    command:
      - "--ping=true"
      - "--api.dashboard=true"
      - "--providers.docker=true"
      - "--providers.docker.exposedbydefault=false"
      - "--entrypoints.web.address=:80"
      - "--entrypoints.websecure.address=:443"
      - "--certificatesresolvers.letsencrypt.acme.httpchallenge=true"
      - "--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web"
      - "--certificatesresolvers.letsencrypt.acme.email=${ACME_EMAIL}"
      - "--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json"
      - "--certificatesresolvers.letsencrypt.acme.caserver=https://pebble:14000/dir"
    environment: ["LEGO_CA_CERTIFICATES=/pebble/cert.pem"]
    ports: ["80:80", "443:443"]
    volumes:
      - "@SOCKET@:/var/run/docker.sock:ro"
      - "@PEBBLE_CERT@:/pebble/cert.pem:ro"
      - "traefik-letsencrypt:/letsencrypt"
    networks: [default, acme]
    healthcheck: {test: ["CMD", "/traefik", "healthcheck", "--ping"], interval: 1s, retries: 20}
    labels:
      - "traefik.enable=true"
      - "traefik.http.routers.dashboard.rule=Host(`traefik.scoliologic.example`)"
      - "traefik.http.routers.dashboard.service=api@internal"
    profiles: [traefik]
  pull-agent:
    image: @BASE@
    container_name: scoliologic-pull-agent
    command: ["sh", "-c", "while true; do echo 'docker compose -f docker-compose.yml build app && docker compose -f docker-compose.yml up -d app' >> /tmp/agent.log; sleep 60; done"]
    environment:
      GIT_TOKEN: ${GIT_TOKEN:-}
      GIT_BRANCH: ${GIT_BRANCH:-main}
networks:
  default:
    ipam:
      config: [{subnet: @SUBNET@}]
  acme:
    external: true
    name: @ACME_NETWORK@
volumes:
  postgres-data: {}
  redis-data: {}
  ollama-data: {}
  traefik-letsencrypt: {}
"""

ENV_EXAMPLE = """# Copy to .env and fill in.
POSTGRES_USER=scoliologic
POSTGRES_DB=scoliologic
POSTGRES_PASSWORD=
JWT_SECRET=
SESSION_SECRET=
ESIA_CLIENT_ID=
ESIA_CLIENT_SECRET=
ESIA_REDIRECT_URI=
MIS_API_URL=
MIS_API_KEY=
PUBLIC_URL=
ACME_EMAIL=
GIT_TOKEN=
"""

DOCKERFILE = f"""FROM {BASE_IMAGE}
COPY . /srv
RUN mkdir -p /srv/www/api && echo ok > /srv/www/api/health && cat /srv/VERSION > /srv/www/version \\
    && echo '<h1>Scoliologic</h1>' > /srv/www/index.html
CMD ["httpd", "-f", "-p", "3000", "-h", "/srv/www"]
"""


def compose_text(docker: Docker, acme: Acme, extra: str = "") -> str:
    values = {
        "@BASE@": BASE_IMAGE,
        "@SOCKET@": str(docker.socket),
        "@PEBBLE_CERT@": str(acme.tls_cert),
        "@ACME_NETWORK@": acme.network,
        "@SUBNET@": SUBNET,
        "@EXTRA@": extra or "TZ: Europe/Moscow",
    }
    text = COMPOSE
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def make_realistic_repo(docker: Docker, acme: Acme) -> AppRepo:
    """The repository, with ``traefik:v3.0`` (what the app pins) made locally from the real
    Traefik test image; staging overrides it through ``staging:images``."""
    docker.run("tag", TRAEFIK_IMAGE, "traefik:v3.0")
    workdir = Path(tempfile.mkdtemp(prefix="stg-realistic-", dir="/tmp"))
    work, bare = workdir / "work", workdir / "app.git"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.test",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.test",
    }

    def git(*args: str, cwd: Path = work) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    work.mkdir()
    git("init", "-q", "-b", "main")
    (work / "Dockerfile").write_text(DOCKERFILE)
    (work / ".env.example").write_text(ENV_EXAMPLE)
    repo = AppRepo(url=str(bare), workdir=workdir)
    for tag, extra in (("v1", ""), ("v2", ""), ("needs-smtp", "SMTP_HOST: ${SMTP_HOST}")):
        (work / "VERSION").write_text(f"{tag}\n")
        (work / "docker-compose.yml").write_text(compose_text(docker, acme, extra))
        git("add", "-A")
        git("commit", "-q", "-m", f"app {tag}")
        git("tag", tag)
        repo.commits[tag] = git("rev-parse", "HEAD")
    git("checkout", "-q", "-B", "main", "v1")
    git("clone", "-q", "--bare", str(work), str(bare), cwd=workdir)
    return repo
