# Stepscope dashboard image. Point it at a lake with STEPSCOPE_LAKE (a mounted folder or s3://bucket/prefix);
# without one it builds and serves the simulated demo lake.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STEPSCOPE_LAKE=/data/lake
WORKDIR /app

COPY requirements.txt pyproject.toml ./
RUN pip install -r requirements.txt
COPY lake lake
COPY collectors collectors
COPY queries queries
COPY dashboard dashboard
COPY stepscope stepscope
COPY .streamlit .streamlit
COPY slas.yaml ./
RUN pip install --no-deps -e . && useradd --create-home stepscope && mkdir -p /data && chown stepscope /data
USER stepscope

EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["sh", "-c", "[ -f \"$STEPSCOPE_LAKE/_stepscope.json\" ] || case \"$STEPSCOPE_LAKE\" in s3://*) ;; *) stepscope demo --lake \"$STEPSCOPE_LAKE\";; esac; exec stepscope serve --address 0.0.0.0 --port 8501"]
