# The dashboard's one image: web, worker, beat and the demo simulator all run from it
# (docker-compose.yml picks the command). The source stays in /app: templates/ and static/
# are found next to manage.py.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WDASH_VAR_DIR=/app/var

RUN useradd --create-home --uid 10001 --user-group wdash
WORKDIR /app

# Dependencies first, so that a change of source does not reinstall them. The image carries
# the simulator's extra (the compose file's demo profile runs it from this image) and the
# LDAP sign-in extra: python-ldap is built here against OpenLDAP's client library, whose -dev
# packages stay (they hold the libraries it links); the compiler leaves at the end.
COPY pyproject.toml README.md ./
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libldap2-dev libsasl2-dev gettext \
    && mkdir -p wincc_bridge wincc_ingest wincc_sim dashboard \
    && touch wincc_bridge/__init__.py wincc_ingest/__init__.py wincc_sim/__init__.py \
       dashboard/__init__.py \
    && pip install '.[sim,ldap]' \
    && pip uninstall --yes wincc-dashboard \
    && rm -rf wincc_bridge wincc_ingest wincc_sim dashboard build *.egg-info

# The German catalogue is compiled here (msgfmt --check, as `make messages` does).
COPY . .
RUN pip install --no-deps -e . \
    && for po in $(find locale -name '*.po'); do \
         msgfmt --check -o "${po%.po}.mo" "$po" || exit 1; done \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && apt-get purge -y --auto-remove gcc gettext && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /app/var && chown -R wdash:wdash /app/var

USER wdash
EXPOSE 8000
CMD ["gunicorn", "dashboard.asgi:application", "--config", "python:dashboard.gunicorn_conf", \
     "--bind", "0.0.0.0:8000"]
