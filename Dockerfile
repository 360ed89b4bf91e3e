# One image for every Driftline process (api, collector, scheduler); the command picks the part.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/driftline
COPY pyproject.toml README.md ./
COPY driftline ./driftline
COPY collector ./collector
COPY detectors ./detectors
COPY alerting ./alerting
COPY dashboards ./dashboards
# Optional extras, e.g. --build-arg EXTRAS=mlflow for the MLflow tag write-back.
ARG EXTRAS=""
RUN /opt/driftline/bin/pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 driftline
COPY --from=build /opt/driftline /opt/driftline
ENV PATH=/opt/driftline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DRIFTLINE_API__HOST=0.0.0.0
USER driftline
WORKDIR /home/driftline
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
ENTRYPOINT ["driftline"]
CMD ["api"]
