# syntax=docker/dockerfile:1
# Build: docker build -t paydoctor .                      (reads screenshots: Debian + Tesseract)
#        docker build --target static -t paydoctor .      (distroless, ~15 MB; screenshots off)
# Run:   docker run -d --name paydoctor --env-file paydoctor.env -v paydoctor-data:/data -p 8080:8080 paydoctor
# Stats and backups while it runs (the admin socket is on the volume, next to the database):
#   docker exec paydoctor /bot stats --since 7d
#   docker exec paydoctor /bot backup /data/backup.db && docker cp paydoctor:/data/backup.db .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: no libc needed at run time. The knowledge base is embedded. Tesseract is
# run as a program, not linked, so the binary stays static with or without it.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/bot ./cmd/bot \
 && mkdir -p /out/data

# Without Tesseract: photos get the request for text, and the bot says so at start.
FROM gcr.io/distroless/static-debian12:nonroot AS static
COPY --from=build /out/bot /bot
# The database lives on a volume owned by the nonroot user (uid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV BOT_DB=/data/paydoctor.db \
    BOT_HTTP_ADDR=:8080 \
    BOT_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# No shell or curl in this image: let the orchestrator probe GET /healthz on port 8080.
ENTRYPOINT ["/bot"]

# The default: Debian with Tesseract and its Simplified Chinese and English models, so that
# the screenshots people send are read (docs/screenshots.md). ca-certificates: debian-slim has
# no CA roots, and without them every HTTPS call to Telegram and Slack fails.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/bot /bot
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV BOT_DB=/data/paydoctor.db \
    BOT_HTTP_ADDR=:8080 \
    BOT_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/bot"]
