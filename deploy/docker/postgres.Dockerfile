# The platform's PostgreSQL with what its archive_command needs: zstd and age, and the script
# that writes each WAL segment compressed and encrypted into the backup volume.
FROM postgres:15-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends age zstd \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/scripts/wal-archive.sh /usr/local/bin/wal-archive.sh
