# Debian 13 (trixie) on purpose: its postgresql-client is PostgreSQL 17, the server of
# docker-compose.yml; kefu_backup refuses a pg_dump of another major version.
FROM python:3.11-slim-trixie
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
# pg_dump and pg_restore for manage.py kefu_backup / kefu_restore.
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      postgresql-client && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml constraints.txt README.md ./
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY . .
# collectstatic needs settings to load; the key is throwaway and only used in this step.
RUN DJANGO_SECRET_KEY=build-only-$(python -c 'import secrets;print(secrets.token_hex(32))') \
    REDIS_URL=redis://redis:6379/0 python manage.py collectstatic --no-input -v 0
# var/media exists (owned by kefu) before the compose volume is mounted on it: a new named
# volume copies its owner, so uploads are writable from the first start.
RUN useradd --system --uid 1000 kefu && mkdir -p /app/var/media && chown -R kefu /app/var
USER kefu
EXPOSE 8000
# The Procfile's web flags (its comment says why: 1 MiB frames, a ping every 20 s, dead
# sockets closed 20 s after an unanswered ping). docker-compose.yml runs this command.
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--lifespan", "off", "--proxy-headers", "--ws-max-size", "1048576", "--ws-ping-interval", "20", "--ws-ping-timeout", "20", "--ws-per-message-deflate", "false"]
