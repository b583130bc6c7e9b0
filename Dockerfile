# One image for the web server, the Celery workers and beat (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY . .

# Static files are collected into the image. The settings refuse to load in production
# without secrets, so collectstatic alone gets throwaway ones that never leave the build.
RUN pip install . \
    && PYTHON=python bin/compile-messages \
    && DEBUG=false SECRET_KEY=build-only SMS_WEBHOOK_SECRET=build-only-build-only-build-only-x \
       python manage.py collectstatic --noinput \
    && useradd --system --home /app app \
    && mkdir -p var && chown -R app var

USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py"]
