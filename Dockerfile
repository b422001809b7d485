# syntax=docker/dockerfile:1

# Build stage: a wheel of the project plus wheels of every dependency, so the runtime stage
# installs offline and carries no build tooling.
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
# README.md is the package's long description; the wildcard keeps the build working without it.
COPY pyproject.toml README.md* ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip wheel --wheel-dir /wheels .


# Runtime stage: the installed project in a venv, run as an unprivileged user.
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN groupadd --system --gid 10001 quantumtrade \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin quantumtrade

# Bind-mount the wheels instead of copying them, so they never end up in an image layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels quantumtrade

WORKDIR /app
# DATA_DIR holds the SQLite database in embedded mode; mount a volume here to keep it.
RUN mkdir -p /app/data && chown -R quantumtrade:quantumtrade /app

ENV ENVIRONMENT=production \
    PORT=3001 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data

USER quantumtrade
EXPOSE 3001

# Shell form so ${PORT} is read when the check runs; any error or non-2xx status fails it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/api/health', timeout=4)" || exit 1

CMD ["quantumtrade", "serve"]
