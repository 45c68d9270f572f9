# One image for every keyward process: `migrate` (once per deploy), `serve` (the API, any number
# of replicas) and `worker` (the scheduled jobs). Settings come from the environment (README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
# The code runs from /app (the dashboard's static files and the migrations live beside it).
COPY . .

RUN useradd --system --uid 10001 --no-create-home keyward
USER keyward

# 8000: the API; 9100: /metrics when METRICS_PORT=9100 (the compose file sets it).
EXPOSE 8000 9100
ENTRYPOINT ["python", "server.py"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-scheduler"]
