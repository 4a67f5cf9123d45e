# scikit-learn from Debian's packages, imported as a local image by scripts/setup/images.sh:
# no registry is needed to build or run it.
FROM mlw-test/python-sklearn:bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /workspace
