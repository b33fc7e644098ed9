# Stepscope image: the `stepscope` command as a non-root user (uid 10001). With no arguments it serves the
# dashboard on 0.0.0.0:8501; any other command by argument (`collect --lake s3://...`, `export-audit ...`).
# The dashboard reads STEPSCOPE_LAKE (a mounted folder or s3://bucket/prefix); without it, a simulated demo.
# deploy/entrypoint.sh says what each argument does; deploy/ holds the scheduled-job recipes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STEPSCOPE_PORT=8501
WORKDIR /app

# Only the runtime part of requirements.txt: the pins of the tests and linters stay out of the image.
COPY requirements.txt pyproject.toml ./
RUN sed '/^# Tests and tooling/,$d' requirements.txt >/tmp/runtime.txt \
    && pip install --no-cache-dir -r /tmp/runtime.txt \
    && rm /tmp/runtime.txt
COPY lake lake
COPY collectors collectors
COPY queries queries
COPY dashboard dashboard
COPY stepscope stepscope
COPY .streamlit/config.toml .streamlit/config.toml
COPY slas.yaml access.yaml ./
COPY deploy/entrypoint.sh /usr/local/bin/stepscope-entrypoint
RUN pip install --no-cache-dir --no-deps -e . \
    && chmod 0755 /usr/local/bin/stepscope-entrypoint \
    && useradd --uid 10001 --user-group --create-home stepscope \
    && mkdir -p /data \
    && chown stepscope:stepscope /data
USER 10001:10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 CMD ["stepscope-entrypoint", "health"]
ENTRYPOINT ["stepscope-entrypoint"]
CMD ["serve"]
