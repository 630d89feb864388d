# One image for every process of the Procfile (Rasa, action server, web app, follow-up scheduler)
# and the one-shot migrations; the first argument picks the process (deploy/entrypoint.sh):
#   docker run IMAGE rasa | actions | web | outreach | migrate | cli ARGS...
# The model is trained during the build from the same sources, or mounted over /app/models.
# How to run it with compose or Kubernetes: docs/deploy.md.

FROM python:3.10-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1
WORKDIR /app
# The virtualenv sits where the Procfile expects it (.venv/bin/python), so its commands run unchanged.
# The same pins and the same pip as scripts/bootstrap.sh; every package has a wheel or is pure Python.
COPY requirements.lock ./
RUN python -m venv .venv \
 && .venv/bin/python -m pip install --quiet "pip==24.2" \
 && .venv/bin/python -m pip install --quiet -r requirements.lock \
 && .venv/bin/python -m pip check
COPY . .

# The model, trained from the sources copied above (as `make setup` trains it).
FROM runtime AS model
RUN .venv/bin/rasa train --fixed-model-name assistant --out models --quiet

FROM runtime
COPY --from=model /app/models/assistant.tar.gz models/assistant.tar.gz
# A numeric non-root user, so that Kubernetes' runAsNonRoot can verify it; var/ is its only
# writable directory (Rasa's rendered endpoints/credentials, nothing else: state is in PostgreSQL).
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p var && chown app:app var && chmod 0700 var
USER 10001:10001
# Rasa's telemetry off (it would write ~/.config); HOME and caches (jieba's, matplotlib's) in /tmp.
ENV HOME=/tmp RASA_TELEMETRY_ENABLED=false MPLCONFIGDIR=/tmp/matplotlib
EXPOSE 5005 5055 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
  CMD [".venv/bin/python", "deploy/healthcheck.py"]
ENTRYPOINT ["deploy/entrypoint.sh"]
CMD ["rasa"]
